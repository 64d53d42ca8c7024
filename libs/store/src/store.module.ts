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
import { Generations, Keyspace } from './keyspace';
import { ProjectionStore } from './projection.store';
import { closeRedisClient, createRedisClient, type RedisClient } from './redis.factory';

export const REDIS = Symbol('REDIS');
/** Injection token of the app's Generations (the active projection generation). */
export const GENERATIONS = Symbol('GENERATIONS');


/** How often readers re-read the generation pointer; a rebuild keeps the old generation well beyond it. */
export const GENERATION_REFRESH_MS = 1_000;

/**
 * Keeps the gateway's view of the active projection generation fresh: the pointer is re-read
 * every GENERATION_REFRESH_MS in the background (one MGET), so no request waits for it; when
 * a read fails the generation read last is kept. A request builds its keys from the
 * generation read last; one that straddles a switch may read the old generation for some
 * keys and the new one for others, both complete (readers are switched only to a finished
 * generation, and the old one is kept for a grace period, docs/reliability.md).
 */
@Injectable()
export class GenerationRefresher implements OnModuleInit, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(@Inject(GENERATIONS) private readonly generations: Generations) {}

  async onModuleInit(): Promise<void> {
    this.timer = setInterval(() => void this.generations.read().catch(() => undefined), GENERATION_REFRESH_MS);
    this.timer.unref();
    // The first read before the app answers; a Redis that is down is the readiness check's concern.
    await this.generations.read().catch(() => undefined);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}

export interface StoreModuleOptions {
  /** The projector queues commands while Redis is away; the gateway fails fast. */
  offlineQueue: boolean;
  connectionName: string;
  /** Re-read the generation pointer in the background (readers; default: when offlineQueue is false, i.e. the gateway). */
  refreshGeneration?: boolean;
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
          new ProjectionStore(redis, new Keyspace(config.redis.keyPrefix, generations), {
            mentionRetentionMs: config.mentionRetentionMs,
          }),
      },
    ];
    if (opts.refreshGeneration ?? !opts.offlineQueue) providers.push(GenerationRefresher);
    return { module: StoreModule, providers, exports: [REDIS, GENERATIONS, ProjectionStore] };
  }

  async onApplicationShutdown(): Promise<void> {
    await closeRedisClient(this.redis);
  }
}
