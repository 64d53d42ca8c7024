import 'reflect-metadata';
import { Kafka, logLevel } from 'kafkajs';
import { unreadChangedKey, type UnreadChanged } from '@app/contracts';
import { nowMs } from './stats';
import { runWorker } from './worker';

export interface FeedProducerInput {
  brokers: string[];
  topic: string;
  appId: string;
  /** Records to write (as many as the projector's feed wrote in the run). */
  records: number;
  /** Accounts the keys cycle over (`u0` … `u<accounts-1>`, the bench world's names). */
  accounts: number;
}

export interface FeedProducerResult {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  /** This process's CPU (user + system) per record, from the first send to the last acknowledgement. */
  cpuMicrosPerRecord: number;
}

/**
 * Records per send and sends in flight, for this program's own speed: 1 000 records a send
 * cost 15.2 µs of CPU a record here, 100 or 5 000 17–19 µs; 1, 2 or 4 sends in flight made
 * no difference.
 */
const PER_SEND = 1_000;
const IN_FLIGHT = 2;

/**
 * The feed's baseline: the simplest program that writes the change feed's records, a plain
 * kafkajs producer (acks = all, as the feed) sending records of the feed's shape and keys,
 * built and JSON-encoded here, with no Redis and nothing to wait for. What it spends per
 * record is what any feed written with this Kafka client spends at least, so with the
 * projector's records per event it bounds the feed-on / feed-off ratio (measure-ingest.ts).
 */
runWorker<FeedProducerInput, FeedProducerResult>(async (input, control) => {
  const kafka = new Kafka({ clientId: 'bench-feed-producer', brokers: input.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
  await producer.connect();
  const record = (i: number) => {
    const account = `u${(i * 7_919) % input.accounts}`;
    const c2c = i % 17;
    const groups = i % 5;
    const r: UnreadChanged = { type: 'unread-changed', appId: input.appId, account, c2c, groups, channels: 0, badge: c2c + groups, version: i + 1, time: Date.now() };
    return { key: unreadChangedKey(r.appId, r.account), value: JSON.stringify(r) };
  };
  // one record first: connection and metadata are not the measured part
  await producer.send({ topic: input.topic, acks: -1, messages: [record(0)] });
  control.ready();
  const t0 = nowMs();
  const c0 = process.cpuUsage();
  let next = 0;
  const sender = async () => {
    while (next < input.records) {
      const from = next;
      next = Math.min(input.records, next + PER_SEND);
      const messages = [];
      for (let i = from; i < next; i++) messages.push(record(i));
      await producer.send({ topic: input.topic, acks: -1, messages });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
  const cpu = process.cpuUsage(c0);
  const seconds = (nowMs() - t0) / 1000;
  await producer.disconnect();
  return {
    records: input.records,
    seconds,
    recordsPerSecond: seconds > 0 ? input.records / seconds : 0,
    cpuMicrosPerRecord: input.records > 0 ? (cpu.user + cpu.system) / input.records : 0,
  };
});
