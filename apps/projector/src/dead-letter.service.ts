import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { KafkaMessage, Producer } from 'kafkajs';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { DEAD_LETTER_HEADERS } from '@app/contracts';
import { KAFKA } from './projector.tokens';
import type { Kafka } from 'kafkajs';

/** Dead-letter ids this process remembers having written (a repeat of one of them is not written again). */
export const REMEMBERED_DEAD_LETTERS = 10_000;

/** The identity of a dead letter: where its record is in the log (docs/events.md, "Dead letters"). */
export function deadLetterId(topic: string, partition: number, offset: string): string {
  return `${topic}/${partition}/${offset}`;
}

/**
 * Writes refused records to the dead-letter topic: the original key and bytes, with the
 * source topic, partition, offset, reason and the dead letter's id (source topic,
 * partition, offset) as headers. Resolves once the broker acknowledged, so a refused
 * record's offset is committed only after it is kept. A batch delivered again (a crash
 * before its commit, a rewind) refuses the same records again: those this process already
 * wrote (the last REMEMBERED_DEAD_LETTERS) are not written twice; after a restart they are,
 * with the same id header, so a consumer of the topic can tell the repeat.
 */
@Injectable()
export class DeadLetterService implements OnModuleDestroy {
  private readonly producer: Producer;
  private connecting?: Promise<void>;
  private readonly written = new Set<string>();

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
    const fresh = refused.filter(({ message }) => !this.written.has(deadLetterId(topic, partition, message.offset)));
    if (fresh.length === 0) return;
    await this.producer.send({
      topic: this.config.kafka.topics.deadLetter,
      acks: -1,
      messages: fresh.map(({ message, reason }) => ({
        key: message.key,
        value: message.value,
        headers: {
          [DEAD_LETTER_HEADERS.reason]: reason.slice(0, 4096),
          [DEAD_LETTER_HEADERS.topic]: topic,
          [DEAD_LETTER_HEADERS.partition]: String(partition),
          [DEAD_LETTER_HEADERS.offset]: message.offset,
          [DEAD_LETTER_HEADERS.id]: deadLetterId(topic, partition, message.offset),
        },
      })),
    });
    for (const { message } of fresh) {
      this.written.add(deadLetterId(topic, partition, message.offset));
      if (this.written.size > REMEMBERED_DEAD_LETTERS) this.written.delete(this.written.values().next().value!);
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.producer.disconnect();
  }
}
