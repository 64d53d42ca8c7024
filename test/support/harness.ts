import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig, type AppConfig } from '@app/config';
import { DEFAULT_TOPICS, type TopicNames, type UnreadEvent } from '@app/contracts';
import { EventProducer } from '@app/kafka';
import { startGateway, type RunningGateway } from '../../apps/gateway/src/gateway';
import { startProjector, type RunningProjector } from '../../apps/projector/src/projector';
import { MockBroker, RedisServer } from './processes';

export const TENCENT_APP = { sdkAppId: '1400000001', secretKey: randomBytes(32).toString('hex'), admins: ['administrator'] };
export const NETEASE_APP = { appKey: 'go9dnk49bkd9jd9vmel1kglw0803mgq3', appSecret: randomBytes(12).toString('hex') };

/** Random suffix so topics, groups and key prefixes never collide between tests. */
export function uniq(): string {
  return randomBytes(4).toString('hex');
}

/** Test configuration: its own topics, consumer group and key prefix. */
export function testConfig(brokers: string[], redisUrl: string, overrides: Record<string, string> = {}): AppConfig {
  const id = uniq();
  return loadConfig({
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_CONSUMER_GROUP: `projector-${id}`,
    TOPIC_MESSAGE_SENT: `${DEFAULT_TOPICS.messageSent}-${id}`,
    TOPIC_READ_ACK: `${DEFAULT_TOPICS.readAck}-${id}`,
    TOPIC_MENTION: `${DEFAULT_TOPICS.mention}-${id}`,
    TOPIC_DIRECTORY: `${DEFAULT_TOPICS.directory}-${id}`,
    TOPIC_DEAD_LETTER: `${DEFAULT_TOPICS.deadLetter}-${id}`,
    TOPIC_UNREAD_CHANGED: `${DEFAULT_TOPICS.unreadChanged}-${id}`,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `t${id}`,
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    GATEWAY_ADMIN_PORT: '0',
    PROJECTOR_METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    TENANTS_JSON: JSON.stringify({ tencent: [TENCENT_APP], netease: [NETEASE_APP] }),
    ...overrides,
  });
}

/**
 * One test environment: a private mock broker and redis-server, a projector and a gateway
 * in this process, a producer and a Redis client for assertions. `stop()` closes all.
 */
export class Harness {
  projector?: RunningProjector;
  gateway?: RunningGateway;
  private constructor(
    readonly broker: MockBroker,
    readonly redisServer: RedisServer,
    readonly config: AppConfig,
    readonly producer: EventProducer,
    readonly redis: Redis,
    readonly kafka: Kafka,
  ) {}

  get topics(): TopicNames {
    return this.config.kafka.topics;
  }

  static async start(
    opts: {
      projector?: boolean;
      gateway?: boolean;
      env?: Record<string, string>;
      partitions?: number;
      brokers?: number;
      /** Extra redis-server arguments (e.g. `--appendonly yes` to keep data across RedisServer.kill/restart). */
      redisArgs?: string[];
    } = {},
  ): Promise<Harness> {
    const redisServer = await RedisServer.start(opts.redisArgs);
    const broker = await MockBroker.start({ brokers: opts.brokers ?? 1 });
    const config = testConfig(broker.brokers, redisServer.url, opts.env);
    const partitions = opts.partitions ?? 4;
    await broker.createTopics({
      [config.kafka.topics.messageSent]: partitions,
      [config.kafka.topics.readAck]: partitions,
      [config.kafka.topics.mention]: partitions,
      [config.kafka.topics.directory]: partitions,
      [config.kafka.topics.deadLetter]: 1,
      [config.kafka.topics.unreadChanged]: partitions,
    });
    const kafka = new Kafka({ clientId: 'test', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const producer = new EventProducer(kafka, config.kafka.topics);
    await producer.connect();
    const redis = new Redis(redisServer.url);
    const h = new Harness(broker, redisServer, config, producer, redis, kafka);
    if (opts.projector !== false) h.projector = await startProjector(config, { logger: process.env.DEBUG_PROJECTOR ? undefined : false });
    if (opts.gateway !== false) h.gateway = await startGateway(config, { logger: false });
    return h;
  }

  /** Produces events (plain objects following the contracts; validation happens in the projector). */
  send(...events: (UnreadEvent | Record<string, unknown>)[]): Promise<void> {
    return this.producer.send(events as UnreadEvent[]);
  }

  /** Reads every record of the dead-letter topic (fresh consumer group each call). */
  async deadLetters(expected: number, timeoutMs = 15_000): Promise<{ value: string; headers: Record<string, string> }[]> {
    const consumer = this.kafka.consumer({ groupId: `dl-${uniq()}`, sessionTimeout: 10_000, heartbeatInterval: 500 });
    const got: { value: string; headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: this.topics.deadLetter, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${expected} dead letters`)), timeoutMs);
      void consumer.run({
        eachMessage: ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          got.push({ value: message.value?.toString('utf8') ?? '', headers });
          if (got.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
    try {
      await done;
    } finally {
      await consumer.disconnect();
    }
    return got;
  }

  async stop(): Promise<void> {
    await this.gateway?.close().catch(() => undefined);
    await this.projector?.close().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    this.redis.disconnect();
    await this.broker.stop();
    await this.redisServer.stop();
  }
}
