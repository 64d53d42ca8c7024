import { Controller, Inject, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { KafkaMessage } from 'kafkajs';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { CONSUMED_TOPIC_ROLES, classifyRedisError, parseEvent, type ConsumedTopicRole, type UnreadEvent } from '@app/contracts';
import { GENERATIONS, Generations, ProjectionStore, REDIS, type BatchPosition, type BatchWriterOptions, type PositionResult, type RedisClient } from '@app/store';
import { ChangeFeed } from './change-feed';
import { DeadLetterService } from './dead-letter.service';
import { BATCH_PATTERN, KafkaBatchTransport, type BatchOutcome, type RecordBatch } from './kafka-batch.transport';
import { PartitionWaits } from './partition-waits';
import { ProjectorMetrics } from './projector.metrics';
import { BATCH_TRANSPORT } from './projector.tokens';

/**
 * The projector's batch writer: its runs in flight together are batches of different
 * partitions, which commute, so the smallest go first (a batch a user waits on is not held
 * behind a large one: BatchWriter, `smallest-runs-first`).
 */
export const BATCH_WRITER_OPTIONS: BatchWriterOptions = { order: 'smallest-runs-first' };

/** How often the active generation and the switch fence are read. */
export const GENERATION_POLL_MS = 100;
/** How often what Redis holds is compared with what was applied, besides reconnects and switches. */
export const POSITION_CHECK_MS = 5_000;

/** A script's deliberate refusal of the event's content (the only Redis error that dead-letters: classifyRedisError). */
const isEventRefusal = (err: unknown): boolean => classifyRedisError(err).kind === 'refuse';

/** A rebuild is switching generations: hold the batch until the switch is done. */
class GenerationSwitching extends Error {
  constructor(generation: number) {
    super(`projection generation ${generation} is being switched to; waiting`);
    this.name = 'GenerationSwitching';
  }
}

/**
 * Folds each batch into Redis: parse and validate every record, dead-letter the invalid
 * ones (with the reason), apply the rest, then record the batch's position in Redis
 * (positions.lua) and answer the transport, which commits applied positions only. While
 * Redis is unreachable it retries with backoff and never returns, so no offset moves past
 * an unapplied event.
 *
 * The batch's writes go through the store's batch writer: every batch in flight issues its
 * writes in one tick and they reach Redis folded into one call per node. The position is
 * recorded only after every write was acknowledged: a Redis that holds a position holds
 * every write before it; when it holds less than the previous batch (failover to a stale
 * replica, a restart empty), the transport rewinds the partition (BatchOutcome).
 *
 * Generations (docs/reliability.md, rebuild): the active generation and the switch fence
 * are read in the background (every GENERATION_POLL_MS), not per batch. A batch waits while
 * a rebuild holds the fence. A batch applied to the old generation after a switch is not
 * lost: the new generation's positions are the rebuild's, so the next batch's position is
 * refused there and the partition is re-applied from what the new generation holds; a
 * switch also re-checks every partition at once (verifyPositions).
 */
@Controller()
export class ProjectorConsumer implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Projector');
  private readonly roleOfTopic: Map<string, ConsumedTopicRole>;
  private readonly keyPrefix: string;
  private verifier?: NodeJS.Timeout;
  private unwatch?: () => void;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly store: ProjectionStore,
    private readonly deadLetter: DeadLetterService,
    private readonly metrics: ProjectorMetrics,
    @Inject(GENERATIONS) private readonly generations: Generations,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(BATCH_TRANSPORT) private readonly transport: KafkaBatchTransport,
    private readonly waits: PartitionWaits,
    private readonly feed: ChangeFeed,
  ) {
    this.roleOfTopic = new Map(CONSUMED_TOPIC_ROLES.map((r) => [config.kafka.topics[r], r]));
    this.keyPrefix = config.redis.keyPrefix;
  }

  onModuleInit(): void {
    this.transport.setPositionReader((partitions) => this.current().positions(partitions));
    this.verifier = setInterval(() => void this.verify('periodic check'), POSITION_CHECK_MS);
    // A reconnect may be to another server (a promoted replica): check what it holds.
    this.redis.on('ready', this.onReady);
    this.unwatch = this.generations.onSwitch((from, to) => {
      this.logger.log(`projection generation ${from} -> ${to}`);
      void this.verify('generation switch');
    });
  }

  onModuleDestroy(): void {
    this.unwatch?.();
    clearInterval(this.verifier);
    this.redis.off('ready', this.onReady);
  }

  private readonly onReady = (): void => void this.verify('Redis reconnected');

  private async verify(why: string): Promise<void> {
    try {
      await this.transport.verifyPositions();
    } catch (err) {
      this.logger.debug?.(`position check (${why}) failed: ${(err as Error).message}`);
    }
  }

  private current(): ProjectionStore {
    return this.store.forGeneration(this.keyPrefix, this.generations.current());
  }

  @EventPattern(BATCH_PATTERN)
  async onBatch(@Payload() batch: RecordBatch): Promise<BatchOutcome> {
    const started = process.hrtime.bigint();
    const role = this.roleOfTopic.get(batch.topic);
    const valid: { event: UnreadEvent; message: KafkaMessage }[] = [];
    const refused: { message: KafkaMessage; reason: string }[] = [];
    for (const message of batch.messages) {
      const parsed = role
        ? parseEvent(message.value, role)
        : { ok: false as const, reason: `topic ${batch.topic} is not consumed` };
      if (parsed.ok) valid.push({ event: parsed.event, message });
      else refused.push({ message, reason: parsed.reason });
    }
    if (refused.length > 0) {
      await this.retrying(batch, 'dead-letter', () => this.deadLetter.send(batch.topic, batch.partition, refused));
      this.metrics.countDeadLettered(refused);
    }
    const generation = await this.retrying(batch, 'generation', () => this.activeGeneration(), () => true, 1_000);
    const store = this.store.forGeneration(this.keyPrefix, generation);
    // The batch's position is recorded only after all its writes succeeded: folded into the
    // call that carries them when they share one (ProjectionStore.applyBatch), else after.
    const at: BatchPosition = { topic: batch.topic, partition: batch.partition, prev: batch.prevOffset, last: batch.lastOffset };
    const position =
      valid.length > 0
        ? await this.apply(batch, valid, store, at)
        : await this.retrying(batch, 'redis', () => store.recordPosition(at.topic, at.partition, at.prev, at.last));
    if (!position.ok) {
      this.metrics.rewinds.inc();
      return { applied: false, heldOffset: position.held };
    }
    // The change feed (change-feed.ts): after the batch's writes and position, before "applied".
    await this.feed.publish(batch, valid);
    this.metrics.countApplied(valid.map((v) => v.event));
    this.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return { applied: true };
  }

  /** The active generation, unless a rebuild holds the switch fence (then it throws, to be retried). */
  private async activeGeneration(): Promise<number> {
    const { active, fence } = this.generations.last ?? (await this.generations.read());
    if (fence) throw new GenerationSwitching(fence.generation);
    return active;
  }

  /** Applies the batch's events, then records its position (`at`); returns what recording it found. */
  private async apply(
    batch: RecordBatch,
    events: { event: UnreadEvent; message: KafkaMessage }[],
    store: ProjectionStore,
    at: BatchPosition,
  ): Promise<PositionResult> {
    try {
      return await this.retrying(batch, 'redis', () => store.applyBatch(events.map((e) => e.event), at), (err) => !isEventRefusal(err));
    } catch (err) {
      if (!isEventRefusal(err)) throw err;
      // A script refused some event's content on purpose: apply one by one, dead-letter exactly those.
      const refused: { message: KafkaMessage; reason: string }[] = [];
      for (const { event, message } of events) {
        try {
          await this.retrying(batch, 'redis', () => store.apply(event), (e) => !isEventRefusal(e));
        } catch (e) {
          const verdict = classifyRedisError(e);
          if (verdict.kind !== 'refuse') throw e;
          refused.push({ message, reason: `redis refused the event: ${verdict.reason}` });
        }
      }
      if (refused.length > 0) {
        await this.retrying(batch, 'dead-letter', () => this.deadLetter.send(batch.topic, batch.partition, refused));
        this.metrics.countDeadLettered(refused);
      }
      return this.retrying(batch, 'redis', () => store.recordPosition(at.topic, at.partition, at.prev, at.last));
    }
  }

  /**
   * Runs `work` until it succeeds, backing off (100 ms doubling to `maxDelayMs`) and
   * heartbeating. While it fails on Redis, the partition waits at the batch's first offset
   * (PartitionWaits: the metric, /ready after WAIT_READY_BOUND_MS) and a warning names the
   * partition, the offset and the error (at the first attempt, then every 10th).
   */
  private async retrying<T>(
    batch: RecordBatch,
    what: string,
    work: () => Promise<T>,
    retryable: (err: unknown) => boolean = () => true,
    maxDelayMs = 5_000,
  ): Promise<T> {
    let delay = 100;
    const offset = batch.prevOffset + 1n;
    for (let attempt = 1; ; attempt++) {
      // A write queued while Redis is away can wait long: keep the group membership meanwhile.
      const beat = setInterval(() => void batch.heartbeat().catch(() => undefined), 1_000);
      try {
        const result = await work();
        if (attempt > 1 && what !== 'generation') {
          this.waits.end(batch.topic, batch.partition);
          this.logger.log(`${batch.topic}[${batch.partition}] goes on from offset ${offset} after ${attempt - 1} failed attempt(s) (${what})`);
        }
        return result;
      } catch (err) {
        if (!batch.isRunning()) this.waits.end(batch.topic, batch.partition); // the next owner or epoch waits for itself
        if (!retryable(err) || !batch.isRunning()) throw err;
        this.metrics.retries.inc({ what });
        const message = (err as Error).message;
        if (what === 'redis') {
          const verdict = classifyRedisError(err);
          const cls = verdict.kind === 'wait' ? verdict.class : 'unknown';
          this.waits.begin(batch.topic, batch.partition, offset, cls, message);
          this.metrics.redisWaits.inc({ class: cls });
          if (attempt === 1 || attempt % 10 === 0) {
            const how =
              cls === 'script_error'
                ? 'a script failed on this batch in a way nobody documented; the partition stops here until it is fixed'
                : 'Redis refuses or cannot take writes; the partition waits here and retries';
            this.logger.warn(`${batch.topic}[${batch.partition}] waits at offset ${offset} (${cls}, attempt ${attempt}): ${how}: ${message}`);
          }
        } else if (attempt === 1 || attempt % 10 === 0) {
          this.logger.warn(`${what} failed for ${batch.topic}[${batch.partition}] (attempt ${attempt}), retrying: ${message}`);
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
