import { PartitionWaits, WAIT_READY_BOUND_MS, heldPartitions } from './partition-waits';

describe('PartitionWaits', () => {
  it('keeps the start of a wait at the same offset, restarts it at another, and ends it', () => {
    const w = new PartitionWaits();
    w.begin('t', 0, 10n, 'oom', 'OOM a', 1_000);
    w.begin('t', 0, 10n, 'noreplicas', 'NOREPLICAS b', 5_000);
    expect(w.all()).toEqual([{ topic: 't', partition: 0, offset: 10n, class: 'noreplicas', error: 'NOREPLICAS b', since: 1_000 }]);
    expect(w.overdue(10_000, 10_999)).toEqual([]);
    expect(w.overdue(10_000, 11_000).map((x) => x.partition)).toEqual([0]);
    w.begin('t', 0, 20n, 'oom', 'OOM c', 12_000);
    expect(w.overdue(10_000, 12_000)).toEqual([]);
    w.begin('t', 1, 5n, 'oom', 'OOM', 0);
    w.end('t', 0);
    expect(w.all().map((x) => x.partition)).toEqual([1]);
  });
});

describe('heldPartitions (what makes /ready false)', () => {
  it('lists paused ("behind") partitions at once and waiting ones after the bound', () => {
    const w = new PartitionWaits();
    w.begin('t', 1, 40n, 'noreplicas', 'NOREPLICAS', 0);
    w.begin('t', 2, 7n, 'oom', 'OOM', 5_000);
    const behind = [{ topic: 't', partition: 0, heldOffset: 9n, logStart: 20n }];
    expect(heldPartitions(behind, w, WAIT_READY_BOUND_MS)).toEqual([
      { topic: 't', partition: 0, state: 'behind', offset: '10' },
      { topic: 't', partition: 1, state: 'waiting: noreplicas', offset: '40' },
    ]);
    expect(heldPartitions([], new PartitionWaits(), 0)).toEqual([]);
  });
});
