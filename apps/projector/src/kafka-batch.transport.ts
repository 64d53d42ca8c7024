import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { lastValueFrom, isObservable } from 'rxjs';

/**
 * Fetch settings of the projector's consumer (the benchmark's baseline consumer uses the
 * same, so the comparison is fair). Partitions are independent (projections commute across
 * them): every owned partition is in flight at once, so one slow partition never holds the
 * others back. The idle wait bounds how long a fetch is held when no partition has data;
 * short, it keeps freshness low on brokers that do not answer as soon as data arrives (the
 * mock cluster).
 */
export const FETCH_SETTINGS = { maxWaitTimeInMs: 20, partitionsConsumedConcurrently: 32 } as const;

/** The pattern the projector's batch handler listens on. */
export const BATCH_PATTERN = 'unread.batch';

/** What the batch handler receives: the records of one partition, in order. */
export interface RecordBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /**
   * The last offset of the batch before this one, which Redis must already hold for this
   * batch to continue it (-1: none). The handler records the batch's position only from
   * there (positions.lua).
   */
  prevOffset: bigint;
  lastOffset: bigint;
  /** Keeps the consumer's group membership alive during long work (retries). */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping, the partition was revoked or rewound: stop retrying. */
  isRunning(): boolean;
}

/** What the handler answers: applied and recorded, or Redis holds the partition only up to `heldOffset`. */
export type BatchOutcome = { applied: true } | { applied: false; heldOffset: bigint };

/** A partition the projector cannot continue: Redis is behind and the log no longer has what it misses. */
export interface BehindPartition {
  topic: string;
  partition: number;
  /** What Redis holds (-1: nothing). */
  heldOffset: bigint;
  /** The first offset the log still has. */
  logStart: bigint;
}

export interface KafkaBatchTransportOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Test hook: read from the start when the group has no committed offsets. */
  fromBeginning?: boolean;
  /** Events fetched but not yet applied, at most (back-pressure on the fetch loop). Default 50 000. */
  maxInFlightEvents?: number;
  /** Bytes of fetched, unapplied records, at most. Default 64 MiB. */
  maxInFlightBytes?: number;
  /** Applied positions are committed to Kafka at most this often (coalesced). Default 100 ms. */
  commitIntervalMs?: number;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Bumped on every rewind or revocation: queued batches of an older epoch are dropped. */
  epoch: number;
  /** Last offset handed to the handler in this epoch (undefined: not known yet, take the committed offset). */
  lastQueued?: bigint;
  /** Last offset applied and recorded in Redis. */
  applied?: bigint;
  /** Applied beyond what was committed. */
  dirty: boolean;
  /** Batches of this partition waiting to be applied, in log order. */
  queue: Item[];
  /** The partition's applier while it runs (batches of one partition apply one after the other). */
  chain: Promise<void>;
  running: boolean;
  behind?: BehindPartition;
}

interface Item {
  state: PartitionState;
  epoch: number;
  messages: KafkaMessage[];
  prev: bigint;
  last: bigint;
  bytes: number;
  payload: EachBatchPayload;
}

const tp = (topic: string, partition: number) => `${topic}/${partition}`;

/** Queued batches of one partition handed to the handler together, at most. */
const MERGE_BATCHES = 16;

/**
 * A Nest microservice transport over kafkajs `eachBatch` (the stock Kafka transport hands
 * over one message at a time), built so that fetching, applying and committing overlap:
 *
 * - `eachBatch` only queues the batch and resolves its offsets, so kafkajs fetches on while
 *   batches are applied. In-flight work is bounded (events and bytes): when the bound is
 *   reached `eachBatch` waits, which holds the fetch loop (back-pressure, not heap growth).
 * - Each partition's batches are handed to the handler (BATCH_PATTERN) one after the other,
 *   in log order; batches that queued up meanwhile are handed over together (up to 16);
 *   partitions run concurrently.
 * - Offsets are committed asynchronously and coalesced (every `commitIntervalMs`), and only
 *   positions the handler applied and recorded in Redis. A crash between apply and commit
 *   re-delivers applied batches, which change nothing (every projection is idempotent).
 * - When the handler finds that Redis holds less than it applied (a failover to a stale
 *   replica, a Redis restarted empty or restored from an old snapshot: the positions in
 *   positions.lua), the partition is rewound: queued batches are dropped and the consumer
 *   seeks back to what Redis holds, so the missing events are applied again. If the log no
 *   longer has them, the partition is paused and reported (`behind()`), never skipped.
 */
export class KafkaBatchTransport extends Server implements CustomTransportStrategy {
  protected readonly logger = new Logger('KafkaBatchTransport');
  private consumer?: Consumer;
  private admin?: Admin;
  private closing = false;
  private joined = false;
  private readonly partitions = new Map<string, PartitionState>();
  private committed = new Map<string, Promise<Map<number, bigint>>>();
  private inFlightEvents = 0;
  private inFlightBytes = 0;
  private waiters: (() => void)[] = [];
  private commitTimer?: NodeJS.Timeout;
  private committing?: Promise<void>;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly commitIntervalMs: number;
  /** Reads what the current generation holds per partition (set by the handler's side). */
  private positionReader?: (partitions: { topic: string; partition: number }[]) => Promise<bigint[]>;

  constructor(private readonly options: KafkaBatchTransportOptions) {
    super();
    this.maxEvents = options.maxInFlightEvents ?? 50_000;
    this.maxBytes = options.maxInFlightBytes ?? 64 * 1024 * 1024;
    this.commitIntervalMs = options.commitIntervalMs ?? 100;
  }

  on(): void {
    // kafkajs reports through its own events; nothing to subscribe to here.
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('not listening');
    return this.consumer as T;
  }

  /** True once the consumer joined its group (and until it stops). */
  get isJoined(): boolean {
    return this.joined && !this.closing;
  }

  /** Partitions paused because Redis is behind what the log still has. */
  behind(): BehindPartition[] {
    return [...this.partitions.values()].flatMap((s) => (s.behind ? [s.behind] : []));
  }

  /** Lets `verifyPositions` read what Redis holds (the handler knows the generation). */
  setPositionReader(reader: (partitions: { topic: string; partition: number }[]) => Promise<bigint[]>): void {
    this.positionReader = reader;
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      this.admin ??= this.options.kafka.admin();
      await this.admin.connect();
      await this.start();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  private async start(): Promise<void> {
    const consumer = this.options.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 1024 * 1024,
      maxWaitTimeInMs: FETCH_SETTINGS.maxWaitTimeInMs,
      retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: Number.MAX_SAFE_INTEGER },
    });
    this.consumer = consumer;
    // kafkajs restarts itself after retriable errors only; after any other crash (e.g. a
    // broker answering a group request with an unexpected error) it would sit idle for
    // ever. Start a fresh consumer instead: it rejoins the group at the committed offsets.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.closing || this.consumer !== consumer) return;
      this.logger.warn(`consumer crashed (${payload.error.message}); starting a new one`);
      this.joined = false;
      void this.restart(consumer);
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (this.consumer !== consumer) return;
      this.onAssignment(payload.memberAssignment);
      this.joined = true;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: FETCH_SETTINGS.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.handleBatch(consumer, payload),
    });
  }

  private async restart(crashed: Consumer): Promise<void> {
    await crashed.disconnect().catch(() => undefined);
    this.onAssignment({});
    for (let delay = 500; !this.closing; delay = Math.min(delay * 2, 10_000)) {
      try {
        await this.start();
        return;
      } catch (err) {
        this.logger.warn(`could not start a new consumer (${(err as Error).message}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** A (re)join: forget revoked partitions (their queued batches are dropped) and the committed offsets read before. */
  private onAssignment(assignment: Record<string, number[]>): void {
    this.committed = new Map();
    for (const [key, state] of this.partitions) {
      if (assignment[state.topic]?.includes(state.partition)) continue;
      state.epoch++;
      this.partitions.delete(key);
    }
  }

  private state(topic: string, partition: number): PartitionState {
    const key = tp(topic, partition);
    let s = this.partitions.get(key);
    if (!s) {
      s = { topic, partition, epoch: 0, dirty: false, queue: [], chain: Promise.resolve(), running: false };
      this.partitions.set(key, s);
    }
    return s;
  }

  /** The group's committed offset of a partition minus one (-1 when none): what Redis must hold before its first batch. */
  private async committedBefore(topic: string, partition: number): Promise<bigint> {
    let offsets = this.committed.get(topic);
    if (!offsets) {
      const admin = this.admin!;
      offsets = admin
        .fetchOffsets({ groupId: this.options.groupId, topics: [topic] })
        .then((r) => new Map(r.flatMap((t) => t.partitions.map((p) => [p.partition, BigInt(p.offset)] as const))));
      offsets.catch(() => this.committed.delete(topic));
      this.committed.set(topic, offsets);
    }
    const committed = (await offsets).get(partition) ?? -1n;
    return committed < 0n ? -1n : committed - 1n;
  }

  private async handleBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty() || payload.isStale() || !payload.isRunning()) return;
    const state = this.state(batch.topic, batch.partition);
    if (state.behind) return; // paused; a stale fetch may still deliver
    const first = BigInt(batch.messages[0]!.offset);
    const last = BigInt(batch.lastOffset());
    // A fetch from before what was queued: the group was rejoined and kafkajs went back to
    // the committed offset. Start a new epoch from there.
    if (state.lastQueued !== undefined && first <= state.lastQueued) {
      state.epoch++;
      state.lastQueued = undefined;
    }
    if (state.lastQueued === undefined) {
      const epoch = state.epoch;
      const before = await this.committedBefore(batch.topic, batch.partition);
      if (epoch !== state.epoch || payload.isStale()) return;
      state.lastQueued ??= before;
    }
    const bytes = batch.messages.reduce((n, m) => n + (m.value?.length ?? 0), 0);
    const item: Item = { state, epoch: state.epoch, messages: batch.messages, prev: state.lastQueued, last, bytes, payload };
    state.lastQueued = last;
    payload.resolveOffset(batch.lastOffset());
    this.inFlightEvents += batch.messages.length;
    this.inFlightBytes += bytes;
    state.queue.push(item);
    if (!state.running) state.chain = this.drain(consumer, state);
    while (!this.closing && (this.inFlightEvents > this.maxEvents || this.inFlightBytes > this.maxBytes)) {
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /**
   * Applies a partition's queued batches, one call of the handler at a time. Batches that
   * queued up while the previous call ran are handed over together, as one (they are
   * consecutive in the log): under load a partition's batches grow instead of its queue.
   */
  private async drain(consumer: Consumer, state: PartitionState): Promise<void> {
    state.running = true;
    try {
      while (state.queue.length > 0) {
        const live: Item[] = [];
        for (const item of state.queue.splice(0, MERGE_BATCHES)) {
          if (item.epoch === state.epoch && !this.closing) live.push(item);
          else this.release(item.messages.length, item.bytes); // rewound or revoked: dropped
        }
        if (live.length === 0) continue;
        const first = live[0]!;
        const merged: Item =
          live.length === 1
            ? first
            : {
                ...first,
                messages: live.flatMap((i) => i.messages),
                last: live[live.length - 1]!.last,
                bytes: live.reduce((n, i) => n + i.bytes, 0),
                payload: live[live.length - 1]!.payload,
              };
        await this.run(consumer, merged);
      }
    } finally {
      state.running = false;
    }
  }

  private release(events: number, bytes: number): void {
    this.inFlightEvents -= events;
    this.inFlightBytes -= bytes;
    if (this.inFlightEvents <= this.maxEvents && this.inFlightBytes <= this.maxBytes) {
      for (const w of this.waiters.splice(0)) w();
    }
  }

  private async run(consumer: Consumer, item: Item): Promise<void> {
    const { state } = item;
    try {
      if (item.epoch !== state.epoch || this.closing) return;
      const handler = this.getHandlerByPattern(BATCH_PATTERN);
      if (!handler) throw new Error(`no handler for ${BATCH_PATTERN}`);
      const record: RecordBatch = {
        topic: state.topic,
        partition: state.partition,
        messages: item.messages,
        prevOffset: item.prev,
        lastOffset: item.last,
        heartbeat: () => item.payload.heartbeat(),
        isRunning: () => !this.closing && item.epoch === state.epoch && this.consumer === consumer,
      };
      let outcome: BatchOutcome;
      try {
        const result: unknown = await handler(record);
        outcome = (isObservable(result) ? await lastValueFrom(result) : result) as BatchOutcome;
      } catch (err) {
        if (!record.isRunning()) return; // stopping, revoked or rewound: the next owner or epoch redoes it
        // Not expected (the handler retries what can be retried): fetch the batch again.
        this.logger.error(`batch ${state.topic}[${state.partition}] ${item.prev + 1n}..${item.last} failed: ${(err as Error).message}; fetching it again`);
        await new Promise((r) => setTimeout(r, 1_000));
        if (record.isRunning()) this.rewind(consumer, state, state.applied ?? item.prev);
        return;
      }
      if (item.epoch !== state.epoch) return;
      if (outcome.applied) {
        state.applied = item.last;
        state.dirty = true;
        this.scheduleCommit(consumer);
      } else {
        this.rewind(consumer, state, outcome.heldOffset);
      }
    } finally {
      this.release(item.messages.length, item.bytes);
    }
  }

  /**
   * Redis holds the partition only up to `held`: drop what is queued and consume again from
   * the next offset, or, when the log no longer has it, pause the partition and report it.
   */
  private rewind(consumer: Consumer, state: PartitionState, held: bigint): void {
    state.epoch++;
    state.lastQueued = held;
    state.applied = held < 0n ? undefined : held;
    state.dirty = false;
    const epoch = state.epoch;
    const { topic, partition } = state;
    void (async () => {
      const offsets = await this.admin!.fetchTopicOffsets(topic);
      const low = BigInt(offsets.find((o) => o.partition === partition)?.low ?? '0');
      if (epoch !== state.epoch || this.consumer !== consumer) return;
      if (held + 1n < low) {
        state.behind = { topic, partition, heldOffset: held, logStart: low };
        consumer.pause([{ topic, partitions: [partition] }]);
        this.logger.error(
          `Redis holds ${topic}[${partition}] only up to offset ${held}, but the log starts at ${low}: ` +
            `the events between are gone from Kafka. The partition is paused and the projector not ready; ` +
            `rebuild the projections from what the log holds (npm run rebuild, docs/reliability.md).`,
        );
        return;
      }
      this.logger.warn(`Redis holds ${topic}[${partition}] only up to offset ${held}: applying again from ${held + 1n}`);
      consumer.seek({ topic, partition, offset: String(held + 1n) });
    })().catch((err: Error) => {
      this.logger.warn(`could not rewind ${topic}[${partition}] (${err.message}); retrying`);
      setTimeout(() => {
        if (epoch === state.epoch && this.consumer === consumer) this.rewind(consumer, state, held);
      }, 1_000).unref();
    });
  }

  /**
   * Compares what Redis holds with what was applied, for every partition in hand, and
   * rewinds those Redis is behind on (after a Redis reconnect, a generation switch, and
   * periodically: a Redis that lost writes while idle is found too). Paused partitions
   * whose missing events Redis now holds (a rebuild) are resumed.
   */
  async verifyPositions(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || !this.positionReader || this.closing) return;
    const states = [...this.partitions.values()].filter((s) => s.applied !== undefined || s.behind);
    if (states.length === 0) return;
    const epochs = states.map((s) => s.epoch);
    const held = await this.positionReader(states.map((s) => ({ topic: s.topic, partition: s.partition })));
    states.forEach((s, i) => {
      const h = held[i] ?? -1n;
      if (s.epoch !== epochs[i] || this.consumer !== consumer) return;
      if (s.behind) {
        if (h + 1n >= s.behind.logStart) {
          s.behind = undefined;
          consumer.resume([{ topic: s.topic, partitions: [s.partition] }]);
          this.rewind(consumer, s, h);
        }
      } else if (s.applied !== undefined && h < s.applied) {
        this.rewind(consumer, s, h);
      }
    });
  }

  private scheduleCommit(consumer: Consumer): void {
    if (this.commitTimer || this.closing) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.commit(consumer);
    }, this.commitIntervalMs);
  }

  /** Commits every applied position not committed yet, in one request; at most one in flight. */
  private async commit(consumer: Consumer): Promise<void> {
    if (this.committing) {
      await this.committing;
      if (!this.closing) this.scheduleCommit(consumer);
      return;
    }
    const dirty = [...this.partitions.values()].filter((s) => s.dirty && s.applied !== undefined);
    if (dirty.length === 0) return;
    const offsets = dirty.map((s) => {
      s.dirty = false;
      return { state: s, epoch: s.epoch, offset: s.applied! + 1n };
    });
    this.committing = consumer
      .commitOffsets(offsets.map((o) => ({ topic: o.state.topic, partition: o.state.partition, offset: String(o.offset) })))
      .catch((err: Error) => {
        // A rebalance in progress or a broker away: commit again later (what was applied stays applied).
        this.logger.debug?.(`commit failed (${err.message}); will retry`);
        for (const o of offsets) if (o.epoch === o.state.epoch && o.state.applied !== undefined) o.state.dirty = true;
      })
      .finally(() => (this.committing = undefined));
    await this.committing;
    if ([...this.partitions.values()].some((s) => s.dirty)) this.scheduleCommit(consumer);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    for (const w of this.waiters.splice(0)) w();
    const consumer = this.consumer;
    if (consumer) {
      // Batches under way stop at their next retry; what was applied is committed before leaving.
      // (bounded: a write queued for a Redis that is away never settles; it is redone anyway).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.partitions.values()].map((s) => s.chain)),
        new Promise((r) => (timer = setTimeout(r, 5_000))),
      ]);
      clearTimeout(timer);
      await this.committing;
      await this.commit(consumer).catch(() => undefined);
      await consumer.disconnect();
    }
    await this.admin?.disconnect().catch(() => undefined);
    this.consumer = undefined;
  }
}
