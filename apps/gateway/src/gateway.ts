import { ConsoleLogger, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nestLogLevels, type AppConfig } from '@app/config';
import { REDIS, type RedisClient } from '@app/store';
import { serveOpenApi } from './common/openapi';
import { GatewayModule } from './gateway.module';
import { GatewayMetrics, requestTimer } from './metrics/gateway.metrics';

/** Largest request body accepted; larger ones get the family's parameter error. */
export const MAX_BODY = '256kb';

export interface RunningGateway {
  app: INestApplication;
  /** The public port: the vendor APIs, the summary API, /health/*. e.g. http://127.0.0.1:8080 */
  url: string;
  /** The admin port: /metrics, /openapi.json, /asyncapi.json, /docs (and /health/*). e.g. http://127.0.0.1:9465 */
  adminUrl: string;
  close(): Promise<void>;
}

/** Marks a request that arrived on the admin listener. */
const ADMIN_LISTENER = Symbol('admin listener');

/** Paths served on the admin port only (docs/operations.md, "Gateway: the admin port"). */
export function isAdminPath(path: string): boolean {
  return path === '/metrics' || path === '/openapi.json' || path === '/asyncapi.json' || path === '/docs' || path.startsWith('/docs/');
}

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The headers on every answer, of both ports: no content sniffing, no framing, no referrer,
 * no caching of API answers; a Content-Security-Policy that lets nothing load, except on the
 * Swagger UI, which may load its own scripts, styles and images; HSTS over HTTPS. Computed
 * once: the API's list and the docs' list.
 */
function securityHeaders(https: boolean): { api: [string, string][]; docs: [string, string][] } {
  const common: [string, string][] = [
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ['Referrer-Policy', 'no-referrer'],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
  ];
  const hsts: [string, string][] = https ? [['Strict-Transport-Security', 'max-age=31536000']] : [];
  return {
    api: [...common, ['Content-Security-Policy', API_CSP], ['Cache-Control', 'no-store'], ...hsts],
    docs: [...common, ['Content-Security-Policy', DOCS_CSP], ...hsts],
  };
}

/** A charset parameter of a Content-Type header, e.g. `utf-8` of `application/json; charset="utf-8"`. */
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

/**
 * What every request goes through before its route, in one middleware (each express
 * middleware is a layer the router walks for every request):
 *   1. the metrics' timer (requestTimer: every answer counted, by route and API code);
 *   2. the security headers (securityHeaders), so every answer carries them, also 3.'s 404;
 *   3. the listener gate: the public port answers the admin paths 404, the admin port answers
 *      404 for everything but the admin paths and /health/*, both in the gateway's own shape
 *      of an unmatched path;
 *   4. UTF-8 only: a body declared in any other charset is refused (JSON is UTF-8, and both
 *      vendors send `charset=utf-8`): body-parser would decode whatever iconv-lite knows, so a
 *      `charset=utf-7` body `+AHsAfQ-` would read as `{}`. The error is body-parser's own for a
 *      charset it does not know (415, charset.unsupported), which the filter answers in the
 *      family's shape;
 *   5. the body read as text whatever the content type (at most MAX_BODY), so each API family
 *      decides what a malformed body means in its own error vocabulary (see docs/api/).
 */
function frontDoor(timer: (res: Response) => void, https: boolean): (req: Request, res: Response, next: NextFunction) => void {
  const headers = securityHeaders(https);
  const text = express.text({ type: () => true, limit: MAX_BODY });
  return (req, res, next) => {
    timer(res);
    const path = req.path;
    const docs = path === '/docs' || path.startsWith('/docs/');
    for (const [name, value] of docs ? headers.docs : headers.api) res.setHeader(name, value);
    const onAdmin = (req as Request & { [ADMIN_LISTENER]?: true })[ADMIN_LISTENER] === true;
    const admin = isAdminPath(path);
    if (!(onAdmin ? admin || path.startsWith('/health/') : !admin)) {
      res.status(404).json({ statusCode: 404, message: 'not found' });
      return;
    }
    const type = req.headers['content-type'];
    if (type !== undefined && type.includes(';')) {
      const charset = CHARSET.exec(type)?.[1];
      if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
        next(Object.assign(new Error('unsupported charset: only utf-8 is accepted'), { status: 415, expose: true, type: 'charset.unsupported' }));
        return;
      }
    }
    text(req, res, next);
  };
}

/** Starts a gateway (used by main.ts, the local runner and the tests). Port 0 picks a free one. */
export async function startGateway(
  config: AppConfig,
  opts: { logger?: LoggerService | false } = {},
): Promise<RunningGateway> {
  if (config.tenants.tencent.length + config.tenants.netease.length === 0) {
    throw new Error('the gateway needs at least one app in TENANTS_JSON or TENANTS_FILE');
  }
  const logger = opts.logger ?? new ConsoleLogger('gateway', { json: true, logLevels: nestLogLevels(config.logLevel) });
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), {
    bodyParser: false,
    logger,
    ...(config.http.tls ? { httpsOptions: { cert: config.http.tls.cert, key: config.http.tls.key } } : {}),
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const timer = requestTimer(app.get(GatewayMetrics), app.getHttpAdapter().getInstance());
  app.use(frontDoor(timer, config.http.tls !== undefined));
  app.enableShutdownHooks();
  serveOpenApi(app, { ui: config.http.docsUi });
  // Give Redis a moment to connect so the first requests do not answer an internal error; a
  // gateway whose Redis is down still starts, answers 91000/500 and reports not ready.
  await redisReady(app.get<RedisClient>(REDIS), Math.min(config.requestTimeoutMs * 2, 5_000));
  await app.listen(config.http.port, config.http.host);
  // The admin listener hands its requests to the same express app, marked so that
  // listenerGate serves them the admin paths only.
  const handler = app.getHttpAdapter().getInstance() as (req: IncomingMessage, res: unknown) => void;
  const admin = createServer((req, res) => {
    (req as IncomingMessage & { [ADMIN_LISTENER]?: true })[ADMIN_LISTENER] = true;
    handler(req, res);
  });
  try {
    await listen(admin, config.http.admin.port, config.http.admin.host);
  } catch (err) {
    await app.close();
    throw err;
  }
  const url = `${config.http.tls ? 'https' : 'http'}://${hostOf(config.http.host)}:${(app.getHttpServer().address() as AddressInfo).port}`;
  const adminUrl = `http://${hostOf(config.http.admin.host)}:${(admin.address() as AddressInfo).port}`;
  return {
    app,
    url,
    adminUrl,
    close: async () => {
      await Promise.all([closeServer(admin), app.close()]);
    },
  };
}

function hostOf(listen: string): string {
  return listen === '0.0.0.0' || listen === '::' ? '127.0.0.1' : listen;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

function redisReady(redis: RedisClient, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}
