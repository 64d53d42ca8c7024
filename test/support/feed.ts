import type { Kafka } from 'kafkajs';
import { type UnreadChanged } from '@app/contracts';
import { uniq } from './harness';

/** A change-feed record as read back, with where it was. */
export interface FeedRecord {
  key: string;
  value: UnreadChanged;
  partition: number;
  offset: number;
}

/**
 * Reads every record of a change-feed topic up to its high watermarks (a fresh consumer
 * group), in topic order per partition.
 */
export async function readFeed(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<FeedRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const high = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  await admin.disconnect();
  const records: FeedRecord[] = [];
  const remaining = new Map([...high].filter(([, h]) => h > 0));
  if (remaining.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `feed-${uniq()}`, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${records.length} feed records; partitions left: ${JSON.stringify([...remaining])}`)), timeoutMs);
      void consumer.run({
        eachMessage: ({ partition, message }) => {
          const offset = Number(message.offset);
          if (offset < (high.get(partition) ?? 0)) {
            records.push({ key: message.key?.toString('utf8') ?? '', value: JSON.parse(message.value?.toString('utf8') ?? 'null') as UnreadChanged, partition, offset });
          }
          if (offset + 1 >= (high.get(partition) ?? 0)) remaining.delete(partition);
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** The last record of each key (topic order: a key lives on one partition). */
export function lastPerKey(records: readonly FeedRecord[]): Map<string, FeedRecord> {
  const last = new Map<string, FeedRecord>();
  for (const r of [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) last.set(r.key, r);
  return last;
}
