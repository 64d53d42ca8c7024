import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { REDIS, type RedisClient } from '@app/store';
import { LiveDto, NotReadyDto, ReadyDto } from './health.dto';

@Controller('health')
@ApiTags('Health')
export class HealthController {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The process is up. */
  @Get('live')
  @HttpCode(200)
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse({ type: LiveDto })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready to answer queries: Redis answers a PING within the request timeout. */
  @Get('ready')
  @ApiOperation({ summary: 'Ready to answer queries: Redis answers a PING within REQUEST_TIMEOUT_MS' })
  @ApiOkResponse({ type: ReadyDto })
  @ApiServiceUnavailableResponse({ type: NotReadyDto })
  async ready(@Res() res: Response): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('redis did not answer PING in time')), this.config.requestTimeoutMs);
        }),
      ]);
      res.status(200).json({ status: 'ready', redis: 'up' });
    } catch (err) {
      res.status(503).json({ status: 'not-ready', redis: 'down', reason: (err as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
