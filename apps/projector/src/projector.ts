import { ConsoleLogger, type INestMicroservice, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import { CONSUMED_TOPIC_ROLES } from '@app/contracts';
import { nestLogLevels, type AppConfig } from '@app/config';
import { KafkaProbe, asKafkaRefusal, createKafka } from '@app/kafka';
import { ProjectionStore, REDIS, type RedisClient } from '@app/store';
import { KafkaBatchTransport } from './kafka-batch.transport';
import { LagMonitor } from './lag.monitor';
import { PartitionWaits, heldPartitions } from './partition-waits';
import { serveProjectorEndpoints } from './projector.endpoints';
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
  const metrics = app.get(ProjectorMetrics);
  metrics.watchBehind(() => strategy.behind());
  metrics.watchWaits(() => waits.all());
  metrics.watchPruning(app.get(ProjectionStore).pruning);
  await app.listen().catch((err: unknown) => {
    kafkaProbe.stop();
    throw asKafkaRefusal(err, config.kafka);
  });
  const lag = new LagMonitor(kafka.admin(), config.kafka.consumerGroup, topics, metrics.consumerLag);
  const redis = new RedisProbe(app.get<RedisClient>(REDIS), metrics.redisRoundTrip);
  lag.start(config.projectorMonitorIntervalMs);
  redis.start(config.projectorMonitorIntervalMs);

  const endpoints =
    opts.metricsPort === undefined
      ? undefined
      : await serveProjectorEndpoints(opts.metricsPort, {
          metrics,
          consumer: consumerWatch,
          redis,
          kafka: kafkaProbe,
          held: () => heldPartitions(strategy.behind(), waits),
        });
  return {
    app,
    metricsPort: endpoints?.port,
    close: async () => {
      endpoints?.close();
      kafkaProbe.stop();
      redis.stop();
      await lag.stop().catch(() => undefined);
      await app.close();
    },
  };
}
