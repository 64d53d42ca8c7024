import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { Counter, Gauge, Histogram } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { classifyRedisError, unreadChangedKey, type UnreadChanged, type UnreadEvent } from '@app/contracts';
import {
  AccountTotalsReader,
  FeedVersions,
  ProjectionStore,
  REDIS,
  badgeOf,
  readAccountsUnread,
  generationKeys,
  type AccountUnread,
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

/** The accounts a batch's events are about, each once (first appearance order), with its newest source timestamp. */
export function feedAccountsOfBatch(entries: readonly { event: UnreadEvent; message?: Pick<KafkaMessage, 'timestamp'> }[]): (FeedAccount & { sourceTime: number })[] {
  const byKey = new Map<string, FeedAccount & { sourceTime: number }>();
  for (const { event, message } of entries) {
    const time = message ? Number(message.timestamp) : 0;
    for (const account of feedAccountsOf(event)) {
      const key = unreadChangedKey(event.appId, account);
      const seen = byKey.get(key);
      if (seen) seen.sourceTime = Math.max(seen.sourceTime, time);
      else byKey.set(key, { app: event.appId, account, sourceTime: time });
    }
  }
  return [...byKey.values()];
}

/** What the feed needs of the batch it reports on. */
export type FeedBatch = Pick<RecordBatch, 'topic' | 'partition' | 'prevOffset' | 'heartbeat' | 'isRunning'>;

/**
 * Writes the change feed (docs/events.md, "The change feed"): after a batch's writes and
 * position were acknowledged by Redis, one record per account the batch is about, with its
 * totals; resolved only when the broker acknowledged every record (acks = all), before the
 * handler answers "applied", so no source offset is committed past an unreported change.
 *
 * Exact at rest with several writers: per account, (1) bump its version (feed-version.lua,
 * the account's slot), (2) read its totals, (3) produce them with that version, (4) once
 * acknowledged read the version again; when it moved, another writer bumped it after us and
 * its record may land before ours, so the account goes round again. The last record on the
 * topic for an account was therefore read after the last write about it (the argument is in
 * docs/events.md). Each step is one round trip per Redis node for all accounts of the batch.
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
  /** Resolved when the publish before the next one is done (publishes run one at a time). */
  private turn: Promise<void> = Promise.resolve();
  private readonly records: Counter;
  private readonly repeats: Counter;
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
    // One batch's feed steps at a time in this process: concurrent partitions' batches name the
    // same accounts (a recipient's conversations hash to every partition), and interleaved
    // steps would move each other's versions and send every account round again.
    const before = this.turn;
    let done!: () => void;
    this.turn = new Promise<void>((r) => (done = r));
    await before;
    try {
      await this.publishAlone(batch, entries);
    } finally {
      done();
    }
  }

  private async publishAlone(batch: FeedBatch, entries: readonly { event: UnreadEvent; message?: Pick<KafkaMessage, 'timestamp'> }[]): Promise<void> {
    let pending = feedAccountsOfBatch(entries);
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) {
        this.repeats.inc(pending.length);
        // Two writers of one account go round together only as long as their steps interleave: a random pause ends that.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** round)));
      }
      const versions = await this.retrying(batch, 'redis', () => this.versions.bump(pending));
      const records = await this.retrying(batch, 'redis', () => this.read(pending, versions));
      await this.retrying(batch, 'produce', () => this.send(records));
      this.records.inc(records.length);
      if (round === 0) {
        const now = Date.now();
        for (const a of pending) if (a.sourceTime > 0) this.lag.observe(Math.max(0, now - a.sourceTime) / 1000);
      }
      const after = await this.retrying(batch, 'redis', () => this.versions.read(pending));
      pending = pending.filter((_, i) => after[i] !== versions[i]);
    }
  }

  /** The records of `accounts` at `versions`, read from the generation active now (a switch may have happened since the batch). */
  private async read(accounts: readonly FeedAccount[], versions: readonly number[]): Promise<UnreadChanged[]> {
    const active = await this.redis.get(generationKeys(this.base).active);
    const store = this.store.forGeneration(this.base, active === null ? 0 : Number(active));
    const reader = new AccountTotalsReader(store);
    const time = Date.now();
    // The badge as the summary API counts it (badgeOf, libs/store/src/account-unread.ts: only
    // AcceptAndNotify conversations), from the same generation, read after the version bump.
    const [totals, unread] = await Promise.all([reader.readMany(accounts, time), this.unreadOf(store, accounts)]);
    return accounts.map((a, i) => {
      const t = totals[i]!;
      const badge = badgeOf(unread[i]!, t.channels);
      return { type: 'unread-changed', appId: a.app, account: a.account, c2c: t.c2c, groups: t.groups, channels: t.channels, badge, version: versions[i]!, time };
    });
  }

  /** Each account's one-to-one peers, groups and receive options (what the badge needs), per app in one read. */
  private async unreadOf(store: ProjectionStore, accounts: readonly FeedAccount[]): Promise<AccountUnread[]> {
    const byApp = new Map<string, number[]>();
    accounts.forEach((a, i) => {
      const list = byApp.get(a.app);
      if (list) list.push(i);
      else byApp.set(a.app, [i]);
    });
    const out: AccountUnread[] = new Array<AccountUnread>(accounts.length);
    await Promise.all(
      [...byApp].map(async ([app, idx]) => {
        const read = await readAccountsUnread(store, app, idx.map((i) => accounts[i]!.account));
        idx.forEach((i, k) => (out[i] = read[k]!));
      }),
    );
    return out;
  }

  private async send(records: readonly UnreadChanged[]): Promise<void> {
    this.connecting ??= this.producer!.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    await this.connecting;
    await this.producer!.send({
      topic: this.topic,
      acks: -1,
      messages: records.map((r) => ({ key: unreadChangedKey(r.appId, r.account), value: JSON.stringify(r) })),
    });
  }

  /** Runs `work` until it succeeds (backing off 100 ms doubling to 5 s, heartbeating), unless the batch stops running. */
  private async retrying<T>(batch: FeedBatch, what: 'redis' | 'produce', work: () => Promise<T>): Promise<T> {
    let delay = 100;
    let waiting = false;
    try {
      for (let attempt = 1; ; attempt++) {
        const beat = setInterval(() => void batch.heartbeat().catch(() => undefined), 1_000);
        try {
          return await work();
        } catch (err) {
          if (!batch.isRunning()) throw err;
          this.retries.inc({ what });
          // Never dropped: whatever the classifier says (even a refusal), the batch waits here and
          // retries; a Redis error is counted and shown (/ready) like the batch's own writes'.
          let cls = '';
          if (what === 'redis') {
            const verdict = classifyRedisError(err);
            const c = verdict.kind === 'wait' ? verdict.class : 'unknown';
            cls = ` (${c})`;
            this.waits.begin(batch.topic, batch.partition, batch.prevOffset + 1n, c, (err as Error).message);
            this.metrics.redisWaits.inc({ class: c });
          }
          if (!waiting) {
            waiting = true;
            this.blocked.inc();
          }
          if (attempt === 1 || attempt % 10 === 0) {
            const where = what === 'produce' ? `writing the change feed (${this.topic})` : 'reading the change feed totals';
            this.logger.warn(`${where} failed for ${batch.topic}[${batch.partition}]${cls} (attempt ${attempt}); the batch waits: ${(err as Error).message}`);
          }
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5_000);
          await batch.heartbeat().catch(() => undefined);
        } finally {
          clearInterval(beat);
        }
      }
    } finally {
      if (waiting) {
        this.blocked.dec();
        if (what === 'redis') this.waits.end(batch.topic, batch.partition);
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.connecting) await this.producer?.disconnect().catch(() => undefined);
  }
}
