import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
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
  /** Keeps the consumer's group membership alive during long work (retries). */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was revoked: stop retrying. */
  isRunning(): boolean;
}

export interface KafkaBatchTransportOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Test hook: read from the start when the group has no committed offsets. */
  fromBeginning?: boolean;
}

/**
 * A Nest microservice transport over kafkajs `eachBatch` (the stock Kafka transport hands
 * over one message at a time). For each fetched batch it calls the handler registered for
 * BATCH_PATTERN and waits for it; only when it resolves (every Redis write acknowledged)
 * are the batch's offsets resolved and committed. If the handler throws, nothing is
 * committed and kafkajs re-fetches the batch after its restart backoff.
 */
export class KafkaBatchTransport extends Server implements CustomTransportStrategy {
  protected readonly logger = new Logger('KafkaBatchTransport');
  private consumer?: Consumer;
  private closing = false;

  constructor(private readonly options: KafkaBatchTransportOptions) {
    super();
  }

  on(): void {
    // kafkajs reports through its own events; nothing to subscribe to here.
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('not listening');
    return this.consumer as T;
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
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
      void this.restart(consumer);
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

  private async handleBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty()) return;
    const handler = this.getHandlerByPattern(BATCH_PATTERN);
    if (!handler) throw new Error(`no handler for ${BATCH_PATTERN}`);
    const record: RecordBatch = {
      topic: batch.topic,
      partition: batch.partition,
      messages: batch.messages,
      heartbeat: () => payload.heartbeat(),
      isRunning: () => payload.isRunning() && !payload.isStale(),
    };
    const result: unknown = await handler(record);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
    if (!payload.isRunning() || payload.isStale()) return; // revoked meanwhile: the next owner redoes it
    const last = batch.lastOffset();
    payload.resolveOffset(last);
    await consumer.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
    ]);
    await payload.heartbeat();
  }

  async close(): Promise<void> {
    this.closing = true;
    // kafkajs lets the batch in flight finish, then leaves the group.
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}
