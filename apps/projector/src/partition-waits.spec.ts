import { PartitionWaits } from './partition-waits';

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
