import { ConsoleLogger, type INestMicroservice, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createServer, type Server } from 'node:http';
import { CONSUMED_TOPIC_ROLES } from '@app/contracts';
import { nestLogLevels, type AppConfig } from '@app/config';
import { createKafka } from '@app/kafka';
import { KafkaBatchTransport } from './kafka-batch.transport';
import { ProjectorMetrics } from './projector.metrics';
import { ProjectorModule } from './projector.module';

export interface RunningProjector {
  app: INestMicroservice;
  /** Address of the /metrics endpoint, when a port was given. */
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
  const strategy = new KafkaBatchTransport({
    kafka,
    groupId: config.kafka.consumerGroup,
    topics: CONSUMED_TOPIC_ROLES.map((r) => config.kafka.topics[r]),
    commitIntervalMs: config.projector.commitIntervalMs,
    maxInFlightEvents: config.projector.maxInFlightEvents,
  });
  const app = await NestFactory.createMicroservice(ProjectorModule.forRoot(config, kafka, strategy), {
    strategy,
    logger,
    abortOnError: false,
  });
  app.get(ProjectorMetrics).watchBehind(() => strategy.behind());
  await app.listen();
  let server: Server | undefined;
  let metricsPort: number | undefined;
  if (opts.metricsPort !== undefined) {
    const metrics = app.get(ProjectorMetrics);
    server = createServer((req, res) => {
      if (req.url === '/metrics') {
        metrics.registry
          .metrics()
          .then((body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body))
          .catch(() => res.writeHead(500).end());
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server!.listen(opts.metricsPort, r));
    const addr = server.address();
    metricsPort = typeof addr === 'object' && addr ? addr.port : undefined;
  }
  return {
    app,
    metricsPort,
    close: async () => {
      server?.close();
      await app.close();
    },
  };
}

