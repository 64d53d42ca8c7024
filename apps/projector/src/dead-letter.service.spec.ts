import type { Kafka, KafkaMessage, ProducerRecord } from 'kafkajs';
import type { AppConfig } from '@app/config';
import { DEAD_LETTER_HEADERS } from '@app/contracts';
import { message } from '../../../test/support/fake-kafkajs';
import { DeadLetterService, REMEMBERED_DEAD_LETTERS } from './dead-letter.service';

function service() {
  const sent: ProducerRecord[] = [];
  const producer = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    send: (r: ProducerRecord) => {
      sent.push(r);
      return Promise.resolve([]);
    },
  };
  const kafka = { producer: () => producer } as unknown as Kafka;
  const config = { kafka: { topics: { deadLetter: 'dl' } } } as unknown as AppConfig;
  return { svc: new DeadLetterService(kafka, config), sent };
}

const refused = (m: KafkaMessage) => ({ message: m, reason: 'invalid JSON: x' });

describe('DeadLetterService', () => {
  it('keys every dead letter by (source topic, partition, offset) and does not write a repeat it wrote itself', async () => {
    const { svc, sent } = service();
    await svc.send('im.message-sent', 3, [refused(message(41)), refused(message(42))]);
    await svc.send('im.message-sent', 3, [refused(message(42)), refused(message(43))]); // the batch delivered again, and one more
    expect(sent.map((r) => r.messages.map((m) => m.headers?.[DEAD_LETTER_HEADERS.id]))).toEqual([
      ['im.message-sent/3/41', 'im.message-sent/3/42'],
      ['im.message-sent/3/43'],
    ]);
    expect(sent[0]!.messages[0]!.headers).toEqual({
      [DEAD_LETTER_HEADERS.reason]: 'invalid JSON: x',
      [DEAD_LETTER_HEADERS.topic]: 'im.message-sent',
      [DEAD_LETTER_HEADERS.partition]: '3',
      [DEAD_LETTER_HEADERS.offset]: '41',
      [DEAD_LETTER_HEADERS.id]: 'im.message-sent/3/41',
    });
    await svc.send('im.message-sent', 3, [refused(message(42))]);
    expect(sent).toHaveLength(2);
  });

  it(`remembers the last ${REMEMBERED_DEAD_LETTERS} only (a bounded memory)`, async () => {
    const { svc, sent } = service();
    await svc.send('t', 0, Array.from({ length: REMEMBERED_DEAD_LETTERS + 1 }, (_, i) => refused(message(i))));
    await svc.send('t', 0, [refused(message(0)), refused(message(1))]);
    expect(sent.at(-1)!.messages.map((m) => m.headers?.[DEAD_LETTER_HEADERS.offset])).toEqual(['0']);
  });
});
