import { EventEmitter } from 'node:events';
import type { Kafka } from 'kafkajs';
import { ConsumerWatch } from './readiness.monitor';

const EVENTS = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash', STOP: 'consumer.stop', DISCONNECT: 'consumer.disconnect' };

/** The part of a kafkajs client ConsumerWatch touches: consumer() and each consumer's events. */
function fakeKafka(): { kafka: Kafka; consumers: EventEmitter[] } {
  const consumers: EventEmitter[] = [];
  const kafka = {
    consumer: () => {
      const c = Object.assign(new EventEmitter(), { events: EVENTS });
      consumers.push(c);
      return c;
    },
  } as unknown as Kafka;
  return { kafka, consumers };
}

describe('ConsumerWatch', () => {
  it('is joined from GROUP_JOIN until a crash, stop or disconnect, and follows the newest consumer', () => {
    const { kafka, consumers } = fakeKafka();
    const watch = new ConsumerWatch();
    watch.observe(kafka);
    expect(watch.isJoined).toBe(false);
    kafka.consumer({ groupId: 'g' });
    consumers[0]!.emit(EVENTS.GROUP_JOIN);
    expect(watch.isJoined).toBe(true);
    consumers[0]!.emit(EVENTS.CRASH);
    expect(watch.isJoined).toBe(false);

    // the transport replaces a crashed consumer: the new one counts, the old one no longer does
    kafka.consumer({ groupId: 'g' });
    consumers[0]!.emit(EVENTS.GROUP_JOIN);
    expect(watch.isJoined).toBe(false);
    consumers[1]!.emit(EVENTS.GROUP_JOIN);
    expect(watch.isJoined).toBe(true);
    consumers[0]!.emit(EVENTS.DISCONNECT);
    expect(watch.isJoined).toBe(true);
    consumers[1]!.emit(EVENTS.STOP);
    expect(watch.isJoined).toBe(false);
    consumers[1]!.emit(EVENTS.GROUP_JOIN);
    consumers[1]!.emit(EVENTS.DISCONNECT);
    expect(watch.isJoined).toBe(false);
  });
});
