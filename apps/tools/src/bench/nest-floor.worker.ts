import 'reflect-metadata';
import { Controller, Header, HttpCode, Module, Post, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { runWorker } from './worker';

/**
 * The queries' framework floor: a NestJS app on platform-express, in its own process (as
 * the gateway is), with one POST route at the endpoint's path that answers the endpoint's
 * own response body, byte for byte, and does nothing else (no body parsing, guard,
 * middleware or Redis). What the gateway's stack costs before any of its own work.
 */
function floorModule(path: string, body: string): Type {
  @Controller()
  class FloorController {
    @Post(path)
    @HttpCode(200)
    @Header('Content-Type', 'application/json; charset=utf-8')
    answer(): string {
      return body;
    }
  }
  @Module({ controllers: [FloorController] })
  class FloorModule {}
  return FloorModule;
}

runWorker<{ path: string; body: string }, { served: number }>(async ({ path, body }, control) => {
  const app = await NestFactory.create<NestExpressApplication>(floorModule(path, body), { bodyParser: false, logger: false });
  app.disable('x-powered-by');
  app.set('etag', false);
  await app.listen(0, '127.0.0.1');
  control.ready((app.getHttpServer().address() as AddressInfo).port);
  await control.stopped;
  await app.close();
  return { served: 0 };
});
