import { Module, type DynamicModule } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { ConfigModule, type AppConfig } from '@app/config';
import { StoreModule } from '@app/store';
import { ChangeFeed } from './change-feed';
import { DeadLetterService } from './dead-letter.service';
import { BATCH_WRITER_OPTIONS, GENERATION_POLL_MS, ProjectorConsumer } from './projector.consumer';
import { PartitionWaits } from './partition-waits';
import { ProjectorMetrics } from './projector.metrics';
import type { KafkaBatchTransport } from './kafka-batch.transport';
import { BATCH_TRANSPORT, KAFKA } from './projector.tokens';

@Module({})
export class ProjectorModule {
  static forRoot(config: AppConfig, kafka: Kafka, transport: KafkaBatchTransport): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [ConfigModule.forRoot(config), StoreModule.forRoot({ offlineQueue: true, connectionName: 'unread-projector', generationWatchMs: GENERATION_POLL_MS, batchWriter: BATCH_WRITER_OPTIONS })],
      controllers: [ProjectorConsumer],
      providers: [{ provide: KAFKA, useValue: kafka }, { provide: BATCH_TRANSPORT, useValue: transport }, DeadLetterService, ProjectorMetrics, PartitionWaits, ChangeFeed],
    };
  }
}
