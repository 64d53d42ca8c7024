import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { KafkaProbe } from '@app/kafka';
import { REDIS, type RedisClient } from '@app/store';
import { LiveDto, NotReadyDto, ReadyDto } from './health.dto';

@Controller('health')
@ApiTags('Health')
export class HealthController {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(KafkaProbe) private readonly kafka: KafkaProbe,
  ) {}

  /** The process is up. */
  @Get('live')
  @HttpCode(200)
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse({ type: LiveDto })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready to answer queries: Redis answers a PING within the request timeout, and the
   * brokers have not refused the client's security (admin writes could never work: retrying
   * does not heal a configuration mismatch; a broker that is merely away keeps reads ready).
   */
  @Get('ready')
  @ApiOperation({
    summary: "Ready to answer queries: Redis answers a PING within REQUEST_TIMEOUT_MS and the brokers did not refuse the client's security",
  })
  @ApiOkResponse({ type: ReadyDto })
  @ApiServiceUnavailableResponse({ type: NotReadyDto })
  async ready(@Res() res: Response): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let reason: string | undefined;
    try {
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('redis did not answer PING in time')), this.config.requestTimeoutMs);
        }),
      ]);
    } catch (err) {
      reason = (err as Error).message;
    } finally {
      clearTimeout(timer);
    }
    const kafkaRefused = this.kafka.state === 'refused';
    if (reason === undefined && !kafkaRefused) {
      res.status(200).json({ status: 'ready', redis: 'up' });
      return;
    }
    res.status(503).json({
      status: 'not-ready',
      redis: reason === undefined ? 'up' : 'down',
      ...(reason !== undefined ? { reason } : {}),
      ...(kafkaRefused ? { kafka: 'refused' } : {}),
    });
  }
}
