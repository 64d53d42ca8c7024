import { Module } from '@nestjs/common';
import { UserSigVerifier } from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { RateLimiter, REDIS, type RedisClient } from '@app/store';
import { C2cController } from './c2c/c2c.controller';
import { C2cService } from './c2c/c2c.service';
import { GroupController } from './group/group.controller';
import { GroupService } from './group/group.service';
import { TENCENT_USERSIG, TencentGuard } from './tencent.guard';

/**
 * Tencent Cloud IM REST endpoints (/v4/...).
 *
 * To add an endpoint family: write a controller decorated with
 * `@TencentController('<service>')` and one `@TencentCommand('<command>')` method per
 * command (see c2c/c2c.controller.ts and tencent-request.ts), then list the controller in
 * `controllers` below (and its services in `providers`). Every route then passes
 * TencentGuard (sdkappid → URL params → usersig → admin → rate limit) before its handler,
 * which parses its body with `@TencentBody(<malformed-body code>)`.
 */
@Module({
  controllers: [
    C2cController,
    GroupController,
  ],
  providers: [
    C2cService,
    GroupService,
    TencentGuard,
    {
      provide: TENCENT_USERSIG,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const keys = new Map(config.tenants.tencent.map((t) => [t.sdkAppId, t.secretKey]));
        return new UserSigVerifier({ secretKeyOf: (id) => keys.get(id), cacheMs: config.userSigCacheMs });
      },
    },
    {
      provide: RateLimiter,
      inject: [REDIS, APP_CONFIG],
      useFactory: (redis: RedisClient, config: AppConfig) => new RateLimiter(redis, config.redis.keyPrefix),
    },
  ],
})
export class TencentModule {}
