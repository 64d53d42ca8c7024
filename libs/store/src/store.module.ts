import {
  Global,
  Inject,
  Injectable,
  Module,
  SetMetadata,
  type CallHandler,
  type DynamicModule,
  type ExecutionContext,
  type NestInterceptor,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { APP_INTERCEPTOR, Reflector } from '@nestjs/core';
import { Observable, from, switchMap } from 'rxjs';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { Generations, Keyspace } from './keyspace';
import { ProjectionStore } from './projection.store';
import { createRedisClient, type RedisClient } from './redis.factory';

export const REDIS = Symbol('REDIS');
/** Injection token of the app's Generations (the active projection generation). */
export const GENERATIONS = Symbol('GENERATIONS');

const NO_PROJECTION_READS = 'unread:no-projection-reads';
/** Marks a controller whose routes never read projections (health), so no generation is looked up for them. */
export const NoProjectionReads = (): ClassDecorator & MethodDecorator => SetMetadata(NO_PROJECTION_READS, true);

/** How often readers re-read the generation pointer; a rebuild keeps the old generation well beyond it. */
export const GENERATION_REFRESH_MS = 1_000;
const REFRESH_MS = GENERATION_REFRESH_MS;

/**
 * Pins one projection generation for the whole of each request, so a request never mixes
 * two generations while a rebuild switches readers over. The pointer is re-read every
 * GENERATION_REFRESH_MS in the background (one MGET); when a read fails the generation
 * read last is kept (a rebuild keeps the old generation for a grace period, see
 * docs/reliability.md).
 */
@Injectable()
export class GenerationInterceptor implements NestInterceptor, OnModuleInit, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(GENERATIONS) private readonly generations: Generations,
    private readonly reflector: Reflector,
  ) {}

  /** Re-reads the pointer every second in the background, so no request waits for it. */
  onModuleInit(): void {
    this.timer = setInterval(() => void this.generations.read().catch(() => undefined), REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (this.reflector.getAllAndOverride<boolean>(NO_PROJECTION_READS, [context.getHandler(), context.getClass()])) {
      return next.handle();
    }
    // Only the first requests of a process wait for the pointer; a failed read fails them like any Redis failure.
    const generation = this.generations.loaded ? Promise.resolve(this.generations.current()) : this.generations.refresh();
    return from(generation).pipe(
      switchMap((g) => new Observable((subscriber) => Generations.run(g, () => next.handle().subscribe(subscriber)))),
    );
  }
}

export interface StoreModuleOptions {
  /** The projector queues commands while Redis is away; the gateway fails fast. */
  offlineQueue: boolean;
  connectionName: string;
  /** Pin one generation per request (readers; default: when offlineQueue is false, i.e. the gateway). */
  pinGenerationPerRequest?: boolean;
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
    if (opts.pinGenerationPerRequest ?? !opts.offlineQueue) {
      providers.push({ provide: APP_INTERCEPTOR, useClass: GenerationInterceptor });
    }
    return { module: StoreModule, providers, exports: [REDIS, GENERATIONS, ProjectionStore] };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
