import type { EachBatchPayload } from 'kafkajs';
import { message } from '../../../test/support/fake-kafkajs';
import { InFlightBudget, MERGE_BATCHES, PartitionQueues, type QueuedBatch } from './batch-queue';

const payload = {} as EachBatchPayload;
const records = (first: number, count: number) => Array.from({ length: count }, (_, i) => message(first + i));
const span = (q: QueuedBatch | string | undefined) =>
  typeof q === 'object' ? { prev: q.prev, first: q.messages[0]!.offset, last: q.last, epoch: q.epoch } : q;

describe('PartitionQueues.admit', () => {
  it("gives every batch its own first offset minus one, and -1 to a group's first batch at the log's start", () => {
    const q = new PartitionQueues();
    const s = q.get('t', 0);
    expect(span(q.admit(s, records(100, 5), payload, true))).toEqual({ prev: -1n, first: '100', last: 104n, epoch: 0 });
    expect(span(q.admit(s, records(105, 5), payload, true))).toEqual({ prev: 104n, first: '105', last: 109n, epoch: 0 });
    const t = q.get('t', 1);
    expect(span(q.admit(t, records(100, 5), payload, false))).toEqual({ prev: 99n, first: '100', last: 104n, epoch: 0 });
  });

  it('refuses a batch that starts after the last queued one ended (a gap), and leaves the queue as it was', () => {
    const q = new PartitionQueues();
    const s = q.get('t', 0);
    q.admit(s, records(0, 5), payload);
    expect(q.admit(s, records(6, 5), payload)).toBe('gap');
    expect(s.lastQueued).toBe(4n);
    expect(s.queue).toHaveLength(1);
  });

  it('opens a new epoch for a batch fetched from earlier (a rejoin at the committed offset)', () => {
    const q = new PartitionQueues();
    const s = q.get('t', 0);
    q.admit(s, records(0, 5), payload);
    expect(span(q.admit(s, records(3, 5), payload))).toEqual({ prev: 2n, first: '3', last: 7n, epoch: 1 });
  });

  it('refuses everything while a rewind repositions the consumer, or the partition is paused', () => {
    const q = new PartitionQueues();
    const s = q.get('t', 0);
    s.repositioning = true;
    expect(q.admit(s, records(0, 1), payload)).toBe('repositioning');
    s.repositioning = false;
    s.behind = { topic: 't', partition: 0, heldOffset: -1n, logStart: 10n };
    expect(q.admit(s, records(10, 1), payload)).toBe('paused');
    expect(s.queue).toEqual([]);
  });

  it('forgets revoked partitions and bumps their epoch', () => {
    const q = new PartitionQueues();
    const a = q.get('t', 0);
    q.get('t', 1);
    q.keepOnly({ t: [1] });
    expect(a.epoch).toBe(1);
    expect(q.all().map((s) => s.partition)).toEqual([1]);
  });
});

describe('PartitionQueues.take', () => {
  it(`merges up to ${MERGE_BATCHES} queued batches into one and drops those of an older epoch`, () => {
    const q = new PartitionQueues();
    const s = q.get('t', 0);
    q.admit(s, records(0, 2), payload);
    s.epoch++; // rewound to 9 and repositioned: the batch above is stale
    s.lastQueued = 9n;
    for (let i = 0; i < MERGE_BATCHES + 2; i++) q.admit(s, records(10 + 2 * i, 2), payload);
    const dropped: QueuedBatch[] = [];
    const merged = q.take(s, (d) => dropped.push(d));
    expect(dropped.map((d) => d.messages[0]!.offset)).toEqual(['0']);
    expect(merged?.messages.map((m) => Number(m.offset))).toEqual(Array.from({ length: 2 * (MERGE_BATCHES - 1) }, (_, i) => 10 + i));
    expect(span(merged)).toEqual({ prev: 9n, first: '10', last: BigInt(10 + 2 * (MERGE_BATCHES - 1) - 1), epoch: 1 });
    expect(span(q.take(s, (d) => dropped.push(d)))).toEqual({ prev: 39n, first: '40', last: 45n, epoch: 1 });
    expect(q.take(s, (d) => dropped.push(d))).toBeUndefined();
  });

  it('drops everything while closing', () => {
    const q = new PartitionQueues();
    const s = q.get('t', 0);
    q.admit(s, records(0, 2), payload);
    const dropped: QueuedBatch[] = [];
    expect(q.take(s, (d) => dropped.push(d), true)).toBeUndefined();
    expect(dropped).toHaveLength(1);
  });
});

describe('InFlightBudget', () => {
  it('holds the fetch loop while events or bytes pass their bound, and lets it go once released', async () => {
    const b = new InFlightBudget(10, 1_000);
    b.take(11, 0);
    let through = false;
    const waiting = b.room(() => false).then(() => (through = true));
    await new Promise((r) => setImmediate(r));
    expect(through).toBe(false);
    b.release(1, 0);
    await waiting;
    expect(through).toBe(true);
    b.take(0, 1_001);
    expect(b.full).toBe(true);
    const stopped = b.room(() => true);
    await expect(stopped).resolves.toBeUndefined();
  });
});
