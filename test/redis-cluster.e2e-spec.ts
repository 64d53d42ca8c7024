import Redis, { type Cluster } from 'ioredis';
import { AccountTotalsReader, Keyspace, ProjectionStore, createRedisClient, pruneUnregistered, readAccountsUnread } from '@app/store';
import type { UnreadEvent } from '@app/contracts';
import { CountModel, countDiffs, expectModelCounts, readCounts } from './support/count-model';
import { uniq } from './support/harness';
import { RedisServer } from './support/processes';
import { RedisClusterRig } from './support/cluster-rig';
import { snapshot } from './support/snapshot';
import { Workload, applyReference, chunks, countsTraffic } from './support/workload';

/**
 * The projections on a real three-node Redis Cluster, through the apps' own client factory
 * (ioredis Cluster, auto-pipelining): every family's Lua stays within one slot, and the
 * state equals that of the same events applied one by one to a single Redis (a differential
 * check of the whole state), and its counts equal the independent model's.
 */
const RETENTION_MS = 7 * 24 * 3600 * 1000;

describe('projections on Redis Cluster', () => {
  let rig: RedisClusterRig;
  let cluster: Cluster;
  let single: RedisServer;
  let singleClient: Redis;

  beforeAll(async () => {
    rig = await RedisClusterRig.start({ masters: 3 });
    cluster = createRedisClient({ clusterNodes: rig.seeds, keyPrefix: 'u' }, { offlineQueue: true, connectionName: 'cluster-test' }) as Cluster;
    single = await RedisServer.start();
    singleClient = new Redis(single.url);
  });

  afterAll(async () => {
    cluster?.disconnect();
    singleClient?.disconnect();
    await single?.stop();
    await rig?.stop();
  });

  it('applies a mixed workload of every family in concurrent batches, equal to a single Redis applying it in order', async () => {
    const w = new Workload(11, 8);
    // then recalls, noUnread and receive options, with group seqs continuing the traffic's
    const events = [...w.setup(), ...w.traffic(600), ...countsTraffic(w, 17, 300)];
    const prefix = `c${uniq()}`;
    const store = new ProjectionStore(cluster, new Keyspace(prefix), { mentionRetentionMs: RETENTION_MS });
    // as the projector does: a batch's writes issued together, batch after batch
    for (const b of chunks(events, 50)) await store.applyAll(b);
    await applyReference(singleClient, prefix, events, RETENTION_MS);

    const expected = await snapshot(singleClient, prefix);
    const families = new Set(Object.keys(expected).map((k) => k.split(':', 1)[0]));
    expect([...families].sort()).toEqual(expect.arrayContaining(['c2c', 'chn', 'grp', 'mbr', 'qacc', 'srv']));
    expect(await rig.snapshot(prefix)).toEqual(expected);
    await expectModelCounts(cluster, prefix, events, RETENTION_MS);
    // keys of one owner, group or channel share a slot; different ones spread over the nodes
    const perNode = await Promise.all(cluster.nodes('master').map((n) => n.dbsize()));
    expect(perNode.filter((k) => k > 0).length).toBeGreaterThan(1);

    // the gateway's reads work across slots too
    const reference = new ProjectionStore(singleClient, new Keyspace(prefix), { mentionRetentionMs: RETENTION_MS });
    for (const owner of w.accounts) {
      expect(await store.c2c.total(w.tencentApp, owner)).toEqual(await reference.c2c.total(w.tencentApp, owner));
      expect(await store.directory.existMany(w.tencentApp, w.accounts)).toEqual(await reference.directory.existMany(w.tencentApp, w.accounts));
      expect(await store.group.joinedGroups(w.tencentApp, owner)).toEqual(await reference.group.joinedGroups(w.tencentApp, owner));
      const peers = [...w.accounts.slice(0, 10), 'nobody-at-all'];
      expect(await store.c2c.perPeerWithPeers(w.tencentApp, owner, peers)).toEqual(await reference.c2c.perPeerWithPeers(w.tencentApp, owner, peers));
    }
    // the badge's reads (c2c counts, receive options, groups with their uncounted seqs) agree too
    expect(await readAccountsUnread(store, w.tencentApp, w.accounts)).toEqual(await readAccountsUnread(reference, w.tencentApp, w.accounts));
    // the summary's and the batch API's form, which answers unknown accounts after one read
    const withUnknown = [...w.accounts, 'nobody-at-all'];
    expect(await readAccountsUnread(store, w.tencentApp, withUnknown, true)).toEqual(await readAccountsUnread(reference, w.tencentApp, withUnknown, true));
    // the one totals reader (summary, batch API, change feed) and its count-only mention read: one call per channel on a Cluster
    const qchat = w.accounts.map((account) => ({ app: w.neteaseApp, account }));
    const now = Date.now();
    const totals = await new AccountTotalsReader(store).read(qchat, now);
    expect(totals).toEqual(await new AccountTotalsReader(reference).read(qchat, now));
    expect(totals.filter((t) => t.channels.items.some((c) => c.unread > 0)).length).toBeGreaterThan(1);
    const uncounted = await Promise.all(w.groups.map((g) => singleClient.zcard(new Keyspace(prefix).group(w.tencentApp, g).uncounted)));
    expect(uncounted.every((n) => n > 0)).toBe(true);

    // account deletion works on the cluster as well
    const gone = w.accounts[0]!;
    await store.apply({ type: 'account-deleted', appId: w.tencentApp, account: gone });
    await reference.apply({ type: 'account-deleted', appId: w.tencentApp, account: gone });
    await store.apply({ type: 'account-deleted', appId: w.neteaseApp, account: gone });
    await reference.apply({ type: 'account-deleted', appId: w.neteaseApp, account: gone });
    expect(await rig.snapshot(prefix)).toEqual(await snapshot(singleClient, prefix));
  });

  it('prunes the groups\' seqs that do not count at the horizon on a Cluster, folded and in flight, as a single Redis applying the events one by one, with the counts of the model with that horizon', async () => {
    const w = new Workload(14, 8);
    const events = [...w.setup(), ...w.traffic(600), ...countsTraffic(w, 19, 300)];
    const horizon = 6;
    const options = { mentionRetentionMs: RETENTION_MS, groupUncountedHorizon: horizon };
    const prefix = `h${uniq()}`;
    const store = new ProjectionStore(cluster, new Keyspace(prefix), options);
    for (const inFlight of chunks(chunks(events, 50), 4)) await Promise.all(inFlight.map((b) => store.applyBatch(b)));
    const reference = new ProjectionStore(singleClient, new Keyspace(prefix), options);
    for (const e of events) await reference.apply(e);
    expect(await rig.snapshot(prefix)).toEqual(await snapshot(singleClient, prefix));
    const expected = new CountModel({ mentionRetentionMs: options.mentionRetentionMs, groupHorizon: horizon }).apply(events).counts();
    const got = await readCounts(cluster, prefix, expected, options.mentionRetentionMs);
    expect(countDiffs(got, expected)).toEqual([]);
    // the horizon mattered: some member beyond it counts what the exact model does not
    expect(countDiffs(got, new CountModel({ mentionRetentionMs: options.mentionRetentionMs }).apply(events).counts()).length).toBeGreaterThan(0);
  });

  it('coalesces batches redelivered within themselves (every event twice) on a Cluster exactly as a single Redis applying them one by one', async () => {
    const w = new Workload(13, 8);
    const events = [...w.setup(), ...w.traffic(600)];
    const prefix = `r${uniq()}`;
    const store = new ProjectionStore(cluster, new Keyspace(prefix), { mentionRetentionMs: RETENTION_MS });
    const batches = chunks(events, 40);
    // four batches in flight, each holding every one of its events twice (a redelivery folded in)
    for (const inFlight of chunks(batches, 4)) await Promise.all(inFlight.map((b) => store.applyBatch([...b, ...b])));
    const reference = new ProjectionStore(singleClient, new Keyspace(prefix), { mentionRetentionMs: RETENTION_MS });
    for (const b of batches) for (const e of [...b, ...b]) await reference.apply(e);
    expect(await rig.snapshot(prefix)).toEqual(await snapshot(singleClient, prefix));
  });

  it("folds the projector's writes into one call per slot (batch.lua), equal to a single Redis; every master records the positions", async () => {
    const w = new Workload(12, 8);
    const events = [...w.setup(), ...w.traffic(600), ...countsTraffic(w, 18, 200)];
    const prefix = `f${uniq()}`;
    const store = new ProjectionStore(cluster, new Keyspace(prefix), { mentionRetentionMs: RETENTION_MS });
    const masters = cluster.nodes('master');
    await Promise.all(masters.map((m) => m.config('RESETSTAT')));
    // as the projector does: four partitions' batches in flight at once (batch k of the
    // workload goes to partition k % 4 as its offsets k*50 … k*50+49), positions after the writes
    const batches = chunks(events, 50);
    const lastOffset = (k: number) => BigInt(k * 50 + 49);
    for (let round = 0; round < batches.length; round += 4) {
      await Promise.all(
        batches.slice(round, round + 4).map(async (b, j) => {
          const k = round + j;
          await store.applyBatch(b);
          const prev = k < 4 ? -1n : lastOffset(k - 4);
          expect(await store.recordPosition('t', j, prev, lastOffset(k))).toEqual({ ok: true });
        }),
      );
    }
    await applyReference(singleClient, prefix, events, RETENTION_MS);
    expect(await rig.snapshot(prefix)).toEqual(await snapshot(singleClient, prefix));
    await expectModelCounts(cluster, prefix, events, RETENTION_MS);
    // fewer calls than events (one per slot and tick: Redis Cluster refuses a call whose
    // declared keys span slots), EVALSHA and EVAL alike, spread over the masters
    const calls = await Promise.all(
      masters.map(async (m) => {
        const stats = await m.info('commandstats');
        const n = (c: string) => Number(new RegExp(`cmdstat_${c}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
        return n('evalsha') + n('eval');
      }),
    );
    expect(calls.filter((c) => c > 0).length).toBe(masters.length);
    expect(calls.reduce((a, b) => a + b, 0)).toBeLessThan(events.length * 0.8);
    // one positions hash per master, each on a slot that master serves, all saying the same
    const positionKeys = (await Promise.all(masters.map((m) => m.keys(`${prefix}:pos:*`)))).map((k) => k.length);
    expect(positionKeys).toEqual(masters.map(() => 1));
    const lastOf = (partition: number) => lastOffset(partition + 4 * Math.floor((batches.length - 1 - partition) / 4));
    expect(await store.positions([0, 1, 2, 3].map((partition) => ({ topic: 't', partition })))).toEqual([0, 1, 2, 3].map(lastOf));
  });

  it('trims one-to-one conversations at the cap (docs/projections.md, "The cap") on a Cluster as on a single Redis: the same state, min(exact, cap)', async () => {
    const cap = 5;
    const app = '1400000027';
    const owners = Array.from({ length: 12 }, (_, i) => `o${i}`);
    const events: UnreadEvent[] = [];
    for (const [i, owner] of owners.entries()) {
      for (let j = 0; j < 3 + i * 2; j++) events.push({ type: 'message-sent', scope: 'c2c', appId: app, msgId: `m${i}-${j}`, from: 'p', to: owner, time: 1_000 + j * 10 });
      if (i % 3 === 0) events.push({ type: 'read-ack', scope: 'c2c', appId: app, account: owner, peer: 'p', readTime: 1_000 + i * 10 });
      if (i % 4 === 1) events.push({ type: 'message-recalled', scope: 'c2c', appId: app, msgId: `m${i}-0`, from: 'p', to: owner, time: 1_000 });
    }
    const prefix = `k${uniq()}`;
    const options = { mentionRetentionMs: RETENTION_MS, c2cUnreadCap: cap };
    // the same batches on both (which tombstones a trimming write finds, and so drops, depends on the batches; counts do not)
    const applied = async (s: ProjectionStore) => {
      for (let i = 0; i < events.length; i += 30) await Promise.all([s.applyBatch(events.slice(i, i + 15)), s.applyBatch(events.slice(i + 15, i + 30))]);
    };
    const store = new ProjectionStore(cluster, new Keyspace(prefix), options);
    await applied(store);
    const reference = new ProjectionStore(singleClient, new Keyspace(prefix), options);
    await applied(reference);
    expect(await rig.snapshot(prefix)).toEqual(await snapshot(singleClient, prefix));
    const model = new CountModel({ c2cUnreadCap: cap }).apply(events);
    const counts = await Promise.all(owners.map(async (o) => (await store.c2c.total(app, o)).total));
    expect(counts).toEqual(owners.map((o) => model.c2c(app, o, 'p')));
    expect(counts.filter((n) => n === cap).length).toBeGreaterThan(3);
    expect(store.pruning.pruned.c2c_unread_id).toBeGreaterThan(0);
  });

  it('prunes idle recipients never registered on every master (unread prune-unregistered), as on a single Redis', async () => {
    const app = '1400000028';
    const events: UnreadEvent[] = [];
    // 30 owners over the three masters: every third registered, every other one idle
    for (let i = 0; i < 30; i++) {
      const owner = `r${i}`;
      if (i % 3 === 0) events.push({ type: 'account-registered', appId: app, account: owner });
      events.push({ type: 'message-sent', scope: 'c2c', appId: app, msgId: `a${i}`, from: 'p', to: owner, time: i % 2 === 0 ? 1_000 : 9_000 });
      events.push({ type: 'message-sent', scope: 'c2c', appId: app, msgId: `b${i}`, from: 'q', to: owner, time: 1_000 });
    }
    const prefix = `k${uniq()}`;
    const options = { mentionRetentionMs: RETENTION_MS };
    const store = new ProjectionStore(cluster, new Keyspace(prefix), options);
    const reference = new ProjectionStore(singleClient, new Keyspace(prefix), options);
    await store.applyBatch(events);
    await reference.applyAll(events);
    const expected = { owners: 30, pruned: 10, unread: 20, recent: 10 };
    expect(await pruneUnregistered(store, { idleMs: 1_000, now: 5_000 })).toEqual(expected);
    expect(await pruneUnregistered(reference, { idleMs: 1_000, now: 5_000 })).toEqual(expected);
    expect(await rig.snapshot(prefix)).toEqual(await snapshot(singleClient, prefix));
    const totals = await Promise.all(Array.from({ length: 30 }, async (_, i) => (await store.c2c.total(app, `r${i}`)).total));
    expect(totals).toEqual(Array.from({ length: 30 }, (_, i) => (i % 3 === 0 || i % 2 === 1 ? 2 : 0)));
  });
});
