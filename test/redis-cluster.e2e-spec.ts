import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis, { type Cluster } from 'ioredis';
import { Keyspace, ProjectionStore, createRedisClient } from '@app/store';
import { uniq } from './support/harness';
import { RedisServer } from './support/processes';
import { snapshot, type Snapshot } from './support/snapshot';
import { waitFor } from './support/wait';
import { Workload, applyReference } from './support/workload';

const run = promisify(execFile);

/**
 * The projections on a real three-node Redis Cluster, through the apps' own client factory
 * (ioredis Cluster, auto-pipelining): every family's Lua stays within one slot, and the
 * state equals that of the same events applied one by one to a single Redis.
 */
describe('projections on Redis Cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unread-cluster-'));
  const nodes: RedisServer[] = [];
  let cluster: Cluster;
  let single: RedisServer;
  let singleClient: Redis;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await RedisServer.start(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${i}.conf`), '--cluster-node-timeout', '2000']),
      );
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-yes']);
    const probes = nodes.map((n) => new Redis(n.url));
    try {
      await waitFor(
        () => Promise.all(probes.map((p) => p.cluster('INFO'))),
        (infos) => infos.every((info) => String(info).includes('cluster_state:ok')),
        { what: 'cluster_state:ok on every node' },
      );
    } finally {
      probes.forEach((p) => p.disconnect());
    }
    cluster = createRedisClient(
      { clusterNodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), keyPrefix: 'u' },
      { offlineQueue: true, connectionName: 'cluster-test' },
    ) as Cluster;
    single = await RedisServer.start();
    singleClient = new Redis(single.url);
  });

  afterAll(async () => {
    cluster?.disconnect();
    singleClient?.disconnect();
    await single?.stop();
    for (const n of nodes) await n.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every master's projection keys, merged (each key lives on exactly one node). */
  async function clusterSnapshot(prefix: string): Promise<Snapshot> {
    const parts = await Promise.all(cluster.nodes('master').map((node) => snapshot(node, prefix)));
    return Object.fromEntries(
      parts
        .flatMap((p) => Object.entries(p))
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  }

  it('applies a mixed workload of every family in concurrent batches, equal to a single Redis applying it in order', async () => {
    const w = new Workload(11, 8);
    const events = [...w.setup(), ...w.traffic(600)];
    const prefix = `c${uniq()}`;
    const store = new ProjectionStore(cluster, new Keyspace(prefix), { mentionRetentionMs: 7 * 24 * 3600 * 1000 });
    // as the projector does: a batch's writes issued together, batch after batch
    for (let i = 0; i < events.length; i += 50) await store.applyAll(events.slice(i, i + 50));
    await applyReference(singleClient, prefix, events, 7 * 24 * 3600 * 1000);

    const expected = await snapshot(singleClient, prefix);
    const families = new Set(Object.keys(expected).map((k) => k.split(':', 1)[0]));
    expect([...families].sort()).toEqual(expect.arrayContaining(['c2c', 'chn', 'grp', 'mbr', 'qacc', 'srv']));
    expect(await clusterSnapshot(prefix)).toEqual(expected);
    // keys of one owner, group or channel share a slot; different ones spread over the nodes
    const perNode = await Promise.all(cluster.nodes('master').map((n) => n.dbsize()));
    expect(perNode.filter((k) => k > 0).length).toBeGreaterThan(1);

    // the gateway's reads work across slots too
    const reference = new ProjectionStore(singleClient, new Keyspace(prefix), { mentionRetentionMs: 7 * 24 * 3600 * 1000 });
    for (const owner of w.accounts) {
      expect(await store.c2c.total(w.tencentApp, owner)).toEqual(await reference.c2c.total(w.tencentApp, owner));
      expect(await store.directory.existMany(w.tencentApp, w.accounts)).toEqual(await reference.directory.existMany(w.tencentApp, w.accounts));
      expect(await store.group.joinedGroups(w.tencentApp, owner)).toEqual(await reference.group.joinedGroups(w.tencentApp, owner));
      const peers = w.accounts.slice(0, 10);
      expect(await store.c2c.perPeerWithPeers(w.tencentApp, owner, peers)).toEqual(await reference.c2c.perPeerWithPeers(w.tencentApp, owner, peers));
    }

    // account deletion works on the cluster as well
    const gone = w.accounts[0]!;
    await store.apply({ type: 'account-deleted', appId: w.tencentApp, account: gone });
    await reference.apply({ type: 'account-deleted', appId: w.tencentApp, account: gone });
    await store.apply({ type: 'account-deleted', appId: w.neteaseApp, account: gone });
    await reference.apply({ type: 'account-deleted', appId: w.neteaseApp, account: gone });
    expect(await clusterSnapshot(prefix)).toEqual(await snapshot(singleClient, prefix));
  });
});
