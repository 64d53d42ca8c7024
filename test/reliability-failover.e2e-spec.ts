import type { Admin } from 'kafkajs';
import Redis from 'ioredis';
import { REDIS } from '@app/store';
import { countDiffs, modelCounts, readCounts } from './support/count-model';
import { Harness } from './support/harness';
import { drainedGroup, offsets } from './support/projector-process';
import { GatewayWatch, WatchedStream, answered, settledSnapshot } from './support/failover';
import { SentinelTopology } from './support/sentinel-topology';
import { RedisClusterRig } from './support/cluster-rig';
import { flushAll, keyCount, restartEmpty, waitReplicated } from './support/redis-faults';
import { waitFor } from './support/wait';
import { Workload, type Ev } from './support/workload';

/**
 * Redis failovers that lose acknowledged writes (a stale replica promoted, a Redis that came
 * back empty): afterwards every projection equals the model of the whole stream, and a
 * gateway polled throughout answered no count above the true one.
 *
 * Each scenario: the stream's first part is applied and replicated; the replica is stalled
 * (SIGSTOP, link cut) so it misses the second part, which the projector applies to the
 * primary and commits; the primary is SIGKILLed, a third part is produced while no primary
 * exists, the replica resumes and is promoted. The second part's offsets were committed
 * against a Redis that is gone: only a projector that notices Redis is behind what it
 * committed (docs/reliability.md, failover) ends exact.
 */

/** How long the projections may take to converge after the fault (re-applying what the promoted Redis lacks). */
const CONVERGE_MS = 30_000;
const RETENTION = { mentionRetentionMs: 7 * 24 * 3600 * 1000 };

jest.setTimeout(240_000);

/**
 * Commands the projector's Redis client holds while Redis is away: queued (offline queue),
 * sent and unanswered (command queue; ioredis resends them on reconnect, to whichever server
 * it reaches), or waiting in ioredis' auto-pipeline queue (one auto-pipeline is in flight per
 * node; while the one sent before the outage is unanswered, new commands gather there).
 */
function projectorQueue(h: Harness): number {
  const client = h.projector!.app.get<Redis>(REDIS);
  const queues = client as unknown as { offlineQueue: { length: number }; commandQueue: { length: number } };
  return queues.offlineQueue.length + queues.commandQueue.length + client.autoPipelineQueueSize;
}

describe('reliability: Sentinel promotes a replica that missed acknowledged writes', () => {
  let topo: SentinelTopology;
  let h: Harness;
  let live: Redis | undefined;

  beforeAll(async () => {
    topo = await SentinelTopology.start();
    h = await Harness.start({ env: { ...topo.env(), TENCENT_RATE_LIMIT: '100000', QCHAT_RATE_LIMIT: '100000', REQUEST_TIMEOUT_MS: '1000' } });
  });
  afterAll(async () => {
    live?.disconnect();
    await h?.stop();
    await topo?.stop();
  });

  it('ends with every count equal to the model of the stream, and the gateway never answered a count above the true one', async () => {
    const w = new Workload(21, 20);
    const watched = new WatchedStream(22);
    const sent: Ev[] = [];
    const send = async (...events: Ev[]) => {
      sent.push(...events);
      await h.send(...events);
    };
    const traffic = (n: number) => [...w.traffic(n), ...watched.traffic(Math.floor(n / 2))];

    await send(...w.setup(), ...watched.setup());
    await drainedGroup(h.kafka, h.config);
    const watch = new GatewayWatch(h.gateway!.url, watched);
    watch.start();
    try {
      // 1. Applied, committed and on the replica.
      await send(...traffic(600));
      await drainedGroup(h.kafka, h.config);
      await waitReplicated(topo.primary);

      // 2. Applied and committed, on the primary only.
      await topo.stallReplica();
      await send(...traffic(1200));
      await drainedGroup(h.kafka, h.config, undefined, 60_000);

      // 3. The primary dies; more events while there is no primary; the stale replica is promoted.
      await topo.killPrimary();
      await send(...traffic(400));
      await waitFor(() => projectorQueue(h), (n) => n > 0, { what: 'the projector to hold writes while there is no primary' });
      topo.resumeReplica();
      await topo.waitForPromotion(topo.replica);
      expect(await topo.currentPrimary()).toEqual({ host: '127.0.0.1', port: topo.announcedPort(topo.replica) });

      await send(...traffic(300));
      await drainedGroup(h.kafka, h.config, undefined, 90_000);

      live = new Redis(topo.replica.url);
      const prefix = h.config.redis.keyPrefix;
      const expected = modelCounts(sent);
      const got = await settledSnapshot(() => readCounts(live!, prefix, expected, RETENTION.mentionRetentionMs), expected, CONVERGE_MS);

      // The gateway converges to the model too (polled, since a refresh may lag the projector).
      const final = watched.expected();
      const lastRound = await waitFor(() => watch.round(), (r) => JSON.stringify(answered(r)) === JSON.stringify(final.values), {
        timeoutMs: 10_000,
        intervalMs: 200,
        what: 'the gateway to answer the model’s counts',
      }).catch(() => watch.round());

      const wrong = countDiffs(got, expected);
      await watch.stop();
      // Errors during the switch are fine; a count above the true one, or an undocumented answer, never is.
      expect({
        wrongCounts: wrong.length,
        which: wrong,
        gatewayWrongAnswers: watch.wrong(final),
        gatewayFinalAnswers: answered(lastRound),
      }).toEqual({ wrongCounts: 0, which: [], gatewayWrongAnswers: [], gatewayFinalAnswers: final.values });
      expect(got).toEqual(expected);
    } finally {
      await watch.stop();
    }
    expect(watch.counts().values).toBeGreaterThan(0);
  });
});

describe('reliability: Redis Cluster promotes a replica that missed acknowledged writes', () => {
  let rig: RedisClusterRig;
  let h: Harness;

  beforeAll(async () => {
    rig = await RedisClusterRig.start({ masters: 3, replicas: 1 });
    h = await Harness.start({ gateway: false, env: rig.env() });
  });
  afterAll(async () => {
    await h?.stop();
    await rig?.stop();
  });

  it('ends with every count equal to the model of the stream after one master is lost', async () => {
    const w = new Workload(31, 20);
    const sent: Ev[] = [];
    const send = async (...events: Ev[]) => {
      sent.push(...events);
      await h.send(...events);
    };

    await send(...w.setup(), ...w.traffic(600));
    await drainedGroup(h.kafka, h.config);
    // The master that holds the most of this stream's keys loses the next part.
    const shards = await rig.shards();
    const sizes = await Promise.all(shards.map((s) => keyCount(s.master)));
    const victim = shards[sizes.indexOf(Math.max(...sizes))]!;
    const replica = victim.replicas[0]!;
    await waitReplicated(victim.master);

    await rig.stallReplica(replica, victim.master);
    await send(...w.traffic(1200));
    await drainedGroup(h.kafka, h.config, undefined, 60_000);

    await rig.killMaster(victim.master);
    await send(...w.traffic(400));
    rig.resumeReplica(replica);
    await rig.waitForPromotion(replica);
    await send(...w.traffic(300));
    await drainedGroup(h.kafka, h.config, undefined, 90_000);

    const prefix = h.config.redis.keyPrefix;
    const cluster = h.projector!.app.get<Redis>(REDIS);
    const expected = modelCounts(sent);
    const got = await settledSnapshot(() => readCounts(cluster, prefix, expected, RETENTION.mentionRetentionMs), expected, CONVERGE_MS);
    const wrong = countDiffs(got, expected);
    expect({ wrongCounts: wrong.length, which: wrong }).toEqual({ wrongCounts: 0, which: [] });
    expect(got).toEqual(expected);
  });
});

describe('reliability: Redis comes back empty under a running projector', () => {
  let h: Harness;
  let admin: Admin;
  const w = new Workload(41, 12);
  /** Every event sent to the topics: after Redis lost everything, all of them must be applied again. */
  const sent: Ev[] = [];
  const send = async (...events: Ev[]) => {
    sent.push(...events);
    await h.send(...events);
  };

  beforeAll(async () => {
    h = await Harness.start({ gateway: false });
    admin = h.kafka.admin();
    await admin.connect();
    await send(...w.setup(), ...w.traffic(500));
    await drainedGroup(h.kafka, h.config);
  });
  afterAll(async () => {
    await admin.disconnect();
    await h.stop();
  });

  /** Waits for the live prefix to hold the model's counts of everything sent. */
  async function expectExact(): Promise<void> {
    await drainedGroup(h.kafka, h.config, undefined, 60_000);
    const expected = modelCounts(sent);
    const got = await settledSnapshot(() => readCounts(h.redis, h.config.redis.keyPrefix, expected, RETENTION.mentionRetentionMs), expected, CONVERGE_MS);
    const wrong = countDiffs(got, expected);
    expect({ wrongCounts: wrong.length, which: wrong }).toEqual({ wrongCounts: 0, which: [] });
    expect(got).toEqual(expected);
  }

  it('FLUSHALL: re-applies the log from where Redis stands (nothing), and ends exact', async () => {
    const committed = (await offsets(admin, h.config)).committed;
    expect(Object.values(committed).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    await flushAll(h.redisServer);
    expect(await h.redis.dbsize()).toBe(0);
    await send(...w.traffic(300));
    await expectExact();
  });

  it('restarted empty while the projector holds writes: re-applies the log and ends exact', async () => {
    await restartEmpty(h.redisServer, async () => {
      await send(...w.traffic(300));
      await waitFor(() => projectorQueue(h), (n) => n > 0, { what: 'the projector to hold writes while Redis is down' });
    });
    await send(...w.traffic(100));
    await expectExact();
  });
});
