import type { LoggerService } from '@nestjs/common';
import type { KafkaMessage } from 'kafkajs';
import { CONSUMED_TOPIC_ROLES, classifyRedisError, parseEvent, type ConsumedTopicRole, type UnreadEvent } from '@app/contracts';
import type { BatchPosition, BatchWriterOptions, Generations, PositionResult, ProjectionStore } from '@app/store';
import type { RecordBatch } from './batch-queue';
import type { PartitionWaits } from './partition-waits';
import type { ProjectorMetrics } from './projector.metrics';

/**
 * The batch writer the applier's store folds with: its runs in flight together are batches
 * of different partitions, which commute, so the smallest go first (a batch a user waits on
 * is not held behind a large one: BatchWriter, `smallest-runs-first`).
 */
export const BATCH_WRITER_OPTIONS: BatchWriterOptions = { order: 'smallest-runs-first' };

/** A record of a batch that is not applied, and why (written to the dead-letter topic by the projector). */
export interface RefusedRecord {
  message: KafkaMessage;
  reason: string;
}

/** Where refused records go: the projector's dead-letter topic (DeadLetterService); resolved once they are kept. */
export interface RefusedRecords {
  send(topic: string, partition: number, refused: RefusedRecord[]): Promise<void>;
}

/** What the applier answers: applied and recorded (with how many events and refused records), or Redis holds the partition only up to `heldOffset`. */
export type ApplyResult = { applied: true; events: number; refused: number } | { applied: false; heldOffset: bigint };

/** The generation batches are applied to. */
export interface TargetGeneration {
  /** The generation of the next batch; rejects while the batch must wait (retried). */
  next(): Promise<number>;
  /** The generation the position checks compare with. */
  current(): number;
  /** Calls `listener` when `current()` changes; returns what removes it. */
  onSwitch(listener: (from: number, to: number) => void): () => void;
}

/** A rebuild is switching generations: hold the batch until the switch is done. */
class GenerationSwitching extends Error {
  constructor(generation: number) {
    super(`projection generation ${generation} is being switched to; waiting`);
    this.name = 'GenerationSwitching';
  }
}

/**
 * The live projector's target: the active generation, as Generations read it last (its
 * one watch, started by StoreModule); a batch waits while a rebuild's switch fence stands.
 */
export function activeGeneration(generations: Generations): TargetGeneration {
  return {
    async next() {
      const { active, fence } = generations.last ?? (await generations.read());
      if (fence) throw new GenerationSwitching(fence.generation);
      return active;
    },
    current: () => generations.current(),
    onSwitch: (listener) => generations.onSwitch(listener),
  };
}

/** The rebuild's target: the generation it builds, never switched, never fenced for it. */
export function fixedGeneration(generation: number): TargetGeneration {
  return { next: () => Promise.resolve(generation), current: () => generation, onSwitch: () => () => undefined };
}

export interface BatchApplierParts {
  /** Any store over the Redis client; batches go to its `forGeneration(keyPrefix, …)`. */
  store: ProjectionStore;
  /** REDIS_KEY_PREFIX. */
  keyPrefix: string;
  /** The consumed topics by role (config.kafka.topics): a record's topic says how to parse it. */
  topics: Readonly<Record<ConsumedTopicRole, string>>;
  generation: TargetGeneration;
  refused: RefusedRecords;
  /** The change feed (change-feed.ts): told of each batch after its writes and position, before the applier answers. */
  feed?: { publish(batch: RecordBatch, applied: { event: UnreadEvent; message: KafkaMessage }[]): Promise<void> };
  metrics?: ProjectorMetrics;
  /** The partitions waiting on Redis (for /ready and the metric). */
  waits?: PartitionWaits;
  logger: Pick<LoggerService, 'log' | 'warn'>;
}

/** A script's deliberate refusal of the event's content (the only Redis error that dead-letters: classifyRedisError). */
const isEventRefusal = (err: unknown): boolean => classifyRedisError(err).kind === 'refuse';

/**
 * Folds a batch of one partition into Redis, the same way for the projector (the transport
 * calls `apply` for each batch, kafka-batch.transport.ts) and `unread rebuild`:
 *
 * 1. parse and validate every record (parseEvent, by its topic's role); the invalid ones go
 *    to `refused` with the reason (the projector's dead-letter topic);
 * 2. pick the generation (`TargetGeneration.next`: the projector's waits while a rebuild's
 *    fence stands);
 * 3. apply the valid events through the store's batch writer (ProjectionStore.applyBatch),
 *    which records the batch's position (positions.lua) only after every write was
 *    acknowledged, folded into the call that carries them when they share one. A script that
 *    refuses some event's content on purpose (`UNREAD-REFUSED`, the only Redis error that
 *    skips an event) makes the batch go again one event at a time, those events to
 *    `refused`, then the position;
 * 4. when Redis holds less than the previous batch (a failover to a stale replica, a restart
 *    empty) answer `heldOffset`: the transport rewinds the partition;
 * 5. else tell the change feed, then answer "applied".
 *
 * Every step that fails on Redis or Kafka is retried with backoff for as long as the batch
 * is running (`retrying`): no offset moves past an unapplied event.
 */
export class BatchApplier {
  private readonly roleOfTopic: ReadonlyMap<string, ConsumedTopicRole>;

  constructor(private readonly parts: BatchApplierParts) {
    this.roleOfTopic = new Map(CONSUMED_TOPIC_ROLES.map((r) => [parts.topics[r], r]));
  }

  async apply(batch: RecordBatch): Promise<ApplyResult> {
    const { metrics } = this.parts;
    const started = process.hrtime.bigint();
    const role = this.roleOfTopic.get(batch.topic);
    const valid: { event: UnreadEvent; message: KafkaMessage }[] = [];
    const invalid: RefusedRecord[] = [];
    for (const message of batch.messages) {
      const parsed = role ? parseEvent(message.value, role) : { ok: false as const, reason: `topic ${batch.topic} is not consumed` };
      if (parsed.ok) valid.push({ event: parsed.event, message });
      else invalid.push({ message, reason: parsed.reason });
    }
    await this.refuse(batch, invalid);
    const generation = await this.retrying(batch, 'generation', () => this.parts.generation.next(), () => true, 1_000);
    const store = this.parts.store.forGeneration(this.parts.keyPrefix, generation);
    const at: BatchPosition = { topic: batch.topic, partition: batch.partition, prev: batch.prevOffset, last: batch.lastOffset };
    let position: PositionResult;
    let refusedByRedis = 0;
    if (valid.length === 0) {
      position = await this.retrying(batch, 'redis', () => store.recordPosition(at.topic, at.partition, at.prev, at.last));
    } else {
      try {
        position = await this.retrying(batch, 'redis', () => store.applyBatch(valid.map((v) => v.event), at), (err) => !isEventRefusal(err));
      } catch (err) {
        if (!isEventRefusal(err)) throw err;
        refusedByRedis = await this.applyOneByOne(batch, valid, store);
        position = await this.retrying(batch, 'redis', () => store.recordPosition(at.topic, at.partition, at.prev, at.last));
      }
    }
    if (!position.ok) {
      metrics?.rewinds.inc();
      return { applied: false, heldOffset: position.held };
    }
    await this.parts.feed?.publish(batch, valid);
    metrics?.countApplied(valid.map((v) => v.event));
    metrics?.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return { applied: true, events: valid.length - refusedByRedis, refused: invalid.length + refusedByRedis };
  }

  /** What the current generation holds per partition (-1: nothing): what the transport's position checks compare with. */
  positions(partitions: { topic: string; partition: number }[]): Promise<bigint[]> {
    return this.parts.store.forGeneration(this.parts.keyPrefix, this.parts.generation.current()).positions(partitions);
  }

  /**
   * Calls `check` whenever what Redis holds may have changed under the applied positions: a
   * reconnect (maybe to a promoted replica) and a generation switch. Returns what stops it.
   */
  watchHoldings(check: (why: string) => void): () => void {
    const redis = this.parts.store.redis;
    const onReady = () => check('Redis reconnected');
    redis.on('ready', onReady);
    const unwatch = this.parts.generation.onSwitch((from, to) => {
      this.parts.logger.log(`projection generation ${from} -> ${to}`);
      check('generation switch');
    });
    return () => {
      unwatch();
      redis.off('ready', onReady);
    };
  }

  /** Applies the events one by one, sending those a script refuses to `refused`; returns how many it refused. */
  private async applyOneByOne(batch: RecordBatch, events: { event: UnreadEvent; message: KafkaMessage }[], store: ProjectionStore): Promise<number> {
    const refused: RefusedRecord[] = [];
    for (const { event, message } of events) {
      try {
        await this.retrying(batch, 'redis', () => store.apply(event), (e) => !isEventRefusal(e));
      } catch (e) {
        const verdict = classifyRedisError(e);
        if (verdict.kind !== 'refuse') throw e;
        refused.push({ message, reason: `redis refused the event: ${verdict.reason}` });
      }
    }
    await this.refuse(batch, refused);
    return refused.length;
  }

  private async refuse(batch: RecordBatch, records: RefusedRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.retrying(batch, 'dead-letter', () => this.parts.refused.send(batch.topic, batch.partition, records));
    this.parts.metrics?.countDeadLettered(records);
  }

  /**
   * Runs `work` until it succeeds, backing off (100 ms doubling to `maxDelayMs`) and
   * heartbeating, while the batch is running. While it fails on Redis, the partition waits
   * at the batch's first offset (PartitionWaits: the metric, /ready after
   * WAIT_READY_BOUND_MS) and a warning names the partition, the offset and the error (at the
   * first attempt, then every 10th).
   */
  private async retrying<T>(
    batch: RecordBatch,
    what: 'redis' | 'dead-letter' | 'generation',
    work: () => Promise<T>,
    retryable: (err: unknown) => boolean = () => true,
    maxDelayMs = 5_000,
  ): Promise<T> {
    const { metrics, waits, logger } = this.parts;
    let delay = 100;
    const offset = batch.prevOffset + 1n;
    for (let attempt = 1; ; attempt++) {
      // A write queued while Redis is away can wait long: keep the group membership meanwhile.
      const beat = setInterval(() => void batch.heartbeat().catch(() => undefined), 1_000);
      try {
        const result = await work();
        if (attempt > 1 && what !== 'generation') {
          waits?.end(batch.topic, batch.partition);
          logger.log(`${batch.topic}[${batch.partition}] goes on from offset ${offset} after ${attempt - 1} failed attempt(s) (${what})`);
        }
        return result;
      } catch (err) {
        if (!batch.isRunning()) waits?.end(batch.topic, batch.partition); // the next owner or epoch waits for itself
        if (!retryable(err) || !batch.isRunning()) throw err;
        metrics?.retries.inc({ what });
        const message = (err as Error).message;
        if (what === 'redis') {
          const verdict = classifyRedisError(err);
          const cls = verdict.kind === 'wait' ? verdict.class : 'unknown';
          waits?.begin(batch.topic, batch.partition, offset, cls, message);
          metrics?.redisWaits.inc({ class: cls });
          if (attempt === 1 || attempt % 10 === 0) {
            const how =
              cls === 'script_error'
                ? 'a script failed on this batch in a way nobody documented; the partition stops here until it is fixed'
                : 'Redis refuses or cannot take writes; the partition waits here and retries';
            logger.warn(`${batch.topic}[${batch.partition}] waits at offset ${offset} (${cls}, attempt ${attempt}): ${how}: ${message}`);
          }
        } else if (attempt === 1 || attempt % 10 === 0) {
          logger.warn(`${what} failed for ${batch.topic}[${batch.partition}] (attempt ${attempt}), retrying: ${message}`);
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, maxDelayMs);
        await batch.heartbeat().catch(() => undefined);
      } finally {
        clearInterval(beat);
      }
    }
  }
}
