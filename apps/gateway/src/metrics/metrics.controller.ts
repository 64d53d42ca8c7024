import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ADMIN_TAG } from '../common/openapi';
import { GatewayMetrics } from './gateway.metrics';

@Controller('metrics')
@ApiTags(ADMIN_TAG)
export class MetricsController {
  constructor(private readonly metrics: GatewayMetrics) {}

  /** Prometheus text exposition. */
  @Get()
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'unread_gateway_request_seconds by route and API answer code, and the process metrics', schema: { type: 'string' } })
  async metricsText(@Res() res: Response): Promise<void> {
    res.setHeader('content-type', this.metrics.registry.contentType);
    res.status(200).send(await this.metrics.registry.metrics());
  }
}
