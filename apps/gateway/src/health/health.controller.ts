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
   * brokers have not refused the client's security (admin writes could never work, and
   * retrying does not heal a configuration mismatch; a broker that is merely away keeps the
   * reads ready). A 503 names the dependency that is down and never carries its error text
   * (the answer is public; the log says why).
   */
  @Get('ready')
  @ApiOperation({ summary: "Ready to answer queries: Redis answers a PING within REQUEST_TIMEOUT_MS and the brokers did not refuse the client's security" })
  @ApiOkResponse({ type: ReadyDto })
  @ApiServiceUnavailableResponse({ type: NotReadyDto })
  async ready(@Res() res: Response): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answered = await Promise.race([
        this.redis.ping().then(
          () => true,
          () => false,
        ),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), this.config.requestTimeoutMs);
        }),
      ]);
      const kafkaRefused = this.kafka.state === 'refused';
      if (answered && !kafkaRefused) res.status(200).json({ status: 'ready', redis: 'up' });
      else if (answered) res.status(503).json({ status: 'not-ready', redis: 'up', kafka: 'refused' });
      else res.status(503).json({ status: 'not-ready', redis: 'down', reason: 'redis did not answer PING', ...(kafkaRefused ? { kafka: 'refused' } : {}) });
    } finally {
      clearTimeout(timer);
    }
  }
}
