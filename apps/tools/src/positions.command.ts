import type { AppConfig } from '@app/config';
import { CONSUMED_TOPIC_ROLES } from '@app/contracts';
import { createKafka } from '@app/kafka';
import { Generations, Keyspace, ProjectionStore, createRedisClient, generationPrefix } from '@app/store';

/**
 * `positions adopt`: for a deployment whose Redis holds projections written before applied
 * positions existed. Without positions the projector re-applies every partition from the
 * start of the log (harmless, projections are idempotent, but long), or, when the log no
 * longer starts at 0, reports the partition behind and waits. This records the live
 * group's committed offsets as what the active generation holds (only where it records
 * nothing yet), which is what the projector of the previous version guaranteed: it
 * committed a batch only after Redis acknowledged its writes. Run it once, before the
 * first projector of the new version starts (docs/reliability.md, "Applied positions").
 */
export async function adoptPositions(config: AppConfig, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const redis = createRedisClient(config.redis, { offlineQueue: true, connectionName: 'unread-positions' });
  const kafka = createKafka(config.kafka, `${config.kafka.clientId}-positions`, () => undefined);
  const admin = kafka.admin();
  try {
    const { active } = await new Generations(redis, config.redis.keyPrefix).read();
    const store = new ProjectionStore(redis, new Keyspace(generationPrefix(config.redis.keyPrefix, active)), {
      mentionRetentionMs: config.mentionRetentionMs,
    });
    await admin.connect();
    const topics = CONSUMED_TOPIC_ROLES.map((r) => config.kafka.topics[r]);
    const entries = (await admin.fetchOffsets({ groupId: config.kafka.consumerGroup, topics })).flatMap((t) =>
      t.partitions.filter((p) => BigInt(p.offset) > 0n).map((p) => ({ topic: t.topic, partition: p.partition, held: BigInt(p.offset) - 1n })),
    );
    const set = await store.adoptPositions(entries);
    log(`generation ${active}: ${set} positions adopted from group ${config.kafka.consumerGroup}'s committed offsets (${entries.length} partitions committed)`);
    return set;
  } finally {
    await admin.disconnect().catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
  }
}
