import { randomBytes } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { AppConfig } from '@app/config';
import { CONSUMED_TOPIC_ROLES, classifyRedisError, parseEvent, type ConsumedTopicRole, type UnreadEvent } from '@app/contracts';
import { createKafka } from '@app/kafka';
import { Cluster } from 'ioredis';
import {
  Generations,
  Keyspace,
  ProjectionStore,
  closeRedisClient,
  createRedisClient,
  generationPrefix,
  isGenerationKey,
  type RedisClient,
} from '@app/store';

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
  /** Records skipped because they are invalid (the live projectors dead-lettered them). */
  skipped: number;
  /** Keys of the previous generation deleted (0 with keepOld). */
  deleted: number;
}

type Offsets = Map<string, bigint>; // "topic\u0000partition" → offset

const tp = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** A script's deliberate refusal of the event's content: the only Redis error that skips an event (classifyRedisError, as the projector). */
const isEventRefusal = (err: unknown): boolean => classifyRedisError(err).kind === 'refuse';

/**
 * `npm run rebuild`: rebuilds every projection from the log into a fresh generation and
 * switches readers and writers to it atomically (docs/reliability.md, "Rebuild"):
 *
 * 1. consume every topic from the beginning with a consumer group of its own into
 *    generation N+1 (invisible to readers) until caught up with the live group's commits;
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

    const store = new ProjectionStore(redis, new Keyspace(generationPrefix(base, target)), {
      mentionRetentionMs: config.mentionRetentionMs,
      c2cUnreadCap: config.c2cUnreadCap,
      groupUncountedHorizon: config.groupUncountedHorizon,
    });
    const roleOfTopic = new Map<string, ConsumedTopicRole>(CONSUMED_TOPIC_ROLES.map((r) => [config.kafka.topics[r], r]));
    const topics = [...roleOfTopic.keys()];
    await admin.connect();

    const positions: Offsets = new Map();
    const counts = { applied: 0, skipped: 0 };
    consumer = await startConsumer(kafka, `${config.kafka.consumerGroup}.rebuild-${target}-${token}`, topics, async (topic, partition, values, next) => {
      const role = roleOfTopic.get(topic);
      const events: UnreadEvent[] = [];
      for (const value of values) {
        const parsed = role ? parseEvent(value, role) : { ok: false as const };
        if (parsed.ok) events.push(parsed.event);
        else counts.skipped++;
      }
      await applyAll(store, events, log);
      // The new generation's applied positions: the live projectors continue from them
      // after the switch (a batch of theirs beyond them is applied again, docs/reliability.md).
      const key = tp(topic, partition);
      const recorded = await retry(() => store.recordPosition(topic, partition, (positions.get(key) ?? 0n) - 1n, next - 1n));
      if (!recorded.ok) throw new Error(`generation ${target} lost its writes of ${topic}[${partition}] while being built (Redis failed over?); run the rebuild again`);
      counts.applied += events.length;
      positions.set(key, next);
      opts.onBatch?.(topic, partition, values.length);
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

/**
 * Applies events to Redis. Whatever Redis says about its own state (full, no replicas,
 * read-only, unreachable, an undocumented script failure…) is retried with backoff, never
 * skipped; only an event a script refuses on purpose is skipped (the live projectors
 * dead-letter it).
 */
async function applyAll(store: ProjectionStore, events: UnreadEvent[], log: (line: string) => void): Promise<void> {
  if (events.length === 0) return;
  try {
    await retry(() => store.applyBatch(events), log);
  } catch {
    for (const e of events) {
      await retry(() => store.apply(e), log).catch((err: unknown) => log(`redis refused an event, skipped: ${(err as Error).message}`));
    }
  }
}

async function retry<T>(work: () => Promise<T>, log?: (line: string) => void): Promise<T> {
  let delay = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (isEventRefusal(err)) throw err;
      if (log && (attempt === 1 || attempt % 10 === 0)) {
        const verdict = classifyRedisError(err);
        log(`Redis did not take a write (${verdict.kind === 'wait' ? verdict.class : 'refused'}, attempt ${attempt}); waiting and retrying: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

/** Runs a consumer from the beginning of every topic; `onBatch` gets each batch's values and the offset after it. */
async function startConsumer(
  kafka: Kafka,
  groupId: string,
  topics: string[],
  onBatch: (topic: string, partition: number, values: (Buffer | null)[], next: bigint) => Promise<void>,
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
      await onBatch(batch.topic, batch.partition, batch.messages.map((m) => m.value), BigInt(batch.lastOffset()) + 1n);
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
