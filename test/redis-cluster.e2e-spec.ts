import { AccountTotalsReader, Keyspace, ProjectionStore, pruneUnregistered, readAccountsUnread } from '@app/store';
import { GROUP_TYPES, type UnreadEvent } from '@app/contracts';
import { startGateway, type RunningGateway } from '../apps/gateway/src/gateway';
import { CountModel, countDiffs, expectModelCounts, readCounts } from './support/count-model';
import { NETEASE_APP, TENCENT_APP, testConfig, uniq } from './support/harness';
import { qchatHeaders } from './support/qchat-client';
import { prng } from './support/random';
import { tencentUrl } from './support/tencent';
import { clusterBesideOneRedis } from './support/cluster-rig';
import { snapshot } from './support/snapshot';
import { Workload, applyReference, chunks, countsTraffic, type Ev } from './support/workload';

/**
 * The projections on a real three-node Redis Cluster, through the apps' own client factory
 * (ioredis Cluster, auto-pipelining): every family's Lua stays within one slot, and the
 * state equals that of the same events applied one by one to a single Redis (a differential
 * check of the whole state), and its counts equal the independent model's.
 */
const RETENTION_MS = 7 * 24 * 3600 * 1000;

describe('projections on Redis Cluster', () => {
  const redis = clusterBesideOneRedis('cluster-test');

  /**
   * A mixed workload of every family (seed `seed`, 8 accounts, 600 events), then `counts`
   * recalls, noUnread messages and receive options (seed `countsSeed`) with group seqs
   * continuing the traffic's; a fresh prefix and a store of it on the Cluster.
   */
  function mixed(seed: number, countsSeed: number, counts: number) {
    const w = new Workload(seed, 8);
    const events = [...w.setup(), ...w.traffic(600), ...countsTraffic(w, countsSeed, counts)];
    const prefix = `c${uniq()}`;
    return { w, events, prefix, store: new ProjectionStore(redis.cluster, new Keyspace(prefix), { mentionRetentionMs: RETENTION_MS }) };
  }

  it('applies a mixed workload of every family in concurrent batches, equal to a single Redis applying it in order', async () => {
    const { rig, cluster, singleClient } = redis;
    const { w, events, prefix, store } = mixed(11, 17, 300);
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
    const tencent = withUnknown.map((account) => ({ app: w.tencentApp, account }));
    expect(await new AccountTotalsReader(store).readMany(tencent, Date.now(), true)).toEqual(await new AccountTotalsReader(reference).readMany(tencent, Date.now(), true));
    // the one totals reader (summary, batch API, change feed) and its count-only mention read: one call per channel on a Cluster
    const qchat = w.accounts.map((account) => ({ app: w.neteaseApp, account }));
    const now = Date.now();
    const totals = await new AccountTotalsReader(store).read(qchat, now);
    expect(totals).toEqual(await new AccountTotalsReader(reference).read(qchat, now));
    expect(await new AccountTotalsReader(store).readMany(qchat, now)).toEqual(await new AccountTotalsReader(reference).readMany(qchat, now));
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
    const { rig, cluster, singleClient } = redis;
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
    const { rig, cluster, singleClient } = redis;
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
    const { rig, cluster, singleClient } = redis;
    const { events, prefix, store } = mixed(12, 18, 200);
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
    const { rig, cluster, singleClient } = redis;
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
    const { rig, cluster, singleClient } = redis;
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

/**
 * Groups of every type beside a workload's two: each account in most of them, some left,
 * two dismissed, some without any message (unread-free), messages with recalls and
 * noUnread seqs in the others: what get_joined_group_list's Offset, Limit, GroupType and
 * TotalCount have to get right.
 */
function groupHistory(w: Workload, seed: number): Ev[] {
  const rnd = prng(seed);
  const t = w.tencentApp;
  const groups = Array.from({ length: 14 }, (_, k) => ({ id: `@TGS#x${k}${w.tag}`, type: GROUP_TYPES[k % GROUP_TYPES.length]! }));
  const out: Ev[] = [];
  for (const g of groups) out.push({ type: 'group-created', appId: t, groupId: g.id, groupType: g.type, name: `x ${g.type}` });
  for (const [i, account] of w.accounts.entries()) {
    for (const [k, g] of groups.entries()) if ((i + k) % 4 !== 0) out.push({ type: 'group-member-joined', appId: t, groupId: g.id, account, seq: 0 });
  }
  groups.forEach((g, k) => {
    // every third group stays unread-free
    if (k % 3 === 2) return;
    const n = 2 + Math.floor(rnd() * 6);
    for (let seq = 1; seq <= n; seq++) {
      out.push({ type: 'message-sent', scope: 'group', appId: t, msgId: `x${k}-${seq}-${w.tag}`, groupId: g.id, from: w.accounts[seq % w.accounts.length]!, seq, time: Date.now() - 600_000 + seq, ...(rnd() < 0.2 ? { noUnread: true } : {}) });
    }
    if (rnd() < 0.5) out.push({ type: 'message-recalled', scope: 'group', appId: t, groupId: g.id, seq: 1 + Math.floor(rnd() * n) });
    for (const account of w.accounts) if (rnd() < 0.3) out.push({ type: 'read-ack', scope: 'group', appId: t, account, groupId: g.id, readSeq: Math.floor(rnd() * (n + 1)) });
  });
  for (const [i, account] of w.accounts.entries()) {
    for (const [k, g] of groups.entries()) if ((i + k) % 4 === 1 && (i + k) % 3 === 0) out.push({ type: 'group-member-left', appId: t, groupId: g.id, account });
  }
  out.push({ type: 'group-dismissed', appId: t, groupId: groups[3]!.id }, { type: 'group-dismissed', appId: t, groupId: groups[8]!.id });
  return out;
}

/**
 * Every read of the gateway on one Redis and on three masters, the same events applied to
 * each (one by one on the single Redis, in folded batches on the Cluster): the two
 * gateways' wire answers are equal, byte for byte, for the one-to-one total and peers, the
 * group list (whole, paged and by type, with and without unread), the QChat mention page
 * (every page), the summary and the batch API (with unknown accounts). The change feed's
 * records are compared the same way in test/change-feed.e2e-spec.ts.
 */
describe('every read on Redis Cluster answers as on one Redis (the gateway, end to end)', () => {
  const key = `k${uniq()}${uniq()}${uniq()}`;
  const tenants = JSON.stringify({ tencent: [{ ...TENCENT_APP, apiKey: key }], netease: [{ ...NETEASE_APP, apiKey: key }] });
  const gateways: RunningGateway[] = [];
  // declared first, so it runs first: the gateways close before the servers stop
  afterAll(async () => {
    for (const g of gateways) await g.close().catch(() => undefined);
  });
  const redis = clusterBesideOneRedis('cluster-reads');
  jest.setTimeout(120_000);

  it('gives the same answer to every read, on both', async () => {
    const { rig, cluster, single, singleClient } = redis;
    const w = new Workload(21, 8);
    // the workload registers its accounts in the Tencent app only; the QChat reads need them registered there too
    const qchatAccounts: Ev[] = w.accounts.map((account) => ({ type: 'account-registered', appId: w.neteaseApp, account }));
    const events = [...qchatAccounts, ...w.setup(), ...w.traffic(500), ...countsTraffic(w, 23, 300), ...groupHistory(w, 25)];
    const prefix = `g${uniq()}`;
    const store = new ProjectionStore(cluster, new Keyspace(prefix), { mentionRetentionMs: RETENTION_MS });
    for (const b of chunks(events, 50)) await store.applyBatch(b);
    await applyReference(singleClient, prefix, events, RETENTION_MS);
    expect(await rig.snapshot(prefix)).toEqual(await snapshot(singleClient, prefix));

    // the gateways never produce here: a broker nobody listens on
    const env = { REDIS_KEY_PREFIX: prefix, TENANTS_JSON: tenants, TENCENT_RATE_LIMIT: '1000000', QCHAT_RATE_LIMIT: '1000000', SUMMARY_RATE_LIMIT: '1000000' };
    const onSingle = await startGateway(testConfig(['127.0.0.1:9'], single.url, env), { logger: false });
    gateways.push(onSingle);
    const onCluster = await startGateway(testConfig(['127.0.0.1:9'], '', { ...env, ...rig.env() }), { logger: false });
    gateways.push(onCluster);

    type Call = { what: string; path: string; init: () => RequestInit };
    const both = async (c: Call): Promise<string> => {
      const answer = async (g: RunningGateway) => {
        const res = await fetch(`${g.url}${c.path}`, c.init());
        return `${res.status} ${await res.text()}`;
      };
      const [a, b] = [await answer(onSingle), await answer(onCluster)];
      expect({ what: c.what, answer: b }).toEqual({ what: c.what, answer: a });
      return a;
    };
    const tencent = (api: string, body: unknown): Call => {
      const url = new URL(tencentUrl('http://x', api));
      return { what: `${api} ${JSON.stringify(body)}`, path: `${url.pathname}${url.search}`, init: () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) };
    };
    const json = (answer: string) => JSON.parse(answer.slice(answer.indexOf(' ') + 1)) as Record<string, unknown>;
    const accounts = [...w.accounts, 'nobody-at-all'];
    const now = Date.now();
    let nonZero = { c2c: 0, pagedLists: 0, unread: 0, mentions: 0, channels: 0, batch: 0 };

    for (const account of accounts) {
      // get_c2c_unread_msg_num: the total, and per peer (at most 10, an unknown one among them)
      const total = json(await both(tencent('openim/get_c2c_unread_msg_num', { To_Account: account })));
      if (Number(total.AllC2CUnreadMsgNum) > 0) nonZero.c2c++;
      await both(tencent('openim/get_c2c_unread_msg_num', { To_Account: account, Peer_Account: [...w.accounts.filter((a) => a !== account).slice(0, 9), 'nobody-at-all'] }));

      // get_joined_group_list: whole, by type, and every page of 3, with and without unread
      const self = { SelfInfoFilter: ['UnreadMsgNum', 'MsgFlag', 'Role'], GroupBaseInfoFilter: ['Type', 'Name'] };
      await both(tencent('group_open_http_svc/get_joined_group_list', { Member_Account: account }));
      const whole = json(await both(tencent('group_open_http_svc/get_joined_group_list', { Member_Account: account, WithHugeGroups: 1, ResponseFilter: self })));
      for (const g of (whole.GroupIdList as { SelfInfo?: { UnreadMsgNum?: number } }[] | undefined) ?? []) if ((g.SelfInfo?.UnreadMsgNum ?? 0) > 0) nonZero.unread++;
      for (const GroupType of GROUP_TYPES) await both(tencent('group_open_http_svc/get_joined_group_list', { Member_Account: account, GroupType, ResponseFilter: self }));
      for (const filter of [self, undefined]) {
        for (let Offset = 0; ; Offset += 3) {
          const page = json(await both(tencent('group_open_http_svc/get_joined_group_list', { Member_Account: account, Limit: 3, Offset, ResponseFilter: filter })));
          const n = (page.GroupIdList as unknown[] | undefined)?.length ?? 0;
          if (Offset > 0 && n > 0) nonZero.pagedLists++;
          if (n < 3) break;
        }
      }
      await both(tencent('group_open_http_svc/get_joined_group_list', { Member_Account: account, Limit: 2, Offset: 1, GroupType: 'Public', ResponseFilter: self }));

      // queryChannelUnReadMentionedMsgPage: every page of 4, in each channel
      for (const channelId of [...w.channels, '999']) {
        // from a fixed time rather than 0 (= now): the answer's nextTimetag is then the same on both
        for (let timeTag = String(now), pages = 0; pages < 50; pages++) {
          const call: Call = {
            what: `mention page ${account} ${channelId} ${timeTag}`,
            path: '/nimserver/qchat/queryChannelUnReadMentionedMsgPage.action',
            init: () => ({ method: 'POST', headers: qchatHeaders(), body: new URLSearchParams({ accid: account, serverId: w.serverId, channelId, limit: '4', timeTag }).toString() }),
          };
          const page = json(await both(call)) as { data?: { pageInfo: { nextTimetag: number; hasMore: boolean }; msgList: unknown[] } };
          if (page.data?.msgList.length) nonZero.mentions++;
          if (!page.data?.pageInfo.hasMore) break;
          timeTag = String(page.data.pageInfo.nextTimetag);
        }
      }

      // the summary, for both apps
      for (const app of [w.tencentApp, w.neteaseApp]) {
        const s = json(await both({ what: `summary ${app} ${account}`, path: `/v1/apps/${app}/accounts/${encodeURIComponent(account)}/unread?limit=3`, init: () => ({ headers: { Authorization: `Bearer ${key}` } }) }));
        if (Number((s.channels as { total?: number } | undefined)?.total ?? 0) > 0) nonZero.channels++;
      }
    }
    // the batch API, for both apps: every account, repeated ones, unknown ones
    for (const app of [w.tencentApp, w.neteaseApp]) {
      const body = JSON.stringify({ accounts: [...accounts, w.accounts[0], 'nobody-else', 'x'.repeat(300)] });
      const b = json(await both({ what: `batch ${app}`, path: `/v1/apps/${app}/unread`, init: () => ({ method: 'POST', headers: { Authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body }) }));
      nonZero.batch += (b.accounts as { badge: number }[]).filter((a) => a.badge > 0).length;
    }
    // something was compared in every read
    nonZero = Object.fromEntries(Object.entries(nonZero).map(([k, v]) => [k, Math.min(v, 1)])) as typeof nonZero;
    expect(nonZero).toEqual({ c2c: 1, pagedLists: 1, unread: 1, mentions: 1, channels: 1, batch: 1 });
  });
});
