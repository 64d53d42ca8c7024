import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { BatchApplier } from './batch-applier';
import { InFlightBudget, PartitionQueues, type BatchOutcome, type BehindPartition, type PartitionState, type QueuedBatch, type RecordBatch } from './batch-queue';
import { CommitCoalescer } from './commit-coalescer';
import { PositionKeeper } from './position-keeper';

export type { BatchOutcome, BehindPartition, RecordBatch } from './batch-queue';

/**
 * Fetch settings of the projector's consumer (the benchmark's baselines use their own
 * fastest settings: docs/performance.md, "Fetch settings"). Partitions are independent
 * (projections commute across them): every owned partition is in flight at once, so one slow
 * partition never holds the others back. The idle wait bounds how long a fetch is held when
 * no partition has data; short, it keeps freshness low on brokers that do not answer as soon
 * as data arrives (the mock cluster).
 */
export const FETCH_SETTINGS = { maxWaitTimeInMs: 20, partitionsConsumedConcurrently: 32 } as const;

/** How long after an unexpected applier error the batch is fetched again. */
export const REFETCH_DELAY_MS = 1_000;

/** How often what Redis holds is compared with what was applied, besides assignments, reconnects and switches. */
export const POSITION_CHECK_MS = 5_000;

/** What the transport calls of the applier (BatchApplier, batch-applier.ts). */
export interface TransportApplier {
  /** Applies the batch and records its position: its outcome (retries what can be retried; a rejection is unexpected). */
  apply(batch: RecordBatch): Promise<BatchOutcome>;
  /** What Redis holds per partition (-1: nothing). */
  positions: BatchApplier['positions'];
  /** Calls `check` whenever what Redis holds may have changed; returns what stops it. */
  watchHoldings: BatchApplier['watchHoldings'];
}

export interface KafkaBatchTransportOptions {
  kafka: Kafka;
  /** Applies each batch and reads what Redis holds (the position checks). */
  applier: TransportApplier;
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

/**
 * A Nest microservice transport over kafkajs `eachBatch` (the stock Kafka transport hands
 * over one message at a time), built so that fetching, applying and committing overlap. The
 * line a batch follows: kafkajs `eachBatch` → `handleBatch` (admission to its partition's
 * queue) → `drain` → `run` → `BatchApplier.apply` (batch-applier.ts: parse, apply through
 * the store, record the position) → its outcome: the offset is committed (CommitCoalescer)
 * or the partition rewound (PositionKeeper). Nothing goes through Nest's dispatch by pattern:
 * the applier is handed in (ProjectorModule builds both).
 *
 * **Invariant: a position is recorded only when Redis holds every offset before the batch.**
 * Every batch handed to the applier carries its own first offset minus one as prevOffset
 * (positions.lua records the batch only when Redis holds that offset); a batch is queued
 * only if it starts right after the partition's last queued batch (or opens a new epoch,
 * fetched from earlier), so a batch is never applied as the continuation of one it does
 * not continue; after a rewind nothing is queued until the consumer has been repositioned
 * at what Redis holds + 1 (batch-queue.ts, position-keeper.ts). Offsets committed to Kafka
 * are applied positions only (commit-coalescer.ts). Offsets of a partition are consecutive:
 * the topics are neither compacted nor written in transactions (docs/events.md).
 *
 * The parts:
 * - this class: the Nest strategy (listen, close) and the consumer's life (start, a fresh
 *   consumer after a crash kafkajs does not restart from, close), and when the positions
 *   are checked (every assignment, every POSITION_CHECK_MS, and whenever the applier says
 *   what Redis holds may have changed: `watchHoldings`);
 * - PartitionQueues and InFlightBudget (batch-queue.ts): per-partition queues in log order,
 *   epochs, admission, merging of queued batches (up to 16), back-pressure on the fetch loop
 *   (events and bytes);
 * - CommitCoalescer: asynchronous, coalesced commits of applied positions;
 * - PositionKeeper: rewind, refetch, pause of a partition Redis is behind on when the log no
 *   longer has what it misses (`behind()`), and the position checks (every assignment, every
 *   assigned partition).
 */
export class KafkaBatchTransport extends Server implements CustomTransportStrategy {
  protected readonly logger = new Logger('KafkaBatchTransport');
  private consumer?: Consumer;
  private admin?: Admin;
  private closing = false;
  private readonly queues = new PartitionQueues();
  private readonly budget: InFlightBudget;
  private readonly commits: CommitCoalescer;
  private readonly keeper: PositionKeeper;
  private readonly applier: TransportApplier;
  private checker?: NodeJS.Timeout;
  private unwatch?: () => void;

  constructor(private readonly options: KafkaBatchTransportOptions) {
    super();
    this.applier = options.applier;
    this.budget = new InFlightBudget(options.maxInFlightEvents ?? 50_000, options.maxInFlightBytes ?? 64 * 1024 * 1024);
    this.commits = new CommitCoalescer(() => this.queues.all(), options.commitIntervalMs ?? 100, this.logger);
    this.keeper = new PositionKeeper(() => this.admin!, options.groupId, this.queues, this.logger, (partitions) => this.applier.positions(partitions));
  }

  on(): void {
    // kafkajs reports through its own events; nothing to subscribe to here.
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('not listening');
    return this.consumer as T;
  }

  /** Partitions paused because Redis is behind what the log still has. */
  behind(): BehindPartition[] {
    return this.queues.all().flatMap((s) => (s.behind ? [s.behind] : []));
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      this.admin ??= this.options.kafka.admin();
      await this.admin.connect();
      await this.start();
      this.checker = setInterval(() => void this.checkPositions('periodic check'), POSITION_CHECK_MS);
      this.unwatch = this.applier.watchHoldings((why) => void this.checkPositions(why));
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
      void this.restart(consumer);
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (this.consumer !== consumer) return;
      this.onAssignment(payload.memberAssignment);
      // Compare what Redis holds with the committed offsets at once, traffic or not (a Redis emptied
      // while no batch flows is caught up without waiting for the periodic check).
      void this.verifyPositions().catch((err: Error) =>
        this.logger.warn(`position check on assignment failed (${err.message}); the periodic check tries again`),
      );
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
    this.keeper.assign(assignment);
    this.queues.keepOnly(assignment);
  }

  private current(consumer: Consumer): () => boolean {
    return () => this.consumer === consumer && !this.closing;
  }

  private async handleBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty() || payload.isStale() || !payload.isRunning()) return;
    const state = this.queues.get(batch.topic, batch.partition);
    let startsLog = false;
    if (state.lastQueued === undefined && !state.repositioning && !state.behind) {
      // The first batch since the assignment: a group that never committed here starts at the log's start.
      const epoch = state.epoch;
      startsLog = (await this.keeper.committedOffset(batch.topic, batch.partition)) < 0n;
      if (epoch !== state.epoch || payload.isStale() || state.lastQueued !== undefined) return;
    }
    const item = this.queues.admit(state, batch.messages, payload, startsLog);
    if (item === 'gap') {
      // Fetched from past the end of what was queued (a fetch from before a seek): drop it, read from the right place.
      this.logger.warn(
        `${batch.topic}[${batch.partition}] fetched from ${batch.messages[0]!.offset}, after ${state.lastQueued}: dropped, fetching from ${state.lastQueued! + 1n}`,
      );
      consumer.seek({ topic: batch.topic, partition: batch.partition, offset: String(state.lastQueued! + 1n) });
      return;
    }
    if (typeof item === 'string') return; // paused, or a rewind is repositioning the consumer: dropped, fetched again
    payload.resolveOffset(batch.lastOffset());
    this.budget.take(item.messages.length, item.bytes);
    if (!state.running) state.chain = this.drain(consumer, state);
    await this.budget.room(() => this.closing);
  }

  /**
   * Applies a partition's queued batches, one call of the applier at a time. Batches that
   * queued up while the previous call ran are handed over together, as one (they are
   * consecutive in the log): under load a partition's batches grow instead of its queue.
   */
  private async drain(consumer: Consumer, state: PartitionState): Promise<void> {
    state.running = true;
    try {
      for (;;) {
        const item = this.queues.take(state, (dropped) => this.budget.release(dropped.messages.length, dropped.bytes), this.closing);
        if (!item) break;
        await this.run(consumer, item);
      }
    } finally {
      state.running = false;
    }
  }

  private async run(consumer: Consumer, item: QueuedBatch): Promise<void> {
    const { state } = item;
    try {
      if (item.epoch !== state.epoch || this.closing) return;
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
        outcome = await this.applier.apply(record);
      } catch (err) {
        if (!record.isRunning()) return; // stopping, revoked or rewound: the next owner or epoch redoes it
        // Not expected (the applier retries what can be retried): fetch the batch again from its own start.
        const from = BigInt(item.messages[0]!.offset);
        this.logger.error(`batch ${state.topic}[${state.partition}] ${from}..${item.last} failed: ${(err as Error).message}; fetching it again`);
        state.repositioning = true; // nothing is queued in between
        state.epoch++;
        const epoch = state.epoch;
        await new Promise((r) => setTimeout(r, REFETCH_DELAY_MS));
        if (epoch === state.epoch && this.current(consumer)()) this.keeper.refetch(consumer, state, from);
        return;
      }
      if (item.epoch !== state.epoch) return;
      if (outcome.applied) {
        state.applied = item.last;
        state.dirty = true;
        this.commits.schedule(consumer);
      } else {
        this.keeper.rewind(consumer, state, outcome.heldOffset, this.current(consumer));
      }
    } finally {
      this.budget.release(item.messages.length, item.bytes);
    }
  }

  /**
   * Compares what Redis holds with what every assigned partition should have and rewinds
   * those Redis is behind on (on assignment, after a Redis reconnect, a generation switch,
   * and periodically: PositionKeeper.verify).
   */
  private async verifyPositions(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || this.closing) return;
    await this.keeper.verify(consumer, this.current(consumer));
  }

  private async checkPositions(why: string): Promise<void> {
    try {
      await this.verifyPositions();
    } catch (err) {
      this.logger.debug?.(`position check (${why}) failed: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.checker);
    this.unwatch?.();
    this.commits.close();
    this.budget.wakeAll();
    const consumer = this.consumer;
    if (consumer) {
      // Batches under way stop at their next retry; what was applied is committed before leaving.
      // (bounded: a write queued for a Redis that is away never settles; it is redone anyway).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(this.queues.all().map((s) => s.chain)), new Promise((r) => (timer = setTimeout(r, 5_000)))]);
      clearTimeout(timer);
      await this.commits.flush(consumer);
      await consumer.disconnect();
    }
    await this.admin?.disconnect().catch(() => undefined);
    this.consumer = undefined;
  }
}
