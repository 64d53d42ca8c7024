import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { KafkaMessage, Producer } from 'kafkajs';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { DEAD_LETTER_HEADERS } from '@app/contracts';
import { KAFKA } from './projector.tokens';
import type { Kafka } from 'kafkajs';

/**
 * Writes refused records to the dead-letter topic: the original key and bytes, with the
 * source topic, partition, offset and reason as headers. Resolves once the broker
 * acknowledged, so a refused record's offset is committed only after it is kept.
 */
@Injectable()
export class DeadLetterService implements OnModuleDestroy {
  private readonly producer: Producer;
  private connecting?: Promise<void>;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
  }

  async send(topic: string, partition: number, refused: { message: KafkaMessage; reason: string }[]): Promise<void> {
    this.connecting ??= this.producer.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    await this.connecting;
    await this.producer.send({
      topic: this.config.kafka.topics.deadLetter,
      acks: -1,
      messages: refused.map(({ message, reason }) => ({
        key: message.key,
        value: message.value,
        headers: {
          [DEAD_LETTER_HEADERS.reason]: reason.slice(0, 4096),
          [DEAD_LETTER_HEADERS.topic]: topic,
          [DEAD_LETTER_HEADERS.partition]: String(partition),
          [DEAD_LETTER_HEADERS.offset]: message.offset,
        },
      })),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.producer.disconnect();
  }
}
