import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule, type AppConfig } from '@app/config';
import { EventProducer, KafkaProbe, createKafka } from '@app/kafka';
import { StoreModule } from '@app/store';
import { AsyncApiController } from './common/asyncapi.controller';
import { GatewayExceptionFilter } from './common/gateway-exception.filter';
import { HealthController } from './health/health.controller';
import { GatewayMetrics } from './metrics/gateway.metrics';
import { MetricsController } from './metrics/metrics.controller';
import { QchatModule } from './qchat/qchat.module';
import { SummaryModule } from './summary/summary.module';
import { TencentModule } from './tencent/tencent.module';

/**
 * Appends admin writes to Kafka (the gateway never writes projections itself). The probe
 * says at start whether the brokers accept the client's security (readiness reads it).
 */
@Global()
@Module({})
export class GatewayKafkaModule implements OnApplicationShutdown {
  constructor(
    @Inject(EventProducer) private readonly producer: EventProducer,
    @Inject(KafkaProbe) private readonly probe: KafkaProbe,
  ) {}

  static forRoot(config: AppConfig): DynamicModule {
    const logger = new Logger('Kafka');
    return {
      module: GatewayKafkaModule,
      providers: [
        {
          provide: EventProducer,
          useFactory: () =>
            new EventProducer(createKafka(config.kafka, `${config.kafka.clientId}-gateway`), config.kafka.topics),
        },
        {
          provide: KafkaProbe,
          useFactory: () => {
            const log = (level: 'error' | 'warn' | 'info', message: string) => logger[level === 'info' ? 'log' : level](message);
            const probe = new KafkaProbe(config.kafka, `${config.kafka.clientId}-gateway`, log);
            probe.start();
            return probe;
          },
        },
      ],
      exports: [EventProducer, KafkaProbe],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.probe.stop();
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
