import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { RateLimiter, REDIS, type RedisClient } from '@app/store';
import { SummaryController } from './summary.controller';
import { SummaryGuard } from './summary.guard';
import { SummaryService } from './summary.service';

/** GET /v1/apps/{appId}/accounts/{account}/unread, behind a per-tenant bearer key and rate limit. */
@Module({
  controllers: [SummaryController],
  providers: [
    SummaryService,
    SummaryGuard,
    {
      provide: RateLimiter,
      inject: [REDIS, APP_CONFIG],
      useFactory: (redis: RedisClient, config: AppConfig) => new RateLimiter(redis, config.redis.keyPrefix),
    },
  ],
})
export class SummaryModule {}
