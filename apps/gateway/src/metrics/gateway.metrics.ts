import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the gateway, served on GET /metrics. */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();
  /**
   * Every API call by route and by the answer's own code (Tencent ErrorCode, QChat code):
   * both families answer HTTP 200 for API failures, so the HTTP status alone says little.
   */
  readonly requests = new Histogram({
    name: 'unread_gateway_request_seconds',
    help: 'Time to answer an API call, by route and API answer code',
    labelNames: ['route', 'code'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

/** Times each request and notes the API code its JSON answer carries. */
@Injectable()
export class GatewayMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: GatewayMetrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    let code = '';
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      if (body && typeof body === 'object') {
        const b = body as { ErrorCode?: unknown; code?: unknown };
        const c = b.ErrorCode ?? b.code;
        if (typeof c === 'number' || typeof c === 'string') code = String(c);
      }
      return json(body);
    };
    res.once('finish', () => {
      // The matched route, never the raw path: unknown paths must not grow the label set.
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      this.metrics.requests.observe({ route, code: code || String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  }
}
