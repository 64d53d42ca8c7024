import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { RateLimiter, REDIS, type RedisClient } from '@app/store';
import { QchatAuthGuard } from './qchat-auth.guard';
import { UnreadMentionsController } from './unread-mentions.controller';
import { UnreadMentionsService } from './unread-mentions.service';

/** NetEase QChat server API endpoints (/nimserver/qchat/...), each behind QchatAuthGuard. */
@Module({
  controllers: [UnreadMentionsController],
  providers: [
    UnreadMentionsService,
    QchatAuthGuard,
    {
      provide: RateLimiter,
      inject: [REDIS, APP_CONFIG],
      useFactory: (redis: RedisClient, config: AppConfig) =>
        new RateLimiter(redis, config.redis.keyPrefix),
    },
  ],
})
export class QchatModule {}
