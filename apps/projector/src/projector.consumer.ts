import { Controller, Inject, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { KafkaMessage } from 'kafkajs';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { CONSUMED_TOPIC_ROLES, parseEvent, type ConsumedTopicRole, type UnreadEvent } from '@app/contracts';
import { GENERATIONS, Generations, ProjectionStore } from '@app/store';
import { DeadLetterService } from './dead-letter.service';
import { BATCH_PATTERN, type RecordBatch } from './kafka-batch.transport';
import { ProjectorMetrics } from './projector.metrics';

/** A Redis error that is the same on every try (a script or type error), unlike a lost connection. */
function isDeterministic(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError' && !/LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY/.test(err.message);
}

/** A rebuild is switching generations: hold the batch until the switch is done. */
class GenerationSwitching extends Error {
  constructor(generation: number) {
    super(`projection generation ${generation} is being switched to; waiting`);
    this.name = 'GenerationSwitching';
  }
}

/**
 * Folds each batch into Redis: parse and validate every record, dead-letter the invalid
 * ones (with the reason), apply the rest, and only then let the transport commit. While
 * Redis is unreachable it retries with backoff and never returns, so no offset moves past
 * an unapplied event.
 *
 * Generations (docs/reliability.md, rebuild): a batch reads the active generation before
 * it applies anything and waits while a rebuild holds the switch fence; it re-reads the
 * pointer before returning (i.e. before the commit) and, when it moved, applies the batch
 * to the new generation too.
 */
@Controller()
export class ProjectorConsumer {
  private readonly logger = new Logger('Projector');
  private readonly roleOfTopic: Map<string, ConsumedTopicRole>;
  private readonly keyPrefix: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly store: ProjectionStore,
    private readonly deadLetter: DeadLetterService,
    private readonly metrics: ProjectorMetrics,
    @Inject(GENERATIONS) private readonly generations: Generations,
  ) {
    this.roleOfTopic = new Map(CONSUMED_TOPIC_ROLES.map((r) => [config.kafka.topics[r], r]));
    this.keyPrefix = config.redis.keyPrefix;
  }

  @EventPattern(BATCH_PATTERN)
  async onBatch(@Payload() batch: RecordBatch): Promise<void> {
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
    if (valid.length > 0) {
      const generation = await this.retrying(batch, 'generation', () => this.activeGeneration(), () => true, 1_000);
      await this.apply(batch, valid, this.store.forGeneration(this.keyPrefix, generation));
      const now = await this.retrying(batch, 'generation', () => this.generations.read());
      if (now.active !== generation) await this.apply(batch, valid, this.store.forGeneration(this.keyPrefix, now.active));
    }
    this.metrics.countApplied(valid.map((v) => v.event));
    this.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** The active generation, unless a rebuild holds the switch fence (then it throws, to be retried). */
  private async activeGeneration(): Promise<number> {
    const { active, fence } = await this.generations.read();
    if (fence) throw new GenerationSwitching(fence.generation);
    return active;
  }

  private async apply(
    batch: RecordBatch,
    events: { event: UnreadEvent; message: KafkaMessage }[],
    store: ProjectionStore,
  ): Promise<void> {
    try {
      await this.retrying(
        batch,
        'redis',
        () => store.applyAll(events.map((e) => e.event)),
        (err) => !isDeterministic(err),
      );
    } catch (err) {
      if (!isDeterministic(err)) throw err;
      // Redis refused some event itself: apply one by one, dead-letter exactly those.
      const refused: { message: KafkaMessage; reason: string }[] = [];
      for (const { event, message } of events) {
        try {
          await this.retrying(batch, 'redis', () => store.apply(event), (e) => !isDeterministic(e));
        } catch (e) {
          if (!isDeterministic(e)) throw e;
          refused.push({ message, reason: `redis refused the event: ${(e as Error).message}` });
        }
      }
      if (refused.length > 0) {
        await this.retrying(batch, 'dead-letter', () => this.deadLetter.send(batch.topic, batch.partition, refused));
        this.metrics.countDeadLettered(refused);
      }
    }
  }

  /** Runs `work` until it succeeds, backing off (100 ms doubling to `maxDelayMs`) and heartbeating. */
  private async retrying<T>(
    batch: RecordBatch,
    what: string,
    work: () => Promise<T>,
    retryable: (err: unknown) => boolean = () => true,
    maxDelayMs = 5_000,
  ): Promise<T> {
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      // A write queued while Redis is away can wait long: keep the group membership meanwhile.
      const beat = setInterval(() => void batch.heartbeat().catch(() => undefined), 1_000);
      try {
        return await work();
      } catch (err) {
        if (!retryable(err) || !batch.isRunning()) throw err;
        this.metrics.retries.inc({ what });
        if (attempt === 1 || attempt % 10 === 0) {
          this.logger.warn(`${what} failed for ${batch.topic}[${batch.partition}] (attempt ${attempt}), retrying: ${(err as Error).message}`);
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
