import { FakeAdmin, FakeConsumer, until } from '../../../test/support/fake-kafkajs';
import { PartitionQueues } from './batch-queue';
import { PositionKeeper } from './position-keeper';

function setup(held: Record<string, bigint>) {
  const admin = new FakeAdmin();
  admin.partitionsOf.set('t', [0, 1, 2]);
  const queues = new PartitionQueues();
  const consumer = new FakeConsumer({});
  const logs: string[] = [];
  const log = (text: string) => void logs.push(text);
  const reads: string[][] = [];
  const keeper = new PositionKeeper(() => admin, 'g', queues, { warn: log, error: log, log }, (ps) => {
    reads.push(ps.map((p) => `${p.topic}/${p.partition}`));
    return Promise.resolve(ps.map((p) => held[`${p.topic}/${p.partition}`] ?? -1n));
  });
  return { admin, queues, consumer, keeper, logs, reads, current: () => true };
}

describe('PositionKeeper.verify', () => {
  it('on assignment, compares every assigned partition with the committed offset, with no batch at all, and rewinds where Redis holds less', async () => {
    // Redis emptied while the projector was down: it holds nothing; the group committed 0..9 of t/0, 0..5 of t/1, nothing of t/2.
    const { admin, consumer, keeper, reads, current } = setup({});
    admin.committed.set('t/0', 10n);
    admin.committed.set('t/1', 6n);
    keeper.assign({ t: [0, 1, 2] });
    await keeper.verify(consumer, current);
    expect(reads).toEqual([['t/0', 't/1', 't/2']]);
    await until(() => consumer.seeks.length === 2, 'two seeks');
    expect(consumer.seeks).toEqual([
      { topic: 't', partition: 0, offset: '0' },
      { topic: 't', partition: 1, offset: '0' },
    ]);
  });

  it('leaves a partition alone when Redis holds what was committed, and compares with what was applied once something was', async () => {
    const held = { 't/0': 9n, 't/1': 20n };
    const { admin, queues, consumer, keeper, current } = setup(held);
    admin.committed.set('t/0', 10n);
    admin.committed.set('t/1', 6n);
    keeper.assign({ t: [0, 1] });
    await keeper.verify(consumer, current);
    expect(consumer.seeks).toEqual([]);
    queues.get('t', 1).applied = 30n; // applied since: Redis (20) is behind it (a quiet Redis restored from a snapshot)
    await keeper.verify(consumer, current);
    await until(() => consumer.seeks.length === 1, 'the seek');
    expect(consumer.seeks).toEqual([{ topic: 't', partition: 1, offset: '21' }]);
  });

  it('pauses a partition whose missing events are gone from the log, and resumes it once Redis holds them (a rebuild)', async () => {
    const held: Record<string, bigint> = {};
    const { admin, queues, consumer, keeper, logs, current } = setup(held);
    admin.committed.set('t/0', 50n);
    admin.low.set('t/0', 20n);
    keeper.assign({ t: [0] });
    await keeper.verify(consumer, current);
    await until(() => consumer.paused.length === 1, 'the pause');
    expect(queues.get('t', 0).behind).toEqual({ topic: 't', partition: 0, heldOffset: -1n, logStart: 20n });
    expect(logs.some((l) => l.includes('only up to offset -1, but the log starts at 20'))).toBe(true);
    held['t/0'] = 49n;
    await keeper.verify(consumer, current);
    expect(consumer.resumed).toEqual(['t/0']);
    await until(() => consumer.seeks.length === 1, 'the seek');
    expect(consumer.seeks).toEqual([{ topic: 't', partition: 0, offset: '50' }]);
    expect(queues.get('t', 0).behind).toBeUndefined();
  });
});

describe('PositionKeeper.rewind', () => {
  it('repositions before anything is queued again: repositioning until the seek, then from held + 1 only', async () => {
    const { admin, queues, consumer, keeper, current } = setup({});
    const s = queues.get('t', 0);
    Object.assign(s, { lastQueued: 20n, applied: 15n, dirty: true });
    admin.topicOffsetsGate.close();
    keeper.rewind(consumer, s, 7n, current);
    expect({ repositioning: s.repositioning, lastQueued: s.lastQueued, applied: s.applied, dirty: s.dirty }).toEqual({
      repositioning: true,
      lastQueued: undefined,
      applied: 7n,
      dirty: false,
    });
    await until(() => admin.topicOffsetsGate.waiting === 1, 'the admin round trip');
    expect(consumer.seeks).toEqual([]);
    admin.topicOffsetsGate.open();
    await until(() => consumer.seeks.length === 1, 'the seek');
    expect(consumer.seeks).toEqual([{ topic: 't', partition: 0, offset: '8' }]);
    expect({ repositioning: s.repositioning, lastQueued: s.lastQueued }).toEqual({ repositioning: false, lastQueued: 7n });
  });

  it('a refetch seeks to the batch itself and never pauses', () => {
    const { queues, consumer, keeper } = setup({});
    const s = queues.get('t', 0);
    keeper.refetch(consumer, s, 100n);
    expect(consumer.seeks).toEqual([{ topic: 't', partition: 0, offset: '100' }]);
    expect(consumer.paused).toEqual([]);
    expect(s.lastQueued).toBe(99n);
  });
});
