import { CONSUMED_TOPIC_ROLES } from '@app/contracts';
import type { Harness } from './harness';
import { waitFor } from './wait';

/**
 * Waits until the projector's consumer group has committed every record produced so far to
 * the four consumed topics. The projector commits a batch only after Redis acknowledged its
 * writes, so afterwards every event sent before the call is applied: a barrier that lets a
 * test assert "never counts" exactly, instead of catching a transient value.
 */
export async function drained(h: Harness, timeoutMs = 45_000): Promise<void> {
  const admin = h.kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        for (const role of CONSUMED_TOPIC_ROLES) {
          const topic = h.topics[role];
          const high = await admin.fetchTopicOffsets(topic);
          const [committed] = await admin.fetchOffsets({ groupId: h.config.kafka.consumerGroup, topics: [topic] });
          for (const p of high) {
            const c = committed?.partitions.find((x) => x.partition === p.partition);
            if (Number(p.high) > 0 && (!c || Number(c.offset) < Number(p.high))) {
              return `${topic}[${p.partition}] committed ${c?.offset ?? 'none'} of ${p.high}`;
            }
          }
        }
        return 'drained';
      },
      (state) => state === 'drained',
      { timeoutMs, intervalMs: 50, what: 'the projector to commit every record' },
    );
  } finally {
    await admin.disconnect();
  }
}
