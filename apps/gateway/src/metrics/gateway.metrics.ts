import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
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

/** When the request arrived (performance.now()) and the API code its JSON answer carries. */
const STARTED = Symbol('request started');
const CODE = Symbol('answer code');
type Timed = Response & { [STARTED]?: number; [CODE]?: string };

/** The express application's per-request response prototype (express sets it on every `res`). */
interface ExpressApp {
  response: object;
}

/**
 * Times each request and notes the API code its JSON answer carries. The code is taken in
 * `res.json`, overridden once on the app's response prototype (every answer of both
 * families is a `res.json`) instead of wrapped per request; the time is observed when the
 * answer is finished, by one shared listener, into the (route, code) series' child, kept
 * per series. Returns what the request path calls for each request.
 */
export function requestTimer(metrics: GatewayMetrics, app: ExpressApp): (res: Response) => void {
  const proto = app.response as { json: (this: Timed, body: unknown) => Response };
  const json = proto.json;
  proto.json = function (this: Timed, body: unknown): Response {
    if (body && typeof body === 'object') {
      const b = body as { ErrorCode?: unknown; code?: unknown };
      const c = b.ErrorCode ?? b.code;
      if (typeof c === 'number' || typeof c === 'string') this[CODE] = String(c);
    }
    return json.call(this, body);
  };
  const series = new Map<string, { observe(seconds: number): void }>();
  function finished(this: Timed): void {
    // The matched route, never the raw path: unknown paths must not grow the label set.
    const route = ((this.req as Request).route as { path?: string } | undefined)?.path ?? 'unmatched';
    const code = this[CODE] || String(this.statusCode);
    const key = `${route}\n${code}`;
    let child = series.get(key);
    if (!child) series.set(key, (child = metrics.requests.labels({ route, code })));
    child.observe((performance.now() - this[STARTED]!) / 1000);
  }
  return (res: Timed) => {
    res[STARTED] = performance.now();
    res.on('finish', finished);
  };
}
