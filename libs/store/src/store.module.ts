import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { BatchWriter, type BatchWriterOptions } from './batch-writer';
import { Generations } from './generations';
import { Keyspace } from './keyspace';
import { ProjectionStore } from './projection.store';
import { closeRedisClient, createRedisClient, type RedisClient } from './redis.factory';
import { storeOptionsOf } from './store-options';

export const REDIS = Symbol('REDIS');
/** Injection token of the app's Generations (the active projection generation). */
export const GENERATIONS = Symbol('GENERATIONS');
const GENERATION_WATCH_MS = Symbol('GENERATION_WATCH_MS');

/** How often the gateway re-reads the generation pointer; a rebuild keeps the old generation well beyond it. */
export const GENERATION_REFRESH_MS = 1_000;

/**
 * Watches the app's generation pointer and switch fence (Generations.watch) from start-up
 * to shutdown: the first read before the app answers, then one MGET every interval in the
 * background, so no request or batch waits for it. A request builds its keys from the
 * generation read last; one that straddles a switch may read the old generation for some
 * keys and the new one for others, both complete (readers are switched only to a finished
 * generation, and the old one is kept for a grace period, docs/reliability.md).
 */
@Injectable()
export class GenerationWatch implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(GENERATIONS) private readonly generations: Generations,
    @Inject(GENERATION_WATCH_MS) private readonly intervalMs: number,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.generations.watch(this.intervalMs);
  }

  onApplicationShutdown(): void {
    this.generations.stop();
  }
}

export interface StoreModuleOptions {
  /** The projector queues commands while Redis is away; the gateway fails fast. */
  offlineQueue: boolean;
  connectionName: string;
  /**
   * How often the generation pointer and the switch fence are re-read (default
   * GENERATION_REFRESH_MS): the gateway's requests and the projector's batches both go by
   * the generation read last.
   */
  generationWatchMs?: number;
  /** The batch writer's options (the projector's: it batches; without them the store has no batch writer). */
  batchWriter?: BatchWriterOptions;
}

/** Provides the Redis client (REDIS), the Generations (GENERATIONS) and the ProjectionStore to an app. */
@Global()
@Module({})
export class StoreModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  static forRoot(opts: StoreModuleOptions): DynamicModule {
    const providers: Provider[] = [
      {
        provide: REDIS,
        inject: [APP_CONFIG],
        useFactory: (config: AppConfig) =>
          createRedisClient(config.redis, {
            offlineQueue: opts.offlineQueue,
            connectionName: opts.connectionName,
            commandTimeoutMs: opts.offlineQueue ? 0 : config.requestTimeoutMs,
          }),
      },
      {
        provide: GENERATIONS,
        inject: [REDIS, APP_CONFIG],
        useFactory: (redis: RedisClient, config: AppConfig) => new Generations(redis, config.redis.keyPrefix),
      },
      {
        provide: ProjectionStore,
        inject: [REDIS, APP_CONFIG, GENERATIONS],
        useFactory: (redis: RedisClient, config: AppConfig, generations: Generations) =>
          new ProjectionStore(
            redis,
            new Keyspace(config.redis.keyPrefix, generations),
            storeOptionsOf(config),
            opts.batchWriter && new BatchWriter(redis, opts.batchWriter),
          ),
      },
      { provide: GENERATION_WATCH_MS, useValue: opts.generationWatchMs ?? GENERATION_REFRESH_MS },
      GenerationWatch,
    ];
    return { module: StoreModule, providers, exports: [REDIS, GENERATIONS, ProjectionStore] };
  }

  async onApplicationShutdown(): Promise<void> {
    await closeRedisClient(this.redis);
  }
}
