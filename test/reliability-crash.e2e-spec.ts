import type { Admin } from 'kafkajs';
import { expectModelCounts } from './support/count-model';
import { type Harness, uniq } from './support/harness';
import { ProjectorProcess, drainedGroup, offsets, processHarness } from './support/projector-process';
import { waitFor } from './support/wait';
import { Workload, type Ev } from './support/workload';

/** True when a projector connection is held by Redis (CLIENT PAUSE WRITE) in the middle of a write. */
async function projectorBlocked(h: Harness): Promise<boolean> {
  const list = (await h.redis.call('CLIENT', 'LIST')) as string;
  return list.split('\n').some((l) => / name=unread-projector /.test(l) && / flags=\S*b/.test(l));
}

describe('reliability: a projector killed mid-batch', () => {
  let h: Harness;
  let admin: Admin;
  const procs: ProjectorProcess[] = [];
  /** Every event sent to the (shared) topics by earlier tests: a new group reads them too. */
  const history: Ev[] = [];

  beforeAll(async () => {
    ({ h, admin } = await processHarness());
  });
  afterAll(async () => {
    await h.redis.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    for (const p of procs) await p.kill();
    await admin.disconnect();
    await h.stop();
  });

  jest.setTimeout(120_000);

  it('redelivers after SIGKILL (with writes held in Redis, and with writes applied but the commit blocked) and ends exactly as a run without the crash', async () => {
    const w = new Workload(1);
    const setup = w.setup();
    const before = w.traffic(150);
    const heldInRedis = w.traffic(150);
    const commitBlocked = w.traffic(150);

    const p1 = await ProjectorProcess.start(h.config);
    procs.push(p1);
    await h.send(...setup);
    await drainedGroup(h.kafka, h.config);
    await h.send(...before);
    await drainedGroup(h.kafka, h.config);
    const committedBefore = (await offsets(admin, h.config)).committed;

    // 1. Redis holds the projector's writes (CLIENT PAUSE WRITE); SIGKILL while they are in flight.
    await h.redis.call('CLIENT', 'PAUSE', '60000', 'WRITE');
    await h.send(...heldInRedis);
    await waitFor(() => projectorBlocked(h), Boolean, { what: 'the projector to be inside a batch write' });
    await p1.kill();
    await h.redis.call('CLIENT', 'UNPAUSE');
    expect((await offsets(admin, h.config)).committed).toEqual(committedBefore);

    // 2. A new instance takes over, applies the redelivered records, but cannot commit (broker down); SIGKILL.
    await h.redis.call('CLIENT', 'PAUSE', '60000', 'WRITE');
    const p2 = await ProjectorProcess.start(h.config);
    procs.push(p2);
    await h.send(...commitBlocked);
    await waitFor(() => projectorBlocked(h), Boolean, { timeoutMs: 40_000, what: 'the second projector to be inside a batch write' });
    await h.broker.command('down 1');
    await h.redis.call('CLIENT', 'UNPAUSE');
    await waitFor(() => p2.metric('unread_projector_events_applied_total'), (n) => n > 0, { what: 'writes applied' });
    await waitFor(() => projectorBlocked(h), (b) => !b, { what: 'no write held' });
    await p2.kill();
    await h.broker.command('up 1');
    expect((await offsets(admin, h.config)).committed).toEqual(committedBefore);

    // 3. A third instance redelivers everything uncommitted; the result is exact.
    const p3 = await ProjectorProcess.start(h.config);
    procs.push(p3);
    await drainedGroup(h.kafka, h.config, undefined, 60_000);

    const all: Ev[] = [...setup, ...before, ...heldInRedis, ...commitBlocked];
    history.push(...all);
    await expectModelCounts(h.redis, h.config.redis.keyPrefix, all, h.config.mentionRetentionMs);
  });

  it('rebalance: with two instances in one group, the survivor of a SIGKILL takes the partitions and the result is exact', async () => {
    const config = {
      ...h.config,
      kafka: { ...h.config.kafka, consumerGroup: `rebalance-${uniq()}` },
      redis: { ...h.config.redis, keyPrefix: `rb${uniq()}` },
    };
    const w = new Workload(4);
    const sent: Ev[] = [...history];
    const a = await ProjectorProcess.start(config);
    const b = await ProjectorProcess.start(config);
    procs.push(a, b);
    sent.push(...w.setup());
    await h.send(...w.setup());
    // Both own partitions once both have applied something (more traffic until then).
    await waitFor(
      async () => {
        const more = w.traffic(20);
        sent.push(...more);
        await h.send(...more);
        return Math.min(await a.metric('unread_projector_events_applied_total'), await b.metric('unread_projector_events_applied_total'));
      },
      (n) => n > 0,
      { timeoutMs: 40_000, intervalMs: 500, what: 'both instances to own partitions' },
    );
    await drainedGroup(h.kafka, config, undefined, 40_000);
    await a.kill();
    const appliedBefore = await b.metric('unread_projector_events_applied_total');
    const after = w.traffic(200);
    sent.push(...after);
    await h.send(...after);
    await drainedGroup(h.kafka, config, undefined, 60_000);
    expect(await b.metric('unread_projector_events_applied_total')).toBeGreaterThanOrEqual(appliedBefore + after.length);
    await expectModelCounts(h.redis, config.redis.keyPrefix, sent, config.mentionRetentionMs);
  });
});
