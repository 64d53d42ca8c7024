import { PruningTally } from '@app/store';
import { ProjectorMetrics } from './projector.metrics';

describe('ProjectorMetrics: pruning', () => {
  const value = async (m: ProjectorMetrics, name: string, entry?: string) => {
    const metric = (await m.registry.getSingleMetric(name)!.get()).values.find((v) => entry === undefined || v.labels.entry === entry);
    return metric?.value;
  };

  it('every entry is there from the start, at 0, without a tally', async () => {
    const m = new ProjectorMetrics();
    expect(await value(m, 'unread_projection_pruned_total', 'c2c_unread_id')).toBe(0);
    expect(await value(m, 'unread_projection_pruned_total', 'c2c_tombstone')).toBe(0);
    expect(await value(m, 'unread_projection_pruned_total', 'group_uncounted_seq')).toBe(0);
    expect(await value(m, 'unread_c2c_capped_total')).toBe(0);
  });

  it('each scrape adds what the store tallied since the last one', async () => {
    const m = new ProjectorMetrics();
    const tally = new PruningTally();
    m.watchPruning(tally);
    tally.pruned.c2c_unread_id += 7;
    tally.pruned.c2c_tombstone += 2;
    tally.c2cCapped += 3;
    expect(await value(m, 'unread_projection_pruned_total', 'c2c_unread_id')).toBe(7);
    expect(await value(m, 'unread_projection_pruned_total', 'c2c_tombstone')).toBe(2);
    expect(await value(m, 'unread_c2c_capped_total')).toBe(3);
    // a second scrape with nothing new keeps the values; more pruning adds to them
    expect(await value(m, 'unread_projection_pruned_total', 'c2c_unread_id')).toBe(7);
    tally.pruned.c2c_unread_id += 1;
    tally.c2cCapped += 1;
    const text = await m.registry.metrics();
    expect(text).toContain('unread_projection_pruned_total{entry="c2c_unread_id"} 8');
    expect(text).toContain('unread_projection_pruned_total{entry="c2c_tombstone"} 2');
    expect(text).toContain('unread_c2c_capped_total 4');
  });
});
