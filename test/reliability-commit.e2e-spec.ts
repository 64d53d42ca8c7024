import type { Admin } from 'kafkajs';
import { CONSUMED_TOPIC_ROLES } from '@app/contracts';
import { Keyspace, ProjectionStore } from '@app/store';
import { expectModelCounts } from './support/count-model';
import { type Harness, uniq } from './support/harness';
import { ProjectorProcess, drainedGroup, offsets, processHarness } from './support/projector-process';
import { waitFor } from './support/wait';
import { Workload, type Ev } from './support/workload';

/**
 * The window the pipelined projector opens: batches are applied (and their positions
 * recorded in Redis) long before their offsets are committed, because commits are
 * asynchronous and coalesced. A crash in that window re-delivers everything applied since
 * the last commit; it must change nothing.
 */
describe('reliability: a crash between apply and the coalesced commit', () => {
  let h: Harness;
  let admin: Admin;
  const procs: ProjectorProcess[] = [];

  beforeAll(async () => {
    ({ h, admin } = await processHarness());
  });
  afterAll(async () => {
    for (const p of procs) await p.kill();
    await admin.disconnect();
    await h.stop();
  });

  jest.setTimeout(120_000);

  it('re-applies exactly what was applied but not committed, with no double count', async () => {
    const config = {
      ...h.config,
      kafka: { ...h.config.kafka, consumerGroup: `commit-${uniq()}` },
      redis: { ...h.config.redis, keyPrefix: `cw${uniq()}` },
      // Commits held back for the whole test: everything applied stays uncommitted.
      projector: { ...h.config.projector, commitIntervalMs: 600_000 },
    };
    const w = new Workload(11);
    const sent: Ev[] = [...w.setup(), ...w.traffic(400)];
    const p1 = await ProjectorProcess.start(config);
    procs.push(p1);
    await h.send(...sent);

    // Every record is applied and recorded in Redis, and none is committed.
    const topics = CONSUMED_TOPIC_ROLES.map((r) => config.kafka.topics[r]);
    const store = new ProjectionStore(h.redis, new Keyspace(config.redis.keyPrefix), { mentionRetentionMs: config.mentionRetentionMs });
    const { high } = await offsets(admin, config);
    const partitions = Object.entries(high)
      .filter(([, end]) => end > 0)
      .map(([key, end]) => {
        const i = key.lastIndexOf(':');
        return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)), end };
      });
    expect(partitions.length).toBeGreaterThan(4);
    expect(new Set(partitions.map((p) => p.topic))).toEqual(new Set(topics));
    await waitFor(
      async () => (await store.positions(partitions)).every((held, i) => held === BigInt(partitions[i]!.end - 1)),
      Boolean,
      { timeoutMs: 60_000, what: 'every record applied and recorded in Redis' },
    );
    // every record counted as applied or dead-lettered (the counters move just after the positions)
    const records = partitions.reduce((n, p) => n + p.end, 0);
    const counted = async () =>
      (await p1.metric('unread_projector_events_applied_total')) + (await p1.metric('unread_projector_events_dead_lettered_total'));
    await waitFor(counted, (n) => n === records, { what: 'every record counted by the first projector' });
    const applied = await p1.metric('unread_projector_events_applied_total');
    expect(applied).toBeGreaterThan(records * 0.9);
    expect(Object.values((await offsets(admin, config)).committed).every((c) => c === 0)).toBe(true);

    // SIGKILL in the window; a new instance gets everything again and applies it again.
    await p1.kill();
    const p2 = await ProjectorProcess.start({ ...config, projector: h.config.projector });
    procs.push(p2);
    await drainedGroup(h.kafka, config, undefined, 60_000);
    expect(await p2.metric('unread_projector_events_applied_total')).toBe(applied);
    expect(await p2.metric('unread_projector_rewinds_total')).toBe(0);

    await expectModelCounts(h.redis, config.redis.keyPrefix, sent, config.mentionRetentionMs);
  });
});
