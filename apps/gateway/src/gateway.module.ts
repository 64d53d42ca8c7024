import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule, type AppConfig } from '@app/config';
import { EventProducer, createKafka } from '@app/kafka';
import { StoreModule } from '@app/store';
import { AsyncApiController } from './common/asyncapi.controller';
import { GatewayExceptionFilter } from './common/gateway-exception.filter';
import { HealthController } from './health/health.controller';
import { GatewayMetrics } from './metrics/gateway.metrics';
import { MetricsController } from './metrics/metrics.controller';
import { QchatModule } from './qchat/qchat.module';
import { SummaryModule } from './summary/summary.module';
import { TencentModule } from './tencent/tencent.module';

/** Appends admin writes to Kafka (the gateway never writes projections itself). */
@Global()
@Module({})
export class GatewayKafkaModule implements OnApplicationShutdown {
  constructor(@Inject(EventProducer) private readonly producer: EventProducer) {}

  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: GatewayKafkaModule,
      providers: [
        {
          provide: EventProducer,
          useFactory: () =>
            new EventProducer(createKafka(config.kafka, `${config.kafka.clientId}-gateway`), config.kafka.topics),
        },
      ],
      exports: [EventProducer],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}

@Module({})
export class GatewayModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        StoreModule.forRoot({ offlineQueue: false, connectionName: 'unread-gateway' }),
        GatewayKafkaModule.forRoot(config),
        TencentModule,
        QchatModule,
        SummaryModule,
      ],
      controllers: [HealthController, MetricsController, AsyncApiController],
      providers: [{ provide: APP_FILTER, useClass: GatewayExceptionFilter }, GatewayMetrics],
    };
  }
}
