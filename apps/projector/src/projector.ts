import { ConsoleLogger, type INestMicroservice, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CONSUMED_TOPIC_ROLES } from '@app/contracts';
import { nestLogLevels, type AppConfig } from '@app/config';
import { KafkaProbe, asKafkaRefusal, createKafka } from '@app/kafka';
import { ProjectionStore, REDIS, type RedisClient } from '@app/store';
import { KafkaBatchTransport } from './kafka-batch.transport';
import { LagMonitor } from './lag.monitor';
import { PartitionWaits, heldPartitions as heldOf } from './partition-waits';
import { ProjectorMetrics } from './projector.metrics';
import { ProjectorModule } from './projector.module';
import { ConsumerWatch, RedisProbe } from './readiness.monitor';

export interface RunningProjector {
  app: INestMicroservice;
  /** Address of the /metrics and /ready endpoints, when a port was given. */
  metricsPort?: number;
  close(): Promise<void>;
}

/** Starts a projector (used by main.ts, the local runner and the tests). */
export async function startProjector(
  config: AppConfig,
  opts: { logger?: LoggerService | false; metricsPort?: number } = {},
): Promise<RunningProjector> {
  const logger = opts.logger ?? new ConsoleLogger('projector', { json: true, logLevels: nestLogLevels(config.logLevel) });
  const kafka = createKafka(config.kafka, `${config.kafka.clientId}-projector`, (level, message, extra) => {
    if (logger && (level === 'error' || level === 'warn')) logger[level]?.(`${message} ${JSON.stringify(extra)}`);
  });
  // says in one line, and in /ready, when the brokers refuse the client's security
  const kafkaProbe = new KafkaProbe(config.kafka, `${config.kafka.clientId}-projector`, (level, message) => {
    if (logger) logger[level === 'info' ? 'log' : level]?.(message);
  });
  kafkaProbe.start();
  const topics = CONSUMED_TOPIC_ROLES.map((r) => config.kafka.topics[r]);
  const consumerWatch = new ConsumerWatch();
  consumerWatch.observe(kafka);
  // The strategy is the module's KafkaBatchTransport, built with its BatchApplier (ProjectorModule).
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(ProjectorModule.forRoot(config, kafka), {
    inject: [KafkaBatchTransport],
    useFactory: (transport: KafkaBatchTransport) => ({ strategy: transport }),
    logger,
    abortOnError: false,
  });
  const strategy = app.get(KafkaBatchTransport);
  const waits = app.get(PartitionWaits);
  app.get(ProjectorMetrics).watchBehind(() => strategy.behind());
  app.get(ProjectorMetrics).watchWaits(() => waits.all());
  app.get(ProjectorMetrics).watchPruning(app.get(ProjectionStore).pruning);
  await app.listen().catch((err: unknown) => {
    kafkaProbe.stop();
    throw asKafkaRefusal(err, config.kafka);
  });
  const metrics = app.get(ProjectorMetrics);
  const lag = new LagMonitor(kafka.admin(), config.kafka.consumerGroup, topics, metrics.consumerLag);
  const redis = new RedisProbe(app.get<RedisClient>(REDIS), metrics.redisRoundTrip);
  lag.start(config.projectorMonitorIntervalMs);
  redis.start(config.projectorMonitorIntervalMs);

  /** Partitions that keep the projector from being ready (behind, or waiting on Redis too long). */
  const heldPartitions = () => heldOf(strategy.behind(), waits);
  const ready = async (res: ServerResponse) => {
    const redisOk = await redis.probe();
    const joined = consumerWatch.isJoined;
    const held = heldPartitions();
    const isReady = joined && redisOk && held.length === 0;
    metrics.ready.set(isReady ? 1 : 0);
    const body = {
      ready: isReady,
      consumer: joined ? 'joined' : 'not joined',
      redis: redisOk ? 'reachable' : 'unreachable',
      ...(held.length > 0 ? { partitions: held } : {}),
      ...(kafkaProbe.state === 'refused' ? { kafka: 'refused' } : {}),
    };
    res.writeHead(body.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://projector');
    if (url.pathname === '/metrics') {
      metrics.ready.set(consumerWatch.isJoined && redis.isReachable && heldPartitions().length === 0 ? 1 : 0);
      // `?name[]=a&name[]=b` (the filter Prometheus' federation endpoint takes) renders only those
      // metrics: a poller sampling a counter every few ms does not pay for rendering them all.
      const names = url.searchParams.getAll('name[]');
      const body = names.length > 0 ? Promise.all(names.map((n) => metrics.registry.getSingleMetricAsString(n).catch(() => ''))).then((parts) => parts.filter(Boolean).join('\n')) : metrics.registry.metrics();
      body.then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text)).catch(() => res.writeHead(500).end());
    } else if (url.pathname === '/ready') {
      ready(res).catch(() => res.writeHead(500).end());
    } else {
      res.writeHead(404).end();
    }
  };
  let server: Server | undefined;
  let metricsPort: number | undefined;
  if (opts.metricsPort !== undefined) {
    server = createServer(handle);
    await new Promise<void>((r) => server!.listen(opts.metricsPort, r));
    const addr = server.address();
    metricsPort = typeof addr === 'object' && addr ? addr.port : undefined;
  }
  return {
    app,
    metricsPort,
    close: async () => {
      server?.close();
      kafkaProbe.stop();
      redis.stop();
      await lag.stop().catch(() => undefined);
      await app.close();
    },
  };
}
