import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { Counter, Gauge, Histogram } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { classifyRedisError, unreadChangedKey, type UnreadChanged, type UnreadEvent } from '@app/contracts';
import {
  AccountTotalsReader,
  FeedVersions,
  GENERATIONS,
  Generations,
  ProjectionStore,
  REDIS,
  type FeedAccount,
  type RedisClient,
} from '@app/store';
import type { RecordBatch } from './kafka-batch.transport';
import { PartitionWaits } from './partition-waits';
import { ProjectorMetrics } from './projector.metrics';
import { KAFKA } from './projector.tokens';

/**
 * The accounts an event is about, whose totals the change feed reports after it is applied
 * (docs/events.md, "The change feed"). Events that change the counts of every member of a
 * group or channel (group messages, @all and role mentions, a group's dismissal, a
 * channel's deletion) name no one: they stay O(1) per event, and a push service asks the
 * batch API for the members it notifies.
 */
export function feedAccountsOf(e: UnreadEvent): string[] {
  switch (e.type) {
    case 'message-sent':
      // A message to oneself, or one that does not count (noUnread), counts for no one.
      return e.scope === 'c2c' && e.from !== e.to && e.noUnread !== true ? [e.to] : [];
    case 'read-ack':
    case 'group-unread-set':
    case 'account-registered':
    case 'account-deleted':
    case 'group-member-joined':
    case 'group-member-left':
    case 'qchat-server-member-joined':
    case 'qchat-server-member-left':
    case 'qchat-role-member-added':
    case 'qchat-role-member-removed':
      return [e.account];
    case 'channel-mention':
      // Accounts named directly; @all and role mentions are the channel's, not theirs.
      return [...new Set(e.mentionAccids ?? [])];
    case 'receive-option-set':
      // Its own receive option moves its badge.
      return [e.account];
    case 'message-recalled':
      // A one-to-one recall is its recipient's; a group recall is every member's (O(1), no one named).
      return e.scope === 'c2c' && e.from !== e.to ? [e.to] : [];
    default:
      return [];
  }
}

/** The accounts a batch's events are about, each once (first appearance order), with its key (unreadChangedKey) and newest source timestamp. */
export function feedAccountsOfBatch(entries: readonly { event: UnreadEvent; message?: Pick<KafkaMessage, 'timestamp'> }[]): FeedAccountOfBatch[] {
  const byKey = new Map<string, FeedAccountOfBatch>();
  for (const { event, message } of entries) {
    const accounts = feedAccountsOf(event);
    if (accounts.length === 0) continue;
    const time = message ? Number(message.timestamp) : 0;
    for (const account of accounts) {
      const key = unreadChangedKey(event.appId, account);
      const seen = byKey.get(key);
      if (seen) {
        if (time > seen.sourceTime) seen.sourceTime = time;
      } else byKey.set(key, { app: event.appId, account, key, sourceTime: time });
    }
  }
  return [...byKey.values()];
}

/** An account of a batch (feedAccountsOfBatch). */
export interface FeedAccountOfBatch extends FeedAccount {
  key: string;
  sourceTime: number;
}

/** What the feed needs of the batch it reports on. */
export type FeedBatch = Pick<RecordBatch, 'topic' | 'partition' | 'prevOffset' | 'heartbeat' | 'isRunning'>;

/** A batch waiting for its accounts' records (ChangeFeed.publish). */
interface Waiter {
  batch: FeedBatch;
  /** Its accounts not yet reported by a round that started after it was added. */
  outstanding: number;
  settled: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** An account to report, and the batches waiting for its record. */
interface Entry extends FeedAccountOfBatch {
  waiters: Waiter[];
}

/** Records per produce request at most (the rest of a round goes in further requests, sent together). */
const RECORDS_PER_SEND = 1_000;

/** Rounds in flight at once per process: while one waits for the broker, the next reads. */
const ROUNDS_IN_FLIGHT = 2;

/**
 * Writes the change feed (docs/events.md, "The change feed"): after a batch's writes and
 * position were acknowledged by Redis, one record per account the batch is about, with its
 * totals; resolved only when the broker acknowledged every record (acks = all), before the
 * handler answers "applied", so no source offset is committed past an unreported change.
 *
 * Coalesced: publish() adds the batch's accounts to a pending set and resolves once each of
 * them was reported by a round that started after that (so read after the batch's writes).
 * A round takes every pending account that no round in flight holds (at most
 * ROUNDS_IN_FLIGHT run at once; an account held by one waits for the next), so batches that
 * arrive while rounds run share the next one: one record per account per round.
 *
 * Exact at rest with several writers: per account of a round, (1) bump its version
 * (feed-version.lua, the account's slot), (2) read its totals, (3) produce them with that
 * version, (4) once acknowledged read the version again; when it moved, another writer
 * bumped it after us and its record may land before ours, so the account goes round again
 * (within the same round). The last record on the topic for an account was therefore read
 * after the last write about it (the argument is in docs/events.md). Each step is one or
 * two round trips per Redis node for all accounts of the round.
 */
@Injectable()
export class ChangeFeed implements OnModuleDestroy {
  private readonly logger = new Logger('ChangeFeed');
  private readonly enabled: boolean;
  private readonly topic: string;
  private readonly base: string;
  private readonly producer?: Producer;
  private readonly versions: FeedVersions;
  private connecting?: Promise<void>;
  /** Accounts to report, not yet taken by a round (key: unreadChangedKey). */
  private readonly pending = new Map<string, Entry>();
  /** Accounts a round in flight holds. */
  private readonly inFlight = new Set<string>();
  private rounds = 0;
  /** Batches not yet answered. */
  private readonly waiting = new Set<Waiter>();
  /** Batches some round is retrying for, with how many rounds (unread_feed_blocked_batches counts each once). */
  private readonly blockedBy = new Map<Waiter, number>();
  private readonly records: Counter;
  private readonly repeats: Counter;
  private readonly roundSize: Histogram;
  private readonly retries: Counter<'what'>;
  private readonly blocked: Gauge;
  private readonly lag: Histogram;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly store: ProjectionStore,
    private readonly metrics: ProjectorMetrics,
    private readonly waits: PartitionWaits,
    @Inject(GENERATIONS) private readonly generations: Generations,
  ) {
    this.enabled = config.changeFeed.enabled;
    this.topic = config.kafka.topics.unreadChanged;
    this.base = config.redis.keyPrefix;
    this.versions = new FeedVersions(redis, this.base);
    if (this.enabled) this.producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
    const registers = [metrics.registry];
    this.records = new Counter({ name: 'unread_feed_records_total', help: 'Records written to the change feed (acknowledged by the broker)', registers });
    this.repeats = new Counter({
      name: 'unread_feed_repeats_total',
      help: "Change-feed records written again because another writer moved the account's version meanwhile",
      registers,
    });
    this.roundSize = new Histogram({
      name: 'unread_feed_round_accounts',
      help: 'Accounts one change-feed round reported together (the records of many batches)',
      buckets: [1, 10, 100, 1_000, 10_000],
      registers,
    });
    this.retries = new Counter({ name: 'unread_feed_retries_total', help: 'Retries of the change feed: Redis reads or produces to the feed topic', labelNames: ['what'], registers });
    for (const what of ['redis', 'produce']) this.retries.inc({ what }, 0);
    this.blocked = new Gauge({ name: 'unread_feed_blocked_batches', help: 'Batches waiting because the change feed cannot be written (their offsets are not committed)', registers });
    this.lag = new Histogram({
      name: 'unread_feed_lag_seconds',
      help: "From the source record's timestamp to its change-feed record being acknowledged",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  /** Reports the accounts of an applied batch; waits (retrying) while Redis or the feed topic cannot be reached. */
  async publish(batch: FeedBatch, entries: readonly { event: UnreadEvent; message?: Pick<KafkaMessage, 'timestamp'> }[]): Promise<void> {
    if (!this.enabled) return;
    const accounts = feedAccountsOfBatch(entries);
    if (accounts.length === 0) return;
    const done = new Promise<void>((resolve, reject) => {
      const w: Waiter = { batch, outstanding: accounts.length, settled: false, resolve, reject };
      this.waiting.add(w);
      for (const a of accounts) {
        const entry = this.pending.get(a.key);
        if (entry) {
          if (a.sourceTime > entry.sourceTime) entry.sourceTime = a.sourceTime;
          entry.waiters.push(w);
        } else {
          this.pending.set(a.key, { app: a.app, account: a.account, key: a.key, sourceTime: a.sourceTime, waiters: [w] });
        }
      }
    });
    this.startRounds();
    return done;
  }

  /** Starts rounds while fewer than ROUNDS_IN_FLIGHT run and some pending account is free. */
  private startRounds(): void {
    while (this.rounds < ROUNDS_IN_FLIGHT && this.pending.size > 0) {
      const taken: Entry[] = [];
      for (const [key, e] of this.pending) {
        if (this.inFlight.has(key)) continue;
        taken.push(e);
        this.pending.delete(key);
        this.inFlight.add(key);
      }
      if (taken.length === 0) return;
      this.rounds++;
      void this.round(taken).finally(() => {
        this.rounds--;
        for (const e of taken) this.inFlight.delete(e.key);
        this.startRounds();
      });
    }
  }

  /** Reports `entries` (repeating those another writer moved meanwhile), then answers their batches. */
  private async round(entries: Entry[]): Promise<void> {
    this.roundSize.observe(entries.length);
    const waiters = new Set(entries.flatMap((e) => e.waiters));
    try {
      let current: Entry[] = entries;
      for (let repeat = 0; current.length > 0; repeat++) {
        if (repeat > 0) {
          this.repeats.inc(current.length);
          // Two writers of one account go round together only as long as their steps interleave: a random pause ends that.
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** repeat)));
        }
        const accounts = current;
        const calls = this.versions.calls(accounts);
        const versions = await this.retrying(waiters, 'redis', () => this.versions.bump(calls));
        const records = await this.retrying(waiters, 'redis', () => this.read(accounts, versions));
        await this.retrying(waiters, 'produce', () => this.send(accounts, records));
        this.records.inc(records.length);
        if (repeat === 0) {
          const now = Date.now();
          for (const a of accounts) if (a.sourceTime > 0) this.lag.observe(Math.max(0, now - a.sourceTime) / 1000);
        }
        const after = await this.retrying(waiters, 'redis', () => this.versions.read(calls));
        current = [];
        accounts.forEach((e, i) => {
          if (after[i] !== versions[i]) current.push(e);
          else for (const w of e.waiters) if (--w.outstanding === 0) this.settle(w);
        });
      }
    } catch (err) {
      // Every batch of the round stopped running (rebalance, shutdown): none is answered
      // applied, so each is redelivered and reported again.
      for (const w of waiters) this.settle(w, err);
    }
  }

  private settle(w: Waiter, err?: unknown): void {
    if (w.settled) return;
    w.settled = true;
    this.waiting.delete(w);
    if (err === undefined) w.resolve();
    else w.reject(err);
  }

  /** The records of `accounts` at `versions`, read from the generation active now (a switch may have happened since the batch). */
  private async read(accounts: readonly FeedAccount[], versions: readonly number[]): Promise<UnreadChanged[]> {
    const { active } = await this.generations.read();
    const store = this.store.forGeneration(this.base, active);
    const time = Date.now();
    // The totals and badge as the summary API counts them (AccountTotalsReader.readMany), read after the version bump.
    const totals = await new AccountTotalsReader(store).readMany(accounts, time);
    return accounts.map((a, i) => {
      const t = totals[i]!;
      return { type: 'unread-changed', appId: a.app, account: a.account, c2c: t.c2c, groups: t.groups, channels: t.channels, badge: t.badge, version: versions[i]!, time };
    });
  }

  /** Produces `records`, each keyed by its entry's key (`entries[i].key`, unreadChangedKey), acks = all. */
  private async send(entries: readonly Entry[], records: readonly UnreadChanged[]): Promise<void> {
    this.connecting ??= this.producer!.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    await this.connecting;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < records.length; i += RECORDS_PER_SEND) {
      const messages: { key: string; value: string }[] = [];
      for (let j = i; j < Math.min(records.length, i + RECORDS_PER_SEND); j++) messages.push({ key: entries[j]!.key, value: JSON.stringify(records[j]) });
      sends.push(this.producer!.send({ topic: this.topic, acks: -1, messages }));
    }
    await Promise.all(sends);
  }

  /**
   * Runs `work` until it succeeds (backing off 100 ms doubling to 5 s, heartbeating every
   * waiting batch). A batch that stops running meanwhile is answered with the error (it is
   * not applied, so redelivered); when none of the round's is left, the round ends with it.
   */
  private async retrying<T>(waiters: Set<Waiter>, what: 'redis' | 'produce', work: () => Promise<T>): Promise<T> {
    let delay = 100;
    const blocked: Waiter[] = [];
    const beatAll = (): void => {
      for (const w of this.waiting) void w.batch.heartbeat().catch(() => undefined);
    };
    try {
      for (let attempt = 1; ; attempt++) {
        const beat = setInterval(beatAll, 1_000);
        try {
          return await work();
        } catch (err) {
          for (const w of waiters) {
            if (w.settled) waiters.delete(w);
            else if (!w.batch.isRunning()) {
              this.settle(w, err);
              waiters.delete(w);
            }
          }
          if (waiters.size === 0) throw err;
          this.retries.inc({ what });
          // Never dropped: whatever the classifier says (even a refusal), the batches wait here and
          // retry; a Redis error is counted and shown (/ready) like the batches' own writes'.
          let cls = '';
          if (what === 'redis') {
            const verdict = classifyRedisError(err);
            const c = verdict.kind === 'wait' ? verdict.class : 'unknown';
            cls = ` (${c})`;
            this.metrics.redisWaits.inc({ class: c });
            for (const w of waiters) if (!blocked.includes(w)) this.waits.begin(w.batch.topic, w.batch.partition, w.batch.prevOffset + 1n, c, (err as Error).message);
          }
          for (const w of waiters) {
            if (blocked.includes(w)) continue;
            blocked.push(w);
            this.blockedBy.set(w, (this.blockedBy.get(w) ?? 0) + 1);
          }
          this.blocked.set(this.blockedBy.size);
          if (attempt === 1 || attempt % 10 === 0) {
            const where = what === 'produce' ? `writing the change feed (${this.topic})` : 'reading the change feed totals';
            const parts = [...waiters].map((w) => `${w.batch.topic}[${w.batch.partition}]`).join(', ');
            this.logger.warn(`${where} failed for ${parts}${cls} (attempt ${attempt}); the batch waits: ${(err as Error).message}`);
          }
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5_000);
          beatAll();
        } finally {
          clearInterval(beat);
        }
      }
    } finally {
      for (const w of blocked) {
        const n = (this.blockedBy.get(w) ?? 1) - 1;
        if (n > 0) this.blockedBy.set(w, n);
        else this.blockedBy.delete(w);
        // only once no round waits for it (another round may still be retrying for the batch)
        if (what === 'redis' && n <= 0) this.waits.end(w.batch.topic, w.batch.partition);
      }
      if (blocked.length > 0) this.blocked.set(this.blockedBy.size);
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.connecting) await this.producer?.disconnect().catch(() => undefined);
  }
}
