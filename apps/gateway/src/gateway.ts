import { ConsoleLogger, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { nestLogLevels, type AppConfig } from '@app/config';
import { REDIS, type RedisClient } from '@app/store';
import { serveOpenApi } from './common/openapi';
import { GatewayModule } from './gateway.module';
import { GatewayMetrics, GatewayMetricsMiddleware } from './metrics/gateway.metrics';

/** Largest request body accepted; larger ones get the family's parameter error. */
export const MAX_BODY = '256kb';

export interface RunningGateway {
  app: INestApplication;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
}


/** Starts a gateway (used by main.ts, the local runner and the tests). Port 0 picks a free one. */
export async function startGateway(
  config: AppConfig,
  opts: { logger?: LoggerService | false } = {},
): Promise<RunningGateway> {
  const logger = opts.logger ?? new ConsoleLogger('gateway', { json: true, logLevels: nestLogLevels(config.logLevel) });
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(config), {
    bodyParser: false,
    logger,
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // Bodies are read as text whatever the content type, so each API family decides what a
  // malformed body means in its own error vocabulary (see docs/api/).
  const metrics = new GatewayMetricsMiddleware(app.get(GatewayMetrics));
  app.use(metrics.use.bind(metrics));
  app.use(express.text({ type: () => true, limit: MAX_BODY }));
  app.enableShutdownHooks();
  serveOpenApi(app);
  // Give Redis a moment to connect so the first requests do not answer an internal error; a
  // gateway whose Redis is down still starts, answers 91000/500 and reports not ready.
  await redisReady(app.get<RedisClient>(REDIS), Math.min(config.requestTimeoutMs * 2, 5_000));
  await app.listen(config.http.port, config.http.host);
  const addr = app.getHttpServer().address() as AddressInfo;
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  return { app, url: `http://${host}:${addr.port}`, close: () => app.close() };
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
