import { FakeConsumer, until } from '../../../test/support/fake-kafkajs';
import { PartitionQueues } from './batch-queue';
import { CommitCoalescer, QUIET_COMMIT_FAILURES } from './commit-coalescer';

function logger() {
  const lines: { level: string; text: string }[] = [];
  return {
    lines,
    warn: (text: string) => void lines.push({ level: 'warn', text }),
    debug: (text: string) => void lines.push({ level: 'debug', text }),
  };
}

describe('CommitCoalescer', () => {
  it('commits every applied partition in one request per interval, applied + 1, and nothing not applied', async () => {
    const q = new PartitionQueues();
    const consumer = new FakeConsumer({});
    const c = new CommitCoalescer(() => q.all(), 5, logger());
    const a = q.get('t', 0);
    const b = q.get('t', 1);
    q.get('t', 2).dirty = true; // dirty but nothing applied: never committed
    Object.assign(a, { applied: 9n, dirty: true });
    c.schedule(consumer);
    Object.assign(b, { applied: 3n, dirty: true });
    c.schedule(consumer);
    await until(() => consumer.commits.length === 1, 'one commit');
    expect(consumer.commits[0]).toEqual([
      { topic: 't', partition: 0, offset: '10' },
      { topic: 't', partition: 1, offset: '4' },
    ]);
    await new Promise((r) => setTimeout(r, 20));
    expect(consumer.commits).toHaveLength(1);
    expect([a.dirty, b.dirty]).toEqual([false, false]);
    c.close();
  });

  it('retries a commit that keeps failing, at warn from the third failure in a row, and says when it succeeds again', async () => {
    const q = new PartitionQueues();
    const consumer = new FakeConsumer({});
    const log = logger();
    const c = new CommitCoalescer(() => q.all(), 1, log);
    let fail = true;
    consumer.commitImpl = () => (fail ? Promise.reject(new Error('REBALANCE_IN_PROGRESS')) : Promise.resolve());
    Object.assign(q.get('t', 0), { applied: 4n, dirty: true });
    c.schedule(consumer);
    await until(() => c.failures >= QUIET_COMMIT_FAILURES + 2, 'failures');
    const warns = log.lines.filter((l) => l.level === 'warn');
    expect(log.lines.slice(0, QUIET_COMMIT_FAILURES).every((l) => l.level === 'debug')).toBe(true);
    expect(warns[0]?.text).toMatch(/^commit of 1 partition\(s\) failed \(3 in a row: REBALANCE_IN_PROGRESS\); retrying; the group's offsets/);
    fail = false;
    await until(() => c.failures === 0, 'a commit that succeeds');
    expect(log.lines.at(-1)).toEqual({ level: 'warn', text: expect.stringMatching(/^offsets committed again after \d+ failed commits$/) as string });
    expect(consumer.commits.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '5' }]);
    c.close();
  });

  it('does not commit again a partition rewound while its commit failed', async () => {
    const q = new PartitionQueues();
    const consumer = new FakeConsumer({});
    const c = new CommitCoalescer(() => q.all(), 1, logger());
    const s = q.get('t', 0);
    Object.assign(s, { applied: 4n, dirty: true });
    consumer.commitImpl = () => {
      s.epoch++; // rewound while the commit was in flight
      s.applied = 1n;
      return Promise.reject(new Error('broker away'));
    };
    await c.commit(consumer);
    expect(s.dirty).toBe(false);
    c.close();
  });
});
