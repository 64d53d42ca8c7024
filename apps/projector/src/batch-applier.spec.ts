import { EventEmitter } from 'node:events';
import type { KafkaMessage } from 'kafkajs';
import { SCRIPT_REFUSAL_PREFIX, type UnreadEvent } from '@app/contracts';
import type { BatchPosition, GenerationState, Generations, PositionResult, ProjectionStore } from '@app/store';
import { BatchApplier, activeGeneration, fixedGeneration, type RefusedRecord, type TargetGeneration } from './batch-applier';
import type { RecordBatch } from './batch-queue';
import { PartitionWaits } from './partition-waits';
import { ProjectorMetrics } from './projector.metrics';

/**
 * BatchApplier's steps, one test per transition that can go wrong: parse → refusal check →
 * generation → apply → record position → change feed → answer, with the retries between
 * them. The store, the dead-letter sink, the feed and the generations are fakes that record
 * what they were asked and answer as each test says; backoffs are real (100 ms, then 200 ms).
 */

const TOPICS = { messageSent: 'msg', readAck: 'ack', mention: 'mention', directory: 'dir' } as const;
const PREFIX = 'u';

/** An error shaped as ioredis reports a Redis error reply. */
function reply(message: string): Error {
  const e = new Error(message);
  e.name = 'ReplyError';
  return e;
}

const c2c = (msgId: string): UnreadEvent => ({ type: 'message-sent', scope: 'c2c', appId: '1400000000', msgId, from: 'alice', to: 'bob', time: 1_700_000_000_000 });
const record = (offset: number, value: unknown): KafkaMessage =>
  ({ offset: String(offset), key: null, value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), timestamp: '0', attributes: 0, headers: {} });

/** A batch of partition 3 of `topic`, offsets from `first` on; it runs until `stop()`. */
function batchOf(topic: string, first: number, values: unknown[]) {
  let running = true;
  const batch: RecordBatch & { heartbeats: number; stop(): void } = {
    topic,
    partition: 3,
    messages: values.map((v, i) => record(first + i, v)),
    prevOffset: BigInt(first - 1),
    lastOffset: BigInt(first + values.length - 1),
    heartbeats: 0,
    heartbeat() {
      batch.heartbeats++;
      return Promise.resolve();
    },
    isRunning: () => running,
    stop: () => (running = false),
  };
  return batch;
}

type Answer<T> = () => Promise<T>;

/**
 * A ProjectionStore that records every call. Each of its methods answers from a queue of
 * answers the test pushes (one per call; the last one repeats), so a test says "fails twice
 * on OOM, then succeeds".
 */
class FakeStore {
  readonly redis = new EventEmitter();
  readonly calls: (
    | { op: 'applyBatch'; generation: number; events: UnreadEvent[]; at: BatchPosition }
    | { op: 'apply'; generation: number; event: UnreadEvent }
    | { op: 'recordPosition'; generation: number; at: BatchPosition }
    | { op: 'positions'; generation: number; partitions: { topic: string; partition: number }[] }
  )[] = [];
  readonly answers = {
    applyBatch: [() => Promise.resolve({ ok: true })] as Answer<PositionResult>[],
    apply: [() => Promise.resolve()] as Answer<void>[],
    recordPosition: [() => Promise.resolve({ ok: true })] as Answer<PositionResult>[],
  };
  /** Per-event answers of `apply`, by msgId (ahead of `answers.apply`). */
  readonly applyByMsgId = new Map<string, Answer<void>[]>();

  asStore(generation = -1): ProjectionStore {
    const answer = <T>(queue: Answer<T>[]): Promise<T> => (queue.length > 1 ? queue.shift()! : queue[0]!)();
    return {
      redis: this.redis,
      forGeneration: (base: string, g: number) => {
        expect(base).toBe(PREFIX);
        return this.asStore(g);
      },
      applyBatch: (events: readonly UnreadEvent[], at: BatchPosition) => {
        this.calls.push({ op: 'applyBatch', generation, events: [...events], at });
        return answer(this.answers.applyBatch);
      },
      apply: (event: UnreadEvent) => {
        this.calls.push({ op: 'apply', generation, event });
        const own = 'msgId' in event && event.msgId !== undefined ? this.applyByMsgId.get(event.msgId) : undefined;
        return answer(own ?? this.answers.apply);
      },
      recordPosition: (topic: string, partition: number, prev: bigint, last: bigint) => {
        this.calls.push({ op: 'recordPosition', generation, at: { topic, partition, prev, last } });
        return answer(this.answers.recordPosition);
      },
      positions: (partitions: { topic: string; partition: number }[]) => {
        this.calls.push({ op: 'positions', generation, partitions });
        return Promise.resolve(partitions.map(() => 41n));
      },
    } as unknown as ProjectionStore;
  }

  ops(): string[] {
    return this.calls.map((c) => `${c.op}@${c.generation}`);
  }
}

/** Everything an applier is built with, each a fake that records its calls. */
function rig(generation: TargetGeneration = fixedGeneration(7)) {
  const store = new FakeStore();
  const sent: { topic: string; partition: number; refused: RefusedRecord[] }[] = [];
  const sendAnswers: Answer<void>[] = [() => Promise.resolve()];
  const published: { batch: RecordBatch; events: UnreadEvent[]; callsBefore: number }[] = [];
  const logs: { level: 'log' | 'warn'; line: string }[] = [];
  const waits = new PartitionWaits();
  const waitsSeen: string[] = [];
  const begin = waits.begin.bind(waits);
  waits.begin = (...args) => {
    const w = begin(...args);
    waitsSeen.push(`${w.topic}[${w.partition}]@${w.offset} ${w.class}`);
    return w;
  };
  const metrics = new ProjectorMetrics();
  const applier = new BatchApplier({
    store: store.asStore(),
    keyPrefix: PREFIX,
    topics: TOPICS,
    generation,
    refused: {
      send(topic, partition, refused) {
        sent.push({ topic, partition, refused });
        return (sendAnswers.length > 1 ? sendAnswers.shift()! : sendAnswers[0]!)();
      },
    },
    feed: {
      publish(batch, applied) {
        published.push({ batch, events: applied.map((a) => a.event), callsBefore: store.calls.length });
        return Promise.resolve();
      },
    },
    metrics,
    waits,
    logger: { log: (line: string) => void logs.push({ level: 'log', line }), warn: (line: string) => void logs.push({ level: 'warn', line }) },
  });
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const values = (await metrics.registry.getSingleMetric(name)!.get()).values;
    return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
  };
  return { applier, store, sent, sendAnswers, published, logs, waits, waitsSeen, metric };
}

const reasons = (refused: RefusedRecord[]) => refused.map((r) => [r.message.offset, r.reason]);

describe('BatchApplier: a batch that goes through', () => {
  it('applies the valid events with the batch position to the target generation, then tells the feed, then answers', async () => {
    const r = rig();
    const batch = batchOf(TOPICS.messageSent, 10, [c2c('m1'), c2c('m2')]);
    await expect(r.applier.apply(batch)).resolves.toEqual({ applied: true, events: 2, refused: 0 });
    expect(r.store.calls).toEqual([{ op: 'applyBatch', generation: 7, events: [c2c('m1'), c2c('m2')], at: { topic: 'msg', partition: 3, prev: 9n, last: 11n } }]);
    expect(r.published).toEqual([{ batch, events: [c2c('m1'), c2c('m2')], callsBefore: 1 }]);
    expect(r.sent).toEqual([]);
    expect(await r.metric('unread_projector_events_applied_total', { type: 'message-sent/c2c' })).toBe(2);
    expect(await r.metric('unread_projector_retries_total')).toBe(0);
    expect(r.waitsSeen).toEqual([]);
  });

  it('a batch of the first offsets of a partition records from prevOffset -1', async () => {
    const r = rig();
    await r.applier.apply(batchOf(TOPICS.messageSent, 0, [c2c('m1')]));
    expect(r.store.calls).toMatchObject([{ op: 'applyBatch', at: { prev: -1n, last: 0n } }]);
  });
});

describe('BatchApplier: records it refuses before Redis (parse and validation)', () => {
  it('sends the invalid records with their reason before applying the valid ones, and counts them as refused', async () => {
    const r = rig();
    const order: string[] = [];
    const send = r.sendAnswers[0]!;
    r.sendAnswers[0] = () => (order.push(`send after ${r.store.calls.length} store calls`), send());
    const batch = batchOf(TOPICS.messageSent, 20, [c2c('m1'), 'not json', '', c2c('m2'), { type: 'no-such-event' }]);
    await expect(r.applier.apply(batch)).resolves.toEqual({ applied: true, events: 2, refused: 3 });
    expect(order).toEqual(['send after 0 store calls']);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]).toMatchObject({ topic: 'msg', partition: 3 });
    expect(r.sent[0]!.refused.map((x) => x.message.offset)).toEqual(['21', '22', '24']);
    expect(r.sent[0]!.refused.every((x) => x.reason.length > 0)).toBe(true);
    expect(r.sent[0]!.refused[1]!.reason).toBe('empty value');
    // the position covers the refused records too: the batch's whole range
    expect(r.store.calls).toEqual([{ op: 'applyBatch', generation: 7, events: [c2c('m1'), c2c('m2')], at: { topic: 'msg', partition: 3, prev: 19n, last: 24n } }]);
    expect(r.published[0]!.events).toEqual([c2c('m1'), c2c('m2')]);
    expect(await r.metric('unread_projector_events_dead_lettered_total')).toBe(3);
  });

  it('an event of the wrong topic is refused: a topic says how its records parse', async () => {
    const r = rig();
    await expect(r.applier.apply(batchOf(TOPICS.readAck, 5, [c2c('m1')]))).resolves.toEqual({ applied: true, events: 0, refused: 1 });
    expect(r.sent[0]!.refused).toHaveLength(1);
    expect(r.store.calls).toEqual([{ op: 'recordPosition', generation: 7, at: { topic: 'ack', partition: 3, prev: 4n, last: 5n } }]);
  });

  it('a batch of a topic it does not consume: every record refused, the position still recorded', async () => {
    const r = rig();
    await expect(r.applier.apply(batchOf('elsewhere', 1, [c2c('m1'), c2c('m2')]))).resolves.toEqual({ applied: true, events: 0, refused: 2 });
    expect(reasons(r.sent[0]!.refused)).toEqual([
      ['1', 'topic elsewhere is not consumed'],
      ['2', 'topic elsewhere is not consumed'],
    ]);
    expect(r.store.ops()).toEqual(['recordPosition@7']);
    expect(r.published).toHaveLength(1);
  });

  it('a dead-letter produce that fails is retried before anything is applied; nothing is refused twice', async () => {
    const r = rig();
    r.sendAnswers.unshift(() => Promise.reject(new Error('broker down')));
    await expect(r.applier.apply(batchOf(TOPICS.messageSent, 1, ['{', c2c('m1')]))).resolves.toEqual({ applied: true, events: 1, refused: 1 });
    expect(r.sent).toHaveLength(2);
    expect(r.sent[1]!.refused).toEqual(r.sent[0]!.refused);
    expect(r.store.ops()).toEqual(['applyBatch@7']);
    expect(await r.metric('unread_projector_retries_total', { what: 'dead-letter' })).toBe(1);
    expect(await r.metric('unread_projector_events_dead_lettered_total')).toBe(1);
    expect(r.logs.filter((l) => l.level === 'warn').map((l) => l.line)).toEqual([expect.stringMatching(/^dead-letter failed for msg\[3\] \(attempt 1\), retrying: broker down/)]);
    // not a Redis wait: the partition is not reported waiting on Redis
    expect(r.waitsSeen).toEqual([]);
  });

  it('a dead-letter produce failing once the batch stopped running rejects: nothing applied, nothing recorded', async () => {
    const r = rig();
    const batch = batchOf(TOPICS.messageSent, 1, ['{', c2c('m1')]);
    r.sendAnswers.unshift(() => (batch.stop(), Promise.reject(new Error('broker down'))));
    await expect(r.applier.apply(batch)).rejects.toThrow('broker down');
    expect(r.store.calls).toEqual([]);
    expect(r.published).toEqual([]);
  });
});

describe("BatchApplier: a script's deliberate refusal (UNREAD-REFUSED)", () => {
  it('goes again one event at a time, refuses only the events the script refuses, then records the position', async () => {
    const r = rig();
    r.store.answers.applyBatch = [() => Promise.reject(reply(`ERR ${SCRIPT_REFUSAL_PREFIX} count would overflow`))];
    r.store.applyByMsgId.set('m2', [() => Promise.reject(reply(`${SCRIPT_REFUSAL_PREFIX} bad seq`))]);
    const batch = batchOf(TOPICS.messageSent, 30, [c2c('m1'), c2c('m2'), 'x', c2c('m3')]);
    await expect(r.applier.apply(batch)).resolves.toEqual({ applied: true, events: 2, refused: 2 });
    expect(r.store.ops()).toEqual(['applyBatch@7', 'apply@7', 'apply@7', 'apply@7', 'recordPosition@7']);
    expect(r.store.calls.filter((c) => c.op === 'apply').map((c) => (c.event as { msgId: string }).msgId)).toEqual(['m1', 'm2', 'm3']);
    expect(r.store.calls[4]).toEqual({ op: 'recordPosition', generation: 7, at: { topic: 'msg', partition: 3, prev: 29n, last: 33n } });
    // the parser's refusal first, then the script's, each with its reason
    expect(r.sent.map((s) => reasons(s.refused))).toEqual([[['32', expect.any(String)]], [['31', 'redis refused the event: bad seq']]]);
    // a refusal is the event's fault: not retried, not a wait
    expect(await r.metric('unread_projector_retries_total')).toBe(0);
    expect(r.waitsSeen).toEqual([]);
  });

  it('a Redis fault during the one-by-one pass is retried for that event; the refused one is still refused once', async () => {
    const r = rig();
    r.store.answers.applyBatch = [() => Promise.reject(reply(SCRIPT_REFUSAL_PREFIX))];
    r.store.applyByMsgId.set('m1', [() => Promise.reject(reply("OOM command not allowed when used memory > 'maxmemory'.")), () => Promise.resolve()]);
    r.store.applyByMsgId.set('m2', [() => Promise.reject(reply(SCRIPT_REFUSAL_PREFIX))]);
    await expect(r.applier.apply(batchOf(TOPICS.messageSent, 1, [c2c('m1'), c2c('m2')]))).resolves.toEqual({ applied: true, events: 1, refused: 1 });
    expect(r.store.ops()).toEqual(['applyBatch@7', 'apply@7', 'apply@7', 'apply@7', 'recordPosition@7']);
    expect(r.sent.map((s) => reasons(s.refused))).toEqual([[['2', 'redis refused the event: refused by a script']]]);
    expect(r.waitsSeen).toEqual(['msg[3]@1 oom']);
    expect(r.waits.all()).toEqual([]);
  });

  it('the position recorded after the one-by-one pass may still find Redis behind: the partition rewinds', async () => {
    const r = rig();
    r.store.answers.applyBatch = [() => Promise.reject(reply(SCRIPT_REFUSAL_PREFIX))];
    r.store.answers.recordPosition = [() => Promise.resolve({ ok: false, held: 4n })];
    await expect(r.applier.apply(batchOf(TOPICS.messageSent, 10, [c2c('m1')]))).resolves.toEqual({ applied: false, heldOffset: 4n });
    expect(r.published).toEqual([]);
  });
});

describe('BatchApplier: Redis faults', () => {
  it('a batch that Redis refuses for reasons of its own waits at its first offset and retries until Redis takes it', async () => {
    const r = rig();
    const batch = batchOf(TOPICS.messageSent, 50, [c2c('m1')]);
    r.store.answers.applyBatch = [
      () => Promise.reject(reply("OOM command not allowed when used memory > 'maxmemory'.")),
      () => Promise.reject(new Error('Connection is closed.')),
      () => Promise.resolve({ ok: true }),
    ];
    await expect(r.applier.apply(batch)).resolves.toEqual({ applied: true, events: 1, refused: 0 });
    expect(r.store.ops()).toEqual(['applyBatch@7', 'applyBatch@7', 'applyBatch@7']);
    expect(r.waitsSeen).toEqual(['msg[3]@50 oom', 'msg[3]@50 unreachable']);
    expect(r.waits.all()).toEqual([]); // ended once it went through
    expect(r.sent).toEqual([]); // nothing valid is dead-lettered
    expect(await r.metric('unread_projector_retries_total', { what: 'redis' })).toBe(2);
    expect(await r.metric('unread_projector_redis_waits_total', { class: 'oom' })).toBe(1);
    expect(await r.metric('unread_projector_redis_waits_total', { class: 'unreachable' })).toBe(1);
    expect(r.logs).toEqual([
      { level: 'warn', line: expect.stringMatching(/^msg\[3\] waits at offset 50 \(oom, attempt 1\): Redis refuses or cannot take writes/) },
      { level: 'log', line: 'msg[3] goes on from offset 50 after 2 failed attempt(s) (redis)' },
    ]);
    expect(batch.heartbeats).toBeGreaterThanOrEqual(2); // one after each backoff
    expect(r.published).toHaveLength(1);
  });

  it('a script that fails in a way nobody documented is retried too, and the warning says the partition stops there', async () => {
    const r = rig();
    r.store.answers.applyBatch = [() => Promise.reject(reply('ERR user_script:3: attempt to compare nil with number')), () => Promise.resolve({ ok: true })];
    await r.applier.apply(batchOf(TOPICS.messageSent, 1, [c2c('m1')]));
    expect(r.waitsSeen).toEqual(['msg[3]@1 script_error']);
    expect(r.logs[0]!.line).toMatch(/script_error.*a script failed on this batch in a way nobody documented/);
    expect(r.sent).toEqual([]);
  });

  it('recording the position of a batch with no valid event is retried the same way', async () => {
    const r = rig();
    r.store.answers.recordPosition = [() => Promise.reject(reply('READONLY You cannot write against a read only replica.')), () => Promise.resolve({ ok: true })];
    await expect(r.applier.apply(batchOf(TOPICS.messageSent, 8, ['x']))).resolves.toEqual({ applied: true, events: 0, refused: 1 });
    expect(r.store.ops()).toEqual(['recordPosition@7', 'recordPosition@7']);
    expect(r.waitsSeen).toEqual(['msg[3]@8 readonly']);
  });

  it('stops retrying once the batch no longer runs (revoked, rewound, stopping): rejects, ends the wait, records and publishes nothing', async () => {
    const r = rig();
    const batch = batchOf(TOPICS.messageSent, 60, [c2c('m1')]);
    r.store.answers.applyBatch = [() => Promise.reject(new Error('Connection is closed.')), () => (batch.stop(), Promise.reject(new Error('Connection is closed.')))];
    await expect(r.applier.apply(batch)).rejects.toThrow('Connection is closed.');
    expect(r.store.ops()).toEqual(['applyBatch@7', 'applyBatch@7']);
    expect(r.waitsSeen).toEqual(['msg[3]@60 unreachable']);
    expect(r.waits.all()).toEqual([]); // the next owner or epoch waits for itself
    expect(r.published).toEqual([]);
    expect(await r.metric('unread_projector_events_applied_total')).toBe(0);
  });
});

describe('BatchApplier: Redis holds less than the previous batch', () => {
  it('answers heldOffset (the transport rewinds), counts a rewind and tells the feed nothing', async () => {
    const r = rig();
    r.store.answers.applyBatch = [() => Promise.resolve({ ok: false, held: 3n })];
    await expect(r.applier.apply(batchOf(TOPICS.messageSent, 10, [c2c('m1')]))).resolves.toEqual({ applied: false, heldOffset: 3n });
    expect(r.published).toEqual([]);
    expect(await r.metric('unread_projector_rewinds_total')).toBe(1);
    expect(await r.metric('unread_projector_events_applied_total')).toBe(0);
  });

  it('held nothing (-1): a Redis emptied', async () => {
    const r = rig();
    r.store.answers.recordPosition = [() => Promise.resolve({ ok: false, held: -1n })];
    await expect(r.applier.apply(batchOf(TOPICS.messageSent, 10, ['x']))).resolves.toEqual({ applied: false, heldOffset: -1n });
  });
});

/** Generations as the projector's watch leaves them: `last` as read last, switch listeners. */
function fakeGenerations(state: GenerationState | undefined) {
  const listeners = new Set<(from: number, to: number) => void>();
  const g = {
    state,
    reads: 0,
    get last() {
      return g.state;
    },
    read() {
      g.reads++;
      g.state ??= { active: 0 };
      return Promise.resolve(g.state);
    },
    current: () => g.state?.active ?? 0,
    onSwitch(listener: (from: number, to: number) => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    switchTo(to: number) {
      const from = g.current();
      g.state = { active: to };
      for (const l of listeners) l(from, to);
    },
    listeners,
  };
  return g;
}

describe('BatchApplier: generations', () => {
  it('applies to the active generation as read last, without reading it per batch', async () => {
    const gens = fakeGenerations({ active: 2 });
    const r = rig(activeGeneration(gens as unknown as Generations));
    await r.applier.apply(batchOf(TOPICS.messageSent, 1, [c2c('m1')]));
    gens.state = { active: 3 };
    await r.applier.apply(batchOf(TOPICS.messageSent, 2, [c2c('m2')]));
    expect(r.store.ops()).toEqual(['applyBatch@2', 'applyBatch@3']);
    expect(gens.reads).toBe(0);
  });

  it('reads the pointer when nothing was read yet', async () => {
    const gens = fakeGenerations(undefined);
    const r = rig(activeGeneration(gens as unknown as Generations));
    await r.applier.apply(batchOf(TOPICS.messageSent, 1, [c2c('m1')]));
    expect(gens.reads).toBe(1);
    expect(r.store.ops()).toEqual(['applyBatch@0']);
  });

  it("holds the batch while a rebuild's switch fence stands, then applies it to the generation switched to", async () => {
    const gens = fakeGenerations({ active: 0, fence: { generation: 1, token: 't' } });
    const r = rig(activeGeneration(gens as unknown as Generations));
    const batch = batchOf(TOPICS.messageSent, 1, [c2c('m1')]);
    const applied = r.applier.apply(batch);
    const warned = () => r.logs.some((l) => l.line.startsWith('generation failed for msg[3] (attempt 1), retrying: projection generation 1 is being switched to'));
    while (!warned()) await new Promise((resolve) => setImmediate(resolve));
    expect(r.store.calls).toEqual([]);
    gens.switchTo(1);
    await expect(applied).resolves.toEqual({ applied: true, events: 1, refused: 0 });
    expect(r.store.ops()).toEqual(['applyBatch@1']);
    expect(await r.metric('unread_projector_retries_total', { what: 'generation' })).toBeGreaterThanOrEqual(1);
    // waiting on a fence is not waiting on Redis
    expect(r.waitsSeen).toEqual([]);
    expect(r.logs.some((l) => l.line.includes('goes on from offset'))).toBe(false);
  });

  it('a fence that stands when the batch stops running: rejects without applying', async () => {
    const gens = fakeGenerations({ active: 0, fence: { generation: 1, token: 't' } });
    const r = rig(activeGeneration(gens as unknown as Generations));
    const batch = batchOf(TOPICS.messageSent, 1, [c2c('m1')]);
    batch.stop();
    await expect(r.applier.apply(batch)).rejects.toThrow('projection generation 1 is being switched to');
    expect(r.store.calls).toEqual([]);
  });

  it("positions() reads the current generation's positions", async () => {
    const gens = fakeGenerations({ active: 4 });
    const r = rig(activeGeneration(gens as unknown as Generations));
    await expect(r.applier.positions([{ topic: 'msg', partition: 0 }])).resolves.toEqual([41n]);
    expect(r.store.calls).toEqual([{ op: 'positions', generation: 4, partitions: [{ topic: 'msg', partition: 0 }] }]);
  });

  it('watchHoldings: a Redis reconnect and a generation switch each ask for a check, until unwatched', () => {
    const gens = fakeGenerations({ active: 0 });
    const r = rig(activeGeneration(gens as unknown as Generations));
    const why: string[] = [];
    const unwatch = r.applier.watchHoldings((w) => why.push(w));
    r.store.redis.emit('ready');
    gens.switchTo(1);
    expect(why).toEqual(['Redis reconnected', 'generation switch']);
    expect(r.logs).toContainEqual({ level: 'log', line: 'projection generation 0 -> 1' });
    unwatch();
    r.store.redis.emit('ready');
    gens.switchTo(2);
    expect(why).toHaveLength(2);
    expect(r.store.redis.listenerCount('ready')).toBe(0);
    expect(gens.listeners.size).toBe(0);
  });

  it("the rebuild's fixed generation: always the one it builds, never a switch", async () => {
    const fixed = fixedGeneration(5);
    await expect(fixed.next()).resolves.toBe(5);
    expect(fixed.current()).toBe(5);
    const r = rig(fixed);
    const why: string[] = [];
    r.applier.watchHoldings((w) => why.push(w));
    await r.applier.apply(batchOf(TOPICS.messageSent, 1, [c2c('m1')]));
    expect(r.store.ops()).toEqual(['applyBatch@5']);
    expect(why).toEqual([]);
  });
});
