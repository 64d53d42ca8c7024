import type { UnreadEvent } from '@app/contracts';
import type { BenchContext } from './bench-context';
import { row, type BenchRow, type Target } from './bench-result';
import { breakdown, redisWork, type RedisWork } from './redis-work';
import { fetchRetry } from './stats';

/** Sizes of the read fixtures (BenchSizes.reads). */
export interface ReadSizes {
  /** get_joined_group_list: the account's live groups, the groups it left or that were dismissed, the page asked. */
  liveGroups: number;
  goneGroups: number;
  limit: number;
  /** The summary: channels of one server, unread @all mentions in each. */
  channels: number;
  mentionsPerChannel: number;
  /** The batch API: accounts, all in the same groups; and the unknown accounts of the second batch. */
  batchAccounts: number;
  batchGroups: number;
  unknownAccounts: number;
  /** The totals' batch: the one-to-one peers each of its accounts has unread from (against accounts with one). */
  peersPerAccount: number;
  /** Calls measured per row (after one checked call that also warms the path). */
  calls: number;
  /** How long Redis is watched idle before each row's calls (its rate is subtracted). */
  idleMs: number;
}

/** Ids of the read fixtures (apart from the query fixtures and the mixed stream's). */
const R = {
  many: 'r-many',
  few: 'r-few',
  groupSender: 'r-gsender',
  summary: 'r-sum',
  mentionSender: 'r-msender',
  serverId: '700000002',
  batchSender: 'r-bsender',
  group: (k: number) => `@TGS#rm${k}`,
  batchGroup: (k: number) => `@TGS#rb${k}`,
  batchAccount: (i: number) => `r-b${i}`,
  unknown: (i: number) => `r-nobody${i}`,
  peersAccount: (i: number) => `r-c${i}`,
  onePeerAccount: (i: number) => `r-o${i}`,
  peer: (p: number) => `r-cp${p}`,
  channel: (c: number) => String(730_000_000 + c),
};

const e = (x: Record<string, unknown>): UnreadEvent => x as unknown as UnreadEvent;

/** The fixtures in two phases: the directory, then (once it is applied) messages, mentions, leaves and dismissals. */
function fixtures(s: ReadSizes, app: string, qapp: string, now: number): [UnreadEvent[], UnreadEvent[]] {
  const dir: UnreadEvent[] = [];
  const rest: UnreadEvent[] = [];
  const total = s.liveGroups + s.goneGroups;
  for (const account of [R.many, R.few, R.groupSender, R.batchSender]) dir.push(e({ type: 'account-registered', appId: app, account }));
  // the many-groups account: every group, the live ones spread evenly through the ids; of the
  // others, alternately one dismissed and one the account left
  const live = (k: number) => Math.floor(((k + 1) * s.liveGroups) / total) > Math.floor((k * s.liveGroups) / total);
  const liveIds: string[] = [];
  let gone = 0;
  for (let k = 0; k < total; k++) {
    const groupId = R.group(k);
    dir.push(e({ type: 'group-created', appId: app, groupId, groupType: k % 2 ? 'Public' : 'Work', name: `reads ${k}` }));
    dir.push(e({ type: 'group-member-joined', appId: app, groupId, account: R.many, seq: 0 }));
    dir.push(e({ type: 'group-member-joined', appId: app, groupId, account: R.groupSender, seq: 0 }));
    if (live(k)) liveIds.push(groupId);
    else if (gone++ % 2 === 0) rest.push(e({ type: 'group-dismissed', appId: app, groupId }));
    else rest.push(e({ type: 'group-member-left', appId: app, groupId, account: R.many }));
  }
  // the baseline account: only the groups of one page
  for (const groupId of liveIds.slice(0, s.limit)) dir.push(e({ type: 'group-member-joined', appId: app, groupId, account: R.few, seq: 0 }));
  // one unread message in every live group
  for (const groupId of liveIds) rest.push(e({ type: 'message-sent', scope: 'group', appId: app, msgId: `r-${groupId}-1`, groupId, from: R.groupSender, seq: 1, time: now - 60_000 }));

  // the summary account: one server of `channels` channels, `mentionsPerChannel` @all each
  for (const account of [R.summary, R.mentionSender]) {
    dir.push(e({ type: 'account-registered', appId: qapp, account }));
    dir.push(e({ type: 'qchat-server-member-joined', appId: qapp, serverId: R.serverId, account }));
  }
  let msgId = 830_000_000;
  for (let c = 0; c < s.channels; c++) {
    const channelId = R.channel(c);
    dir.push(e({ type: 'qchat-channel-created', appId: qapp, serverId: R.serverId, channelId }));
    for (let i = 0; i < s.mentionsPerChannel; i++) {
      const time = now - 3_600_000 + i * 10;
      rest.push(e({
        type: 'channel-mention',
        appId: qapp,
        serverId: R.serverId,
        channelId,
        message: { msgIdServer: String(++msgId), msgIdClient: `r${msgId}`, fromAccount: R.mentionSender, fromNick: 'sender', fromClientType: 'PC', time, updateTime: time, status: 0, type: 0, body: `hello everyone, message ${i} of channel ${channelId}`, attach: '', ext: '' },
        mentionAll: true,
        mentionAccids: [],
        mentionRoleIds: [],
      }));
    }
  }

  // the batch: accounts all in the same groups; per group two unread messages and one sent with noUnread between them
  for (let i = 0; i < s.batchAccounts; i++) dir.push(e({ type: 'account-registered', appId: app, account: R.batchAccount(i) }));
  for (let k = 0; k < s.batchGroups; k++) {
    const groupId = R.batchGroup(k);
    dir.push(e({ type: 'group-created', appId: app, groupId, groupType: 'Work', name: `batch ${k}` }));
    dir.push(e({ type: 'group-member-joined', appId: app, groupId, account: R.batchSender, seq: 0 }));
    for (let i = 0; i < s.batchAccounts; i++) dir.push(e({ type: 'group-member-joined', appId: app, groupId, account: R.batchAccount(i), seq: 0 }));
    for (const seq of [1, 2, 3]) {
      rest.push(e({ type: 'message-sent', scope: 'group', appId: app, msgId: `r-${groupId}-${seq}`, groupId, from: R.batchSender, seq, time: now - 30_000 + seq, ...(seq === 2 ? { noUnread: true } : {}) }));
    }
  }
  // the totals' batch: accounts with one unread message from each of `peersPerAccount` peers, and as many with one peer
  for (let i = 0; i < s.batchAccounts; i++) {
    for (const [account, peers] of [[R.peersAccount(i), s.peersPerAccount], [R.onePeerAccount(i), 1]] as const) {
      dir.push(e({ type: 'account-registered', appId: app, account }));
      for (let p = 0; p < peers; p++) rest.push(e({ type: 'message-sent', scope: 'c2c', appId: app, msgId: `r-${account}-${p}`, from: R.peer(p), to: account, time: now - 20_000 + p }));
    }
  }
  return [dir, rest];
}

interface Read {
  id: string;
  label: string;
  url: string;
  init: () => RequestInit;
  /** Why the answer is not the fixture's, or undefined when it is. */
  wrong: (status: number, body: string) => string | undefined;
}

/**
 * Redis work of the reads whose cost grows with what they do not return: the group list
 * of an account with a long history, the summary of an account in many channels, the
 * batch API over shared groups and over unknown accounts. Each read's answer is checked
 * against what its fixture must give, then `calls` calls are measured one after the other
 * through the gateway (redis-work.ts: commands executed, Lua-internal included, Redis CPU
 * and bytes sent, from INFO, less what Redis does idle).
 */
export async function measureReads(ctx: BenchContext): Promise<BenchRow[]> {
  const { env } = ctx;
  const s = ctx.sizes.reads;
  const started = Date.now();
  const app = ctx.world.tencentApp;
  const qapp = ctx.world.qchatApp;
  const live = await ctx.liveProjector();
  const [dir, rest] = fixtures(s, app, qapp, Date.now());
  env.log(`reads: ${dir.length + rest.length} fixture events`);
  for (const events of [dir, rest]) {
    await env.produce('live', events, { chunk: 5_000, groupId: live.groupId, maxLag: 40_000 });
    await ctx.caughtUp();
  }
  const gw = await ctx.liveGateway();
  const json = { 'content-type': 'application/json' };
  const post = (body: unknown, headers: Record<string, string>) => () => ({ method: 'POST', body: JSON.stringify(body), headers });
  const groupList = (account: string) => ({ Member_Account: account, Limit: s.limit, ResponseFilter: { SelfInfoFilter: ['UnreadMsgNum'] } });
  const pageOk = (groups: number) => (status: number, text: string) => {
    const b = JSON.parse(text) as { ActionStatus?: string; TotalCount?: number; GroupIdList?: { SelfInfo?: { UnreadMsgNum?: number } }[] };
    const unread = b.GroupIdList?.map((g) => g.SelfInfo?.UnreadMsgNum);
    return status === 200 && b.ActionStatus === 'OK' && b.TotalCount === groups && unread?.length === Math.min(s.limit, groups) && unread.every((n) => n === 1)
      ? undefined
      : `expected TotalCount ${groups} and ${Math.min(s.limit, groups)} groups of 1 unread: HTTP ${status} ${text.slice(0, 160)}`;
  };
  const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
  const batchAccounts = Array.from({ length: s.batchAccounts }, (_, i) => R.batchAccount(i));
  const unknown = Array.from({ length: s.unknownAccounts }, (_, i) => R.unknown(i));
  const perChannel = Math.min(200, s.mentionsPerChannel);
  const c2cBatch = (accounts: string[], each: number) => ({
    url: `${gw.url}/v1/apps/${app}/unread`,
    init: post({ accounts }, { ...json, ...bearer(env.tencent.apiKey) }),
    wrong: (status: number, text: string) => {
      const b = JSON.parse(text) as { accounts?: { c2c: number; badge: number }[] };
      return status === 200 && b.accounts?.length === accounts.length && b.accounts.every((a) => a.c2c === each && a.badge === each) ? undefined : `expected ${accounts.length} accounts of ${each} one-to-one unread: HTTP ${status} ${text.slice(0, 160)}`;
    },
  });
  const reads: Read[] = [
    { id: 'group-list-many', label: `get_joined_group_list, Limit ${s.limit}, UnreadMsgNum, an account in ${s.liveGroups + s.goneGroups} groups (${s.liveGroups} live, ${s.goneGroups} left or dismissed)`, url: env.tencentUrl(gw.url, 'group_open_http_svc/get_joined_group_list'), init: post(groupList(R.many), json), wrong: pageOk(s.liveGroups) },
    { id: 'group-list-few', label: `get_joined_group_list, Limit ${s.limit}, an account in only the ${s.limit} groups returned`, url: env.tencentUrl(gw.url, 'group_open_http_svc/get_joined_group_list'), init: post(groupList(R.few), json), wrong: pageOk(s.limit) },
    {
      id: 'summary-channels',
      label: `account summary, ${s.channels} channels × ${s.mentionsPerChannel} unread @all`,
      url: `${gw.url}/v1/apps/${qapp}/accounts/${R.summary}/unread`,
      init: () => ({ headers: bearer(env.netease.apiKey) }),
      wrong: (status, text) => {
        const b = JSON.parse(text) as { channels?: { total?: number; items?: unknown[] } };
        return status === 200 && b.channels?.total === s.channels * perChannel ? undefined : `expected channels.total ${s.channels * perChannel}: HTTP ${status} ${text.slice(0, 160)}`;
      },
    },
    {
      id: 'batch-groups',
      label: `batch badge API, ${s.batchAccounts} accounts × ${s.batchGroups} shared groups, each with one seq that does not count`,
      url: `${gw.url}/v1/apps/${app}/unread`,
      init: post({ accounts: batchAccounts }, { ...json, ...bearer(env.tencent.apiKey) }),
      wrong: (status, text) => {
        const b = JSON.parse(text) as { accounts?: { groups: number; badge: number }[]; notFound?: string[] };
        const ok = status === 200 && b.accounts?.length === s.batchAccounts && b.notFound?.length === 0 && b.accounts.every((a) => a.groups === 2 * s.batchGroups && a.badge === 2 * s.batchGroups);
        return ok ? undefined : `expected ${s.batchAccounts} accounts of ${2 * s.batchGroups} group unread: HTTP ${status} ${text.slice(0, 160)}`;
      },
    },
    {
      id: 'batch-unknown',
      label: `batch API, ${s.unknownAccounts} unknown accounts`,
      url: `${gw.url}/v1/apps/${app}/unread`,
      init: post({ accounts: unknown }, { ...json, ...bearer(env.tencent.apiKey) }),
      wrong: (status, text) => {
        const b = JSON.parse(text) as { accounts?: unknown[]; notFound?: string[] };
        return status === 200 && b.accounts?.length === 0 && b.notFound?.length === s.unknownAccounts ? undefined : `expected ${s.unknownAccounts} notFound: HTTP ${status} ${text.slice(0, 160)}`;
      },
    },
    {
      id: 'batch-peers',
      label: `batch API, ${s.batchAccounts} accounts × ${s.peersPerAccount} one-to-one peers with unread`,
      ...c2cBatch(Array.from({ length: s.batchAccounts }, (_, i) => R.peersAccount(i)), s.peersPerAccount),
    },
    {
      id: 'batch-one-peer',
      label: `batch API, ${s.batchAccounts} accounts × 1 peer with unread`,
      ...c2cBatch(Array.from({ length: s.batchAccounts }, (_, i) => R.onePeerAccount(i)), 1),
    },
  ];
  const work: Record<string, { work: RedisWork; label: string; responseBytes: number }> = {};
  for (const r of reads) {
    const res = await fetchRetry(r.url, r.init());
    const text = await res.text();
    const why = r.wrong(res.status, text);
    if (why) throw new Error(`${r.label}: ${why}`);
    env.log(`reads: ${r.label}`);
    const w = await redisWork(env.redis, s.calls, async () => {
      const x = await fetch(r.url, r.init());
      const body = await x.text();
      if (x.status !== 200) throw new Error(`${r.label}: HTTP ${x.status} ${body.slice(0, 160)}`);
    }, s.idleMs);
    work[r.id] = { work: w, label: r.label, responseBytes: Buffer.byteLength(text) };
  }
  ctx.phases.readsSeconds = (Date.now() - started) / 1000;

  const of = (id: string) => work[id]!;
  const le = (limit: number): Target => ({ on: 'value', op: '<=', limit });
  const details = (id: string) => ({ ...of(id).work, responseBytes: of(id).responseBytes });
  /** The two readings each read gets a row of: its commands and its Redis CPU, per call. */
  const READINGS = {
    commands: {
      suffix: 'redis-commands',
      what: 'Redis commands per call (INFO commandstats)',
      unit: 'commands',
      value: (w: RedisWork) => w.commands,
      note: (id: string) => `executed, Lua-internal included: ${breakdown(of(id).work.byCommand)}`,
      details: (id: string) => details(id),
    },
    cpu: {
      suffix: 'redis-cpu',
      what: 'Redis CPU per call (INFO cpu)',
      unit: 'ms',
      value: (w: RedisWork) => w.cpuMs,
      note: (id: string) => `${Math.round(of(id).work.bytesOut)} B from Redis per call`,
      details: () => undefined,
    },
  } as const;
  const readingRow = (reading: keyof typeof READINGS, id: string, target: Target | null, baseline?: { id: string; label: string }) => {
    const r = READINGS[reading];
    const d = r.details(id);
    return row({
      id: `reads.${id}.${r.suffix}`,
      group: 'reads',
      measurement: `${of(id).label}: ${r.what}`,
      value: r.value(of(id).work),
      unit: r.unit,
      baseline: baseline ? r.value(of(baseline.id).work) : null,
      baselineLabel: baseline?.label ?? '—',
      target,
      note: r.note(id),
      ...(d ? { details: d } : {}),
    });
  };
  const few = { id: 'group-list-few', label: `the same call for an account in only the ${s.limit} groups it returns` };
  return [
    readingRow('commands', 'group-list-many', le(2 * s.limit + 5), few),
    readingRow('cpu', 'group-list-many', null, few),
    readingRow('commands', 'summary-channels', null),
    readingRow('cpu', 'summary-channels', le(5)),
    row({
      id: 'reads.summary-channels.bytes',
      group: 'reads',
      measurement: `${of('summary-channels').label}: bytes from Redis per call (INFO stats)`,
      value: Math.round(of('summary-channels').work.bytesOut / 102.4) / 10,
      unit: 'KB',
      baseline: null,
      baselineLabel: '—',
      target: le(64),
      note: `the answer itself: ${of('summary-channels').responseBytes} B`,
    }),
    readingRow('commands', 'batch-groups', le(700)),
    readingRow('cpu', 'batch-groups', null),
    readingRow('commands', 'batch-unknown', le(1.5 * s.unknownAccounts + 5)),
    readingRow('cpu', 'batch-unknown', null),
    // the totals (the batch API's and the change feed's reader) fetch no peer's count: the same bytes and CPU whatever the peers
    row({
      id: 'reads.batch-peers.bytes',
      group: 'reads',
      measurement: `${of('batch-peers').label}: bytes from Redis per call (INFO stats)`,
      value: Math.round(of('batch-peers').work.bytesOut),
      unit: 'B',
      baseline: Math.round(of('batch-one-peer').work.bytesOut),
      baselineLabel: `the same call for ${s.batchAccounts} accounts with one peer each`,
      target: { on: 'ratio', op: '<=', limit: 1.2 },
      note: `the answer itself: ${of('batch-peers').responseBytes} B`,
      details: details('batch-peers'),
    }),
    readingRow('cpu', 'batch-peers', null, { id: 'batch-one-peer', label: `the same call for ${s.batchAccounts} accounts with one peer each` }),
  ];
}
