import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { BASELINE_FETCH, type FetchSettings } from './fetch-settings';
import { runWorker } from './worker';
import { nowMs } from './stats';

export interface ConsumeInput {
  brokers: string[];
  topics: string[];
  groupId: string;
  /**
   * 'count': read `expected` records and report the rate; 'probe': report when each probe
   * message is seen; 'naive': like 'count', but also what a team writes instead of the
   * projector: one HINCRBY per one-to-one message (the recipient's count from the sender),
   * one pipeline per batch, awaited before the next batch (no dedupe, no read times: not
   * exact under redelivery).
   */
  mode: 'count' | 'probe' | 'naive';
  expected?: number;
  /** probe mode: the recipient whose messages are probes. */
  probeTo?: string;
  /** naive mode: where to count, and under which key prefix. */
  redisUrl?: string;
  keyPrefix?: string;
  /** Fetch settings (the `fetch` sweep); by default the mode's best, BASELINE_FETCH. */
  fetch?: FetchSettings;
}

export interface ConsumeResult {
  events: number;
  /** Records counted from the end of the first batch to the last (the group join is excluded). */
  measured: number;
  seconds: number;
  eventsPerSecond: number;
  /** This process's CPU (user + system) per measured record, over the same window. */
  cpuMicrosPerEvent: number;
}

/**
 * The baseline consumer: plain kafkajs `eachBatch` with the fetch settings that make it
 * fastest (BASELINE_FETCH, not the projector's), doing nothing but JSON.parse on each
 * record — the ceiling of the Kafka client on this machine. In probe mode it reports (over IPC) when each probe record arrives, the Kafka
 * part of the freshness latency.
 */
runWorker<ConsumeInput, ConsumeResult>(async (input, control) => {
  const kafka = new Kafka({ clientId: 'bench-baseline', brokers: input.brokers, logLevel: logLevel.NOTHING });
  const fetch = input.fetch ?? BASELINE_FETCH[input.mode === 'count' ? 'parseOnly' : input.mode];
  const consumer = kafka.consumer({
    groupId: input.groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    rebalanceTimeout: 20_000,
    ...(fetch.maxWaitTimeInMs !== undefined ? { maxWaitTimeInMs: fetch.maxWaitTimeInMs } : {}),
    ...(fetch.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: fetch.maxBytesPerPartition } : {}),
    ...(fetch.maxBytes !== undefined ? { maxBytes: fetch.maxBytes } : {}),
    ...(fetch.minBytes !== undefined ? { minBytes: fetch.minBytes } : {}),
  });
  const redis = input.mode === 'naive' ? new Redis(input.redisUrl!) : undefined;
  const prefix = input.keyPrefix ?? 'naive';
  await consumer.connect();
  await consumer.subscribe({ topics: input.topics, fromBeginning: input.mode !== 'probe' });
  let count = 0;
  let first: { t: number; count: number; cpu: NodeJS.CpuUsage } | undefined;
  let lastCpu: NodeJS.CpuUsage | undefined;
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
    ...(fetch.partitionsConsumedConcurrently !== undefined ? { partitionsConsumedConcurrently: fetch.partitionsConsumedConcurrently } : {}),
    eachBatch: async ({ batch }) => {
      const pipeline = redis?.pipeline();
      for (const m of batch.messages) {
        const v = JSON.parse(m.value ? m.value.toString('utf8') : 'null') as { to?: string; from?: string; msgId?: string } | null;
        if (input.mode === 'probe' && v && v.to === input.probeTo) process.send!({ type: 'seen', msgId: v.msgId, t: nowMs() });
        if (pipeline && v?.to && v.from) pipeline.hincrby(`${prefix}:{${v.to}}`, v.from, 1);
      }
      if (pipeline) await pipeline.exec();
      count += batch.messages.length;
      const t = nowMs();
      first ??= { t, count, cpu: process.cpuUsage() };
      last = t;
      lastCpu = process.cpuUsage(first.cpu);
      if (input.mode !== 'probe' && count >= (input.expected ?? Infinity)) done();
    },
  });
  await (input.mode !== 'probe' ? finished : control.stopped);
  await consumer.disconnect();
  redis?.disconnect();
  const seconds = first ? (last - first.t) / 1000 : 0;
  const measured = first ? count - first.count : 0;
  const cpuMicros = lastCpu ? lastCpu.user + lastCpu.system : 0;
  return { events: count, measured, seconds, eventsPerSecond: seconds > 0 ? measured / seconds : 0, cpuMicrosPerEvent: measured > 0 ? cpuMicros / measured : 0 };
});
