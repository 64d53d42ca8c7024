import { Logger, Module, type DynamicModule } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { APP_CONFIG, ConfigModule, type AppConfig } from '@app/config';
import { CONSUMED_TOPIC_ROLES } from '@app/contracts';
import { GENERATIONS, Generations, ProjectionStore, StoreModule } from '@app/store';
import { BATCH_WRITER_OPTIONS, BatchApplier, activeGeneration } from './batch-applier';
import { ChangeFeed } from './change-feed';
import { DeadLetterService } from './dead-letter.service';
import { KafkaBatchTransport } from './kafka-batch.transport';
import { PartitionWaits } from './partition-waits';
import { ProjectorMetrics } from './projector.metrics';
import { KAFKA } from './projector.tokens';

/** How often the active generation and the switch fence are read (the projector's one watch of them). */
export const GENERATION_POLL_MS = 100;

/**
 * The projector's parts: the transport (the Nest microservice strategy, projector.ts) is
 * built with the applier, which is built with the store, the dead-letter writer, the change
 * feed and the metrics; each calls the next directly.
 */
@Module({})
export class ProjectorModule {
  static forRoot(config: AppConfig, kafka: Kafka): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [
        ConfigModule.forRoot(config),
        StoreModule.forRoot({ offlineQueue: true, connectionName: 'unread-projector', generationWatchMs: GENERATION_POLL_MS, batchWriter: BATCH_WRITER_OPTIONS }),
      ],
      providers: [
        { provide: KAFKA, useValue: kafka },
        DeadLetterService,
        ProjectorMetrics,
        PartitionWaits,
        ChangeFeed,
        {
          provide: BatchApplier,
          inject: [APP_CONFIG, ProjectionStore, GENERATIONS, DeadLetterService, ChangeFeed, ProjectorMetrics, PartitionWaits],
          useFactory: (cfg: AppConfig, store: ProjectionStore, generations: Generations, refused: DeadLetterService, feed: ChangeFeed, metrics: ProjectorMetrics, waits: PartitionWaits) =>
            new BatchApplier({
              store,
              keyPrefix: cfg.redis.keyPrefix,
              topics: cfg.kafka.topics,
              generation: activeGeneration(generations),
              refused,
              feed,
              metrics,
              waits,
              logger: new Logger('Projector'),
            }),
        },
        {
          provide: KafkaBatchTransport,
          inject: [APP_CONFIG, BatchApplier],
          useFactory: (cfg: AppConfig, applier: BatchApplier) =>
            new KafkaBatchTransport({
              kafka,
              applier,
              groupId: cfg.kafka.consumerGroup,
              topics: CONSUMED_TOPIC_ROLES.map((r) => cfg.kafka.topics[r]),
              commitIntervalMs: cfg.projector.commitIntervalMs,
              maxInFlightEvents: cfg.projector.maxInFlightEvents,
            }),
        },
      ],
    };
  }
}
