import { FETCH_SETTINGS } from '../../../projector/src/kafka-batch.transport';
import { Kafka, logLevel } from 'kafkajs';
import { runWorker } from './worker';
import { nowMs } from './stats';

export interface ConsumeInput {
  brokers: string[];
  topics: string[];
  groupId: string;
  /** 'count': read `expected` records and report the rate; 'probe': report when each probe message is seen. */
  mode: 'count' | 'probe';
  expected?: number;
  /** probe mode: the recipient whose messages are probes. */
  probeTo?: string;
}

export interface ConsumeResult {
  events: number;
  /** Records counted from the end of the first batch to the last (the group join is excluded). */
  measured: number;
  seconds: number;
  eventsPerSecond: number;
}

/**
 * The baseline consumer: plain kafkajs `eachBatch` with the projector's fetch settings,
 * doing nothing but JSON.parse on each record — the ceiling of the Kafka client on this
 * machine. In probe mode it reports (over IPC) when each probe record arrives, the Kafka
 * part of the freshness latency.
 */
runWorker<ConsumeInput, ConsumeResult>(async (input, control) => {
  const kafka = new Kafka({ clientId: 'bench-baseline', brokers: input.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: input.groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    rebalanceTimeout: 20_000,
    maxBytesPerPartition: 1024 * 1024,
    // the projector's own fetch settings: the same client, configured the same way
    maxWaitTimeInMs: FETCH_SETTINGS.maxWaitTimeInMs,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: input.topics, fromBeginning: input.mode === 'count' });
  let count = 0;
  let first: { t: number; count: number } | undefined;
  let last = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  // ready once fetching (the offset of a new group is resolved on its first fetch)
  let fetching = false;
  consumer.on(consumer.events.FETCH, () => {
    if (!fetching) control.ready();
    fetching = true;
  });
  await consumer.run({
    partitionsConsumedConcurrently: FETCH_SETTINGS.partitionsConsumedConcurrently,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const v = JSON.parse(m.value ? m.value.toString('utf8') : 'null') as { to?: string; msgId?: string } | null;
        if (input.mode === 'probe' && v && v.to === input.probeTo) process.send!({ type: 'seen', msgId: v.msgId, t: nowMs() });
      }
      count += batch.messages.length;
      const t = nowMs();
      first ??= { t, count };
      last = t;
      if (input.mode === 'count' && count >= (input.expected ?? Infinity)) done();
      return Promise.resolve();
    },
  });
  await (input.mode === 'count' ? finished : control.stopped);
  await consumer.disconnect();
  const seconds = first ? (last - first.t) / 1000 : 0;
  const measured = first ? count - first.count : 0;
  return { events: count, measured, seconds, eventsPerSecond: seconds > 0 ? measured / seconds : 0 };
});
