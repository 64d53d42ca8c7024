import { randomBytes } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { AppConfig } from '@app/config';
import { CONSUMED_TOPIC_ROLES } from '@app/contracts';
import { createKafka } from '@app/kafka';
import { Cluster } from 'ioredis';
import {
  BatchWriter,
  Generations,
  Keyspace,
  ProjectionStore,
  closeRedisClient,
  createRedisClient,
  generationPrefix,
  isGenerationKey,
  type RedisClient,
} from '@app/store';
import { BATCH_WRITER_OPTIONS, BatchApplier, fixedGeneration } from '../../projector/src/batch-applier';
import type { RecordBatch } from '../../projector/src/batch-queue';

export interface RebuildOptions {
  /** Keep the previous generation's keys (default: delete them after the grace period). */
  keepOld?: boolean;
  /** Wait this long after the switch before deleting the previous generation (gateways re-read the pointer every second). */
  graceMs?: number;
  /** Lifetime of the switch fence; extended while the rebuild works, so a dead rebuild frees the projectors. */
  fenceTtlMs?: number;
  /** Give up when not caught up within this time (0 = never). */
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Called after each batch the rebuild consumed (progress reporting: rebuild.progress.ts). */
  onBatch?: (topic: string, partition: number, records: number) => void;
}

export interface RebuildResult {
  previous: number;
  generation: number;
  /** Events applied to the new generation. */
  applied: number;
  /** Records skipped: invalid, or refused by a script (the live projectors dead-lettered them). */
  skipped: number;
  /** Keys of the previous generation deleted (0 with keepOld). */
  deleted: number;
}

type Offsets = Map<string, bigint>; // "topic\u0000partition" → offset

const tp = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * `npm run rebuild`: rebuilds every projection from the log into a fresh generation and
 * switches readers and writers to it atomically (docs/reliability.md, "Rebuild"):
 *
 * 1. consume every topic from the beginning with a consumer group of its own into
 *    generation N+1 (invisible to readers) until caught up with the live group's commits,
 *    each batch applied by the projector's BatchApplier (the same parsing, refusals, writes,
 *    positions and retries), to N+1 itself;
 * 2. set the switch fence (live projectors hold new batches), capture the high watermarks,
 *    consume up to them;
 * 3. flip the pointer and lift the fence in one Lua call; live projectors go on from their
 *    committed offsets in generation N+1, gateways follow within a second;
 * 4. after a grace period, delete generation N.
 */
export async function rebuild(config: AppConfig, opts: RebuildOptions = {}): Promise<RebuildResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`rebuild: ${line}\n`));
  const fenceTtlMs = opts.fenceTtlMs ?? 30_000;
  const base = config.redis.keyPrefix;
  const redis = createRedisClient(config.redis, { offlineQueue: true, connectionName: 'unread-rebuild' });
  const generations = new Generations(redis, base); // defines the switch's scripts up front (ioredis#1931)
  const kafka = createKafka(config.kafka, `${config.kafka.clientId}-rebuild`, (level, message) => {
    if (level === 'error') log(message);
  });
  const admin = kafka.admin();
  let consumer: Consumer | undefined;
  const token = randomBytes(8).toString('hex');
  let fenced = false;
  let fenceTimer: NodeJS.Timeout | undefined;
  let target = -1;
  try {
    const { active, fence } = await generations.read();
    if (fence) throw new Error(`generation ${fence.generation} is being switched to by another rebuild`);
    target = active + 1;
    const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : Number.POSITIVE_INFINITY;
    const leftovers = await deleteGeneration(redis, base, target);
    if (leftovers > 0) log(`deleted ${leftovers} keys left in generation ${target} by an earlier attempt`);
    log(`building generation ${target} (active: ${active})`);

    const store = new ProjectionStore(
      redis,
      new Keyspace(base),
      { mentionRetentionMs: config.mentionRetentionMs, c2cUnreadCap: config.c2cUnreadCap, groupUncountedHorizon: config.groupUncountedHorizon },
      new BatchWriter(redis, BATCH_WRITER_OPTIONS),
    );
    const applier = new BatchApplier({
      store,
      keyPrefix: base,
      topics: config.kafka.topics,
      generation: fixedGeneration(target),
      // The live projectors dead-lettered these records; the rebuild counts them (`skipped`).
      refused: { send: () => Promise.resolve() },
      logger: { log, warn: log },
    });
    const topics = CONSUMED_TOPIC_ROLES.map((r) => config.kafka.topics[r]);
    await admin.connect();

    // Where each partition's next batch starts: its batch is recorded only from the one before
    // (positions.lua), so the live projectors continue from the new generation's positions
    // after the switch (a batch of theirs beyond them is applied again, docs/reliability.md).
    const positions: Offsets = new Map();
    const counts = { applied: 0, skipped: 0 };
    consumer = await startConsumer(kafka, `${config.kafka.consumerGroup}.rebuild-${target}-${token}`, topics, async (batch) => {
      const key = tp(batch.topic, batch.partition);
      const result = await applier.apply({ ...batch, prevOffset: (positions.get(key) ?? 0n) - 1n });
      if (!result.applied) {
        throw new Error(`generation ${target} lost its writes of ${batch.topic}[${batch.partition}] while being built (Redis failed over?); run the rebuild again`);
      }
      counts.applied += result.events;
      counts.skipped += result.refused;
      positions.set(key, batch.lastOffset + 1n);
      opts.onBatch?.(batch.topic, batch.partition, batch.messages.length);
    });

    // 1. Catch up with what the live group has committed.
    const committed = await liveCommitted(admin, config.kafka.consumerGroup, topics);
    await until(() => reached(admin, topics, positions, committed), deadline, 'catching up with the live group');
    log(`caught up with the live group (${counts.applied} events)`);

    // 2. Fence, capture the high watermarks, consume up to them.
    if (!(await generations.setFence(target, token, fenceTtlMs))) throw new Error('another rebuild holds the switch fence');
    fenced = true;
    fenceTimer = setInterval(() => {
      generations.extendFence(target, token, fenceTtlMs).then(
        (ok) => {
          if (!ok) fenced = false;
        },
        () => undefined,
      );
    }, Math.max(100, Math.floor(fenceTtlMs / 3)));
    const high = await highWatermarks(admin, topics);
    await until(() => reached(admin, topics, positions, high), deadline, 'consuming up to the high watermarks');

    // 3. Switch.
    clearInterval(fenceTimer);
    if (!fenced || !(await generations.flip(target, token))) {
      throw new Error('the switch fence expired before the switch (the rebuild stalled); nothing was switched');
    }
    fenced = false;
    log(`switched to generation ${target} (${counts.applied} events applied, ${counts.skipped} invalid records skipped)`);
    await consumer.disconnect();
    consumer = undefined;

    // 4. Drop the previous generation once no gateway can still be reading it.
    let deleted = 0;
    if (!opts.keepOld) {
      await new Promise((r) => setTimeout(r, opts.graceMs ?? 5_000));
      deleted = await deleteGeneration(redis, base, active);
      log(`deleted generation ${active} (${deleted} keys)`);
    }
    return { previous: active, generation: target, applied: counts.applied, skipped: counts.skipped, deleted };
  } catch (err) {
    if (fenced) await generations.dropFence(target, token).catch(() => undefined);
    throw err;
  } finally {
    clearInterval(fenceTimer);
    await consumer?.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await closeRedisClient(redis);
  }
}

/** Runs a consumer from the beginning of every topic; `onBatch` gets each batch (its prevOffset is the caller's). */
async function startConsumer(
  kafka: Kafka,
  groupId: string,
  topics: string[],
  onBatch: (batch: Omit<RecordBatch, 'prevOffset'>) => Promise<void>,
): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxBytesPerPartition: 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 4,
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (batch.isEmpty()) return;
      await onBatch({
        topic: batch.topic,
        partition: batch.partition,
        messages: batch.messages,
        lastOffset: BigInt(batch.lastOffset()),
        heartbeat: () => payload.heartbeat(),
        isRunning: () => payload.isRunning() && !payload.isStale(),
      });
      await payload.heartbeat();
    },
  });
  return consumer;
}

async function liveCommitted(admin: Admin, groupId: string, topics: string[]): Promise<Offsets> {
  const out: Offsets = new Map();
  for (const t of await admin.fetchOffsets({ groupId, topics })) {
    for (const p of t.partitions) out.set(tp(t.topic, p.partition), BigInt(p.offset));
  }
  return out;
}

async function highWatermarks(admin: Admin, topics: string[]): Promise<Offsets> {
  const out: Offsets = new Map();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) out.set(tp(topic, p.partition), BigInt(p.high));
  }
  return out;
}

/** True when every partition's position reached its target (or the partition holds nothing below it). */
async function reached(admin: Admin, topics: string[], positions: Offsets, targets: Offsets): Promise<boolean> {
  const low: Offsets = new Map();
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) low.set(tp(topic, p.partition), BigInt(p.low));
  }
  for (const [key, t] of targets) {
    if (t <= (low.get(key) ?? 0n)) continue; // nothing (left) to read below the target
    if ((positions.get(key) ?? -1n) < t) return false;
  }
  return true;
}

async function until(done: () => Promise<boolean>, deadline: number, what: string): Promise<void> {
  for (;;) {
    if (await done()) return;
    if (Date.now() > deadline) throw new Error(`timed out ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Deletes every key of one generation (SCAN + UNLINK on every master). Generation 0 is the
 * bare prefix, so the other generations, the pointer and the rate-limit counters, which
 * also start with it, are kept.
 */
export async function deleteGeneration(redis: RedisClient, base: string, generation: number): Promise<number> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${generationPrefix(base, generation)}:*`, 'COUNT', 1000);
      cursor = next;
      const gone = await Promise.all(keys.filter((k) => isGenerationKey(k, base, generation)).map((k) => node.unlink(k)));
      deleted += gone.reduce((a, b) => a + b, 0);
    } while (cursor !== '0');
  }
  return deleted;
}
