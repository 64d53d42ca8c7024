import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { Keyspace } from './keyspace';
import { ProjectionStore } from './projection.store';
import { createRedisClient, type RedisClient } from './redis.factory';

export const REDIS = Symbol('REDIS');

export interface StoreModuleOptions {
  /** The projector queues commands while Redis is away; the gateway fails fast. */
  offlineQueue: boolean;
  connectionName: string;
}

/** Provides the Redis client (REDIS) and the ProjectionStore to an app. */
@Global()
@Module({})
export class StoreModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  static forRoot(opts: StoreModuleOptions) {
    return {
      module: StoreModule,
      providers: [
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
          provide: ProjectionStore,
          inject: [REDIS, APP_CONFIG],
          useFactory: (redis: RedisClient, config: AppConfig) =>
            new ProjectionStore(redis, new Keyspace(`${config.redis.keyPrefix}`), {
              mentionRetentionMs: config.mentionRetentionMs,
            }),
        },
      ],
      exports: [REDIS, ProjectionStore],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
