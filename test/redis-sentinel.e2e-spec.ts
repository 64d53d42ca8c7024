import { expectModelCounts } from './support/count-model';
import { Harness } from './support/harness';
import { drainedGroup } from './support/projector-process';
import { GatewayWatch, WatchedStream, answered, expectExact } from './support/failover';
import { withRedis } from './support/private-redis';
import { failOverUnderTraffic, sentinelHarness } from './support/sentinel-topology';
import { PrimaryRelay, replicationInfo, waitReplicated } from './support/redis-faults';
import { RedisServer } from './support/processes';
import { waitFor } from './support/wait';
import { Workload, type Ev } from './support/workload';

/**
 * The apps under Sentinel (REDIS_SENTINELS) and behind an endpoint that follows the primary
 * (REDIS_URL): they reach the current primary by themselves after a switch. Every write was
 * on the replica before the switch here, so nothing is lost and the counts are exact without
 * any re-application (the lossy cases are in reliability-failover.e2e-spec.ts).
 */

const RETENTION_MS = 7 * 24 * 3600 * 1000;
const ENV = { TENCENT_RATE_LIMIT: '100000', QCHAT_RATE_LIMIT: '100000', REQUEST_TIMEOUT_MS: '1000' };

jest.setTimeout(180_000);

/** Clients of `node` with the given connection name (CLIENT LIST). */
async function clientsNamed(node: RedisServer, name: string): Promise<number> {
  const list = (await withRedis(node.url, (r) => r.call('CLIENT', 'LIST'))) as string;
  return list.split('\n').filter((l) => l.includes(` name=${name} `)).length;
}

describe('Redis under Sentinel', () => {
  const rig = sentinelHarness(ENV);

  it('projects and answers through the primary Sentinel names, then follows a failover to the promoted replica: documented errors during the switch, exact counts after', async () => {
    const { topo, h } = rig;
    const w = new Workload(51, 10);
    const watched = new WatchedStream(52);
    const sent: Ev[] = [...w.setup(), ...watched.setup(), ...w.traffic(300), ...watched.traffic(150)];
    await h.send(...sent);
    await drainedGroup(h.kafka, h.config);
    expect(await clientsNamed(topo.primary, 'unread-projector')).toBeGreaterThan(0);
    expect(await clientsNamed(topo.primary, 'unread-gateway')).toBeGreaterThan(0);
    await waitReplicated(topo.primary);

    const watch = new GatewayWatch(h.gateway!.url, watched);
    watch.start();
    try {
      await failOverUnderTraffic(topo, h, sent, [...w.traffic(200), ...watched.traffic(100)]);
      await drainedGroup(h.kafka, h.config, undefined, 60_000);

      await withRedis(topo.replica.url, (promoted) => expectModelCounts(promoted, h.config.redis.keyPrefix, sent, RETENTION_MS));
      const final = watched.expected();
      const last = await waitFor(() => watch.round(), (r) => JSON.stringify(answered(r)) === JSON.stringify(final.values), {
        timeoutMs: 20_000,
        intervalMs: 200,
        what: 'the gateway to answer the model’s counts from the promoted replica',
      });
      expect(answered(last)).toEqual(final.values);
    } finally {
      await watch.stop();
    }
    expect(watch.wrong(watched.expected())).toEqual([]);
    // The gateway failed fast while there was no primary, in the documented shapes, and answered before and after.
    expect(watch.counts()).toEqual({ values: expect.any(Number), documentedErrors: expect.any(Number), undocumented: 0 });
    expect(watch.counts().documentedErrors).toBeGreaterThan(0);
    expect(watch.counts().values).toBeGreaterThan(0);
    expect(await clientsNamed(topo.replica, 'unread-projector')).toBeGreaterThan(0);
  });
});

describe('Redis under Sentinel, with a Sentinel hanging during the failover', () => {
  const rig = sentinelHarness(ENV);

  it('both apps reach the promoted replica although the failover is announced while they wait on the hung Sentinel', async () => {
    const { topo, h } = rig;
    // The clients ask the first Sentinel first; hung, it holds every reconnection attempt for
    // the Sentinel command timeout, which is when the others announce +switch-master. (ioredis
    // alone gives a client up in that case: status "end", "Connection is closed.".)
    const w = new Workload(71, 6);
    const sent: Ev[] = [...w.setup(), ...w.traffic(200)];
    await h.send(...sent);
    await drainedGroup(h.kafka, h.config);
    await waitReplicated(topo.primary);

    topo.pauseSentinel(0);
    await failOverUnderTraffic(topo, h, sent, w.traffic(200));
    await withRedis(topo.replica.url, (promoted) => expectExact(h, w, sent, promoted, RETENTION_MS));
    topo.resumeSentinel(0);
  });
});

describe('Redis behind one endpoint that follows the primary (REDIS_URL)', () => {
  let a: RedisServer;
  let b: RedisServer;
  let target: RedisServer;
  let relay: PrimaryRelay;
  let h: Harness;

  beforeAll(async () => {
    a = await RedisServer.start();
    b = await RedisServer.start(['--replicaof', '127.0.0.1', String(a.port)]);
    await waitFor(() => replicationInfo(b.port), (i) => i.master_link_status === 'up', { what: 'b to replicate a' });
    target = a;
    relay = await PrimaryRelay.start(() => ({ host: '127.0.0.1', port: target.port }));
    h = await Harness.start({ env: { REDIS_URL: relay.url, ...ENV } });
  });
  afterAll(async () => {
    await h?.stop();
    await relay?.stop();
    await b?.stop();
    await a?.stop();
  });

  it('a demoted primary that keeps its connections answers READONLY: the clients reconnect, reach the new primary, and the counts stay exact', async () => {
    const w = new Workload(61, 8);
    const sent: Ev[] = [...w.setup(), ...w.traffic(300)];
    await h.send(...sent);
    await drainedGroup(h.kafka, h.config);
    await waitReplicated(a);

    // The switch: b becomes primary, a its replica, new connections go to b. a keeps its clients.
    await withRedis(b.url, (rb) => rb.call('REPLICAOF', 'NO', 'ONE'));
    await withRedis(a.url, (ra) => ra.call('REPLICAOF', '127.0.0.1', String(b.port)));
    target = b;
    await waitFor(() => replicationInfo(a.port), (i) => i.master_link_status === 'up', { what: 'a to replicate b' });
    expect(await clientsNamed(a, 'unread-projector')).toBeGreaterThan(0);

    const after = w.traffic(300);
    sent.push(...after);
    await h.send(...after);
    await drainedGroup(h.kafka, h.config, undefined, 60_000);
    expect(await clientsNamed(a, 'unread-projector')).toBe(0);
    expect(await clientsNamed(b, 'unread-projector')).toBeGreaterThan(0);

    await withRedis(b.url, (rb) => expectModelCounts(rb, h.config.redis.keyPrefix, sent, RETENTION_MS));
  });
});
