import { drained } from './support/drain';
import { Harness, NETEASE_APP, TENCENT_APP } from './support/harness';
import { tencentPost } from './support/tencent';

/**
 * Through the broker and the projector: recalled messages (c2c and group, before
 * and after their read acks, before their message), messages that do not count, receive
 * options (badge without muted conversations, vendor counts with them, SelfInfo.MsgFlag),
 * and the batch API. Every answer is the exact wire answer. Each test registers its own
 * accounts and groups (names under its own tag) and reads only those.
 */
const APP = TENCENT_APP.sdkAppId;
const KEY = 'summary-key-of-the-tencent-app-0017';
const UNREAD = 'openim/get_c2c_unread_msg_num';
const LIST = 'group_open_http_svc/get_joined_group_list';
const T0 = Date.now() - 60_000;

jest.setTimeout(180_000);

describe('recall, noUnread, receive options, badge and the batch API', () => {
  let h: Harness;
  const post = (api: string, body: unknown) => tencentPost(h.gateway!.url, api, body);
  const ok = (fields: Record<string, unknown> = {}) => ({ status: 200, body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...fields } });
  const msg = (from: string, to: string, msgId: string, dt: number, extra: Record<string, unknown> = {}) => ({ type: 'message-sent', scope: 'c2c', appId: APP, msgId, from, to, time: T0 + dt, ...extra });
  const recall = (from: string, to: string, msgId: string, dt: number) => ({ type: 'message-recalled', scope: 'c2c', appId: APP, msgId, from, to, time: T0 + dt });
  const ack = (account: string, peer: string, dt: number) => ({ type: 'read-ack', scope: 'c2c', appId: APP, account, peer, readTime: T0 + dt });
  const gmsg = (groupId: string, seq: number, extra: Record<string, unknown> = {}) => ({ type: 'message-sent', scope: 'group', appId: APP, msgId: `${groupId}-${seq}`, groupId, from: 'dave', seq, time: T0 + seq, ...extra });
  const grecall = (groupId: string, seq: number) => ({ type: 'message-recalled', scope: 'group', appId: APP, groupId, seq });
  const gack = (account: string, groupId: string, readSeq: number) => ({ type: 'read-ack', scope: 'group', appId: APP, account, groupId, readSeq });
  const option = (account: string, target: { peer: string } | { groupId: string }, value: string, time: number) => ({
    type: 'receive-option-set',
    scope: 'peer' in target ? 'c2c' : 'group',
    appId: APP,
    account,
    ...target,
    option: value,
    time,
  });
  const perPeer = (owner: string, peers: string[]) => post(UNREAD, { To_Account: owner, Peer_Account: peers });
  const groupsOf = async (account: string) => (await post(LIST, { Member_Account: account, ResponseFilter: { SelfInfoFilter: ['UnreadMsgNum'] } })).body.GroupIdList as unknown[];
  async function api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${h.gateway!.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${KEY}` },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  /**
   * Registers a test's accounts and creates its groups (each `[id, type, members]`), all named
   * `<tag>-<name>`; answers the name mapper.
   */
  async function own(tag: string, accounts: string[], groups: [string, string, string[]][] = []): Promise<(name: string) => string> {
    const n = (name: string) => `${tag}-${name}`;
    await h.send(
      ...accounts.map((account) => ({ type: 'account-registered', appId: APP, account: n(account) })),
      ...groups.map(([groupId, groupType]) => ({ type: 'group-created', appId: APP, groupId: n(groupId), groupType })),
      ...groups.flatMap(([groupId, , members]) => members.map((account) => ({ type: 'group-member-joined', appId: APP, groupId: n(groupId), account: n(account), seq: 0 }))),
    );
    await drained(h);
    return n;
  }

  beforeAll(async () => {
    h = await Harness.start({
      env: { TENANTS_JSON: JSON.stringify({ tencent: [{ ...TENCENT_APP, apiKey: KEY }], netease: [NETEASE_APP] }) },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('c2c: a recall before its read ack stops counting; one after it changes nothing', async () => {
    const n = await own('recall', ['alice', 'bob', 'carol']);
    const [alice, bob, carol] = [n('alice'), n('bob'), n('carol')];
    await h.send(msg(bob, alice, 'b1', 1), msg(bob, alice, 'b2', 2), msg(bob, alice, 'b3', 3), msg(carol, alice, 'c1', 1), msg(carol, alice, 'c2', 2));
    await drained(h);
    expect(await perPeer(alice, [bob, carol])).toEqual(ok({ C2CUnreadMsgNumList: [{ Peer_Account: bob, C2CUnreadMsgNum: 3 }, { Peer_Account: carol, C2CUnreadMsgNum: 2 }] }));
    // b2 recalled before any ack; carol read up to c2, then c1 is recalled
    await h.send(recall(bob, alice, 'b2', 2), ack(alice, carol, 2));
    await drained(h);
    await h.send(recall(carol, alice, 'c1', 1), recall(bob, alice, 'b2', 2)); // the second is a repeat
    await drained(h);
    expect(await perPeer(alice, [bob, carol])).toEqual(ok({ C2CUnreadMsgNumList: [{ Peer_Account: bob, C2CUnreadMsgNum: 2 }, { Peer_Account: carol, C2CUnreadMsgNum: 0 }] }));
    expect(await post(UNREAD, { To_Account: alice })).toEqual(ok({ AllC2CUnreadMsgNum: 2 }));
    // reading bob afterwards removes exactly the two still counted (never below zero)
    await h.send(ack(alice, bob, 3));
    await drained(h);
    expect(await post(UNREAD, { To_Account: alice })).toEqual(ok({ AllC2CUnreadMsgNum: 0 }));
  });

  it('c2c: a recall that arrives before its message means the message never counts, also when redelivered', async () => {
    const n = await own('early-recall', ['alice', 'erin']);
    const [alice, erin] = [n('alice'), n('erin')];
    await h.send(recall(erin, alice, 'e1', 10));
    await drained(h);
    await h.send(msg(erin, alice, 'e1', 10), msg(erin, alice, 'e2', 11));
    await drained(h);
    await h.send(msg(erin, alice, 'e1', 10)); // redelivery after the recall
    await drained(h);
    expect(await perPeer(alice, [erin])).toEqual(ok({ C2CUnreadMsgNumList: [{ Peer_Account: erin, C2CUnreadMsgNum: 1 }] }));
  });

  it('c2c: a noUnread message is delivered and counted for nobody', async () => {
    const n = await own('no-unread', ['alice', 'news']);
    const [alice, news] = [n('alice'), n('news')];
    await h.send(msg(news, alice, 'n1', 20, { noUnread: true }), msg(news, alice, 'n2', 21, { noUnread: false }), msg(news, alice, 'n3', 22, { noUnread: true }));
    await drained(h);
    expect(await perPeer(alice, [news])).toEqual(ok({ C2CUnreadMsgNumList: [{ Peer_Account: news, C2CUnreadMsgNum: 1 }] }));
  });

  it('group: a recall stops counting for members on both sides of their read position; before its message too; noUnread never counts', async () => {
    const n = await own('group-recall', ['alice', 'bob'], [['g1', 'Work', ['alice', 'bob']], ['g2', 'Public', ['alice']]]);
    const [alice, bob, g1, g2] = [n('alice'), n('bob'), n('g1'), n('g2')];
    await h.send(...[1, 2, 3, 4, 5].map((s) => gmsg(g1, s)), gack(alice, g1, 3));
    await drained(h);
    expect(await groupsOf(alice)).toEqual([{ GroupId: g1, SelfInfo: { UnreadMsgNum: 2 } }, { GroupId: g2, SelfInfo: { UnreadMsgNum: 0 } }]);
    expect(await groupsOf(bob)).toEqual([{ GroupId: g1, SelfInfo: { UnreadMsgNum: 5 } }]);
    // seq 2: alice read past it (unchanged), bob did not (one less); seq 5: unread for both
    await h.send(grecall(g1, 2), grecall(g1, 5), grecall(g1, 2));
    await drained(h);
    expect(await groupsOf(alice)).toEqual([{ GroupId: g1, SelfInfo: { UnreadMsgNum: 1 } }, { GroupId: g2, SelfInfo: { UnreadMsgNum: 0 } }]);
    expect(await groupsOf(bob)).toEqual([{ GroupId: g1, SelfInfo: { UnreadMsgNum: 3 } }]);
    // seq 7 recalled before seqs 6 and 7 arrive; seq 8 sent with noUnread
    await h.send(grecall(g1, 7));
    await drained(h);
    await h.send(gmsg(g1, 6), gmsg(g1, 7), gmsg(g1, 8, { noUnread: true }), gmsg(g1, 7));
    await drained(h);
    expect(await groupsOf(alice)).toEqual([{ GroupId: g1, SelfInfo: { UnreadMsgNum: 2 } }, { GroupId: g2, SelfInfo: { UnreadMsgNum: 0 } }]);
    expect(await groupsOf(bob)).toEqual([{ GroupId: g1, SelfInfo: { UnreadMsgNum: 4 } }]);
    // bob reads up to 8: nothing left, and nothing negative
    await h.send(gack(bob, g1, 8));
    await drained(h);
    expect(await groupsOf(bob)).toEqual([{ GroupId: g1, SelfInfo: { UnreadMsgNum: 0 } }]);
  });

  it('receive options: the badge leaves muted conversations out, vendor counts keep them, MsgFlag answers the latest option', async () => {
    const n = await own('options', ['alice', 'dave', 'erin', 'news'], [['g1', 'Work', ['alice']], ['g2', 'Public', ['alice']]]);
    const [alice, dave, erin, news, g1, g2] = [n('alice'), n('dave'), n('erin'), n('news'), n('g1'), n('g2')];
    // alice: dave 2 unread (muted, latest option wins over an earlier and a stale one), erin 1, news 1, g1 2, g2 3 (Discard)
    await h.send(msg(dave, alice, 'd1', 30), msg(dave, alice, 'd2', 31), msg(erin, alice, 'e2', 11), msg(news, alice, 'n2', 21), ...[1, 2].map((s) => gmsg(g1, s)), ...[1, 2, 3].map((s) => gmsg(g2, s)));
    await h.send(
      option(alice, { groupId: g2 }, 'AcceptAndNotify', 200),
      option(alice, { groupId: g2 }, 'Discard', 300),
      option(alice, { groupId: g2 }, 'AcceptAndNotify', 100),
      option(alice, { peer: dave }, 'AcceptNotNotify', 50),
      option(alice, { peer: erin }, 'Discard', 10),
      option(alice, { peer: erin }, 'AcceptAndNotify', 11),
    );
    await drained(h);
    expect(await post(UNREAD, { To_Account: alice, Peer_Account: [dave, erin] })).toEqual(
      ok({ C2CUnreadMsgNumList: [{ Peer_Account: dave, C2CUnreadMsgNum: 2 }, { Peer_Account: erin, C2CUnreadMsgNum: 1 }] }),
    );
    expect(await post(UNREAD, { To_Account: alice })).toEqual(ok({ AllC2CUnreadMsgNum: 4 }));
    expect(await post(LIST, { Member_Account: alice, ResponseFilter: { SelfInfoFilter: ['MsgFlag', 'UnreadMsgNum'] } })).toEqual(
      ok({
        TotalCount: 2,
        GroupIdList: [
          { GroupId: g1, SelfInfo: { MsgFlag: 'AcceptAndNotify', UnreadMsgNum: 2 } },
          { GroupId: g2, SelfInfo: { MsgFlag: 'Discard', UnreadMsgNum: 3 } },
        ],
      }),
    );
    expect(await post(LIST, { Member_Account: alice, ResponseFilter: { SelfInfoFilter: ['MsgFlag'] } })).toEqual(
      ok({ TotalCount: 2, GroupIdList: [{ GroupId: g1, SelfInfo: { MsgFlag: 'AcceptAndNotify' } }, { GroupId: g2, SelfInfo: { MsgFlag: 'Discard' } }] }),
    );
    expect(await api('GET', `/v1/apps/${APP}/accounts/${alice}/unread`)).toEqual({
      status: 200,
      body: {
        appId: APP,
        account: alice,
        c2c: { total: 4, conversations: [{ peer: dave, unread: 2 }, { peer: erin, unread: 1 }, { peer: news, unread: 1 }] },
        groups: { total: 5, items: [{ groupId: g2, unread: 3 }, { groupId: g1, unread: 2 }] },
        channels: { total: 0, items: [] },
        badge: 4, // erin 1 + news 1 + g1 2 (dave and g2 are muted)
      },
    });
  });

  it('batch: totals and badge per registered account, unknown accounts apart', async () => {
    const n = await own('batch', ['alice', 'bob', 'carol', 'dave', 'erin'], [['g1', 'Public', ['alice', 'bob']], ['g2', 'Work', ['alice']]]);
    const [alice, bob, carol, dave, erin, g1, g2] = [n('alice'), n('bob'), n('carol'), n('dave'), n('erin'), n('g1'), n('g2')];
    // alice: dave 2 (muted), erin 2, g1 2, g2 3 (muted); bob read g1; carol has nothing
    await h.send(msg(dave, alice, 'd1', 1), msg(dave, alice, 'd2', 2), msg(erin, alice, 'e1', 1), msg(erin, alice, 'e2', 2), ...[1, 2].map((s) => gmsg(g1, s)), ...[1, 2, 3].map((s) => gmsg(g2, s)));
    await h.send(option(alice, { peer: dave }, 'AcceptNotNotify', 10), option(alice, { groupId: g2 }, 'Discard', 10), gack(bob, g1, 2));
    await drained(h);
    expect(await api('POST', `/v1/apps/${APP}/unread`, { accounts: [alice, bob, n('nobody'), alice, carol, 'bad\u0001id'] })).toEqual({
      status: 200,
      body: {
        appId: APP,
        accounts: [
          { account: alice, c2c: 4, groups: 5, channels: 0, badge: 4 },
          { account: bob, c2c: 0, groups: 0, channels: 0, badge: 0 },
          { account: carol, c2c: 0, groups: 0, channels: 0, badge: 0 },
        ],
        notFound: [n('nobody'), 'bad\u0001id'],
      },
    });
    const bad = { status: 400, body: { statusCode: 400, message: 'the body must be a JSON object {"accounts": [...]} with 1 to 100 account ids (strings)' } };
    for (const body of ['{', '[]', '{}', { accounts: [] }, { accounts: 'alice' }, { accounts: ['alice', 7] }, { accounts: Array.from({ length: 101 }, (_, i) => `a${i}`) }]) {
      expect(await api('POST', `/v1/apps/${APP}/unread`, body)).toEqual(bad);
    }
    const res = await fetch(`${h.gateway!.url}/v1/apps/${APP}/unread`, { method: 'POST', body: JSON.stringify({ accounts: ['alice'] }) });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 401, body: { statusCode: 401, message: 'missing bearer token' } });
  });

  /** Calls per command since the last reset (INFO commandstats counts the commands scripts run too). */
  async function commandCalls(): Promise<Map<string, number>> {
    const info = await h.redis.info('commandstats');
    const calls = new Map<string, number>();
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
    return calls;
  }
  const sum = (calls: Map<string, number>, skip: readonly string[]) => [...calls].reduce((n, [c, k]) => (skip.includes(c) ? n : n + k), 0);

  it('batch: unknown accounts cost one read each, before any other; members at one read seq share one count of the seqs that do not count', async () => {
    const unknown = Array.from({ length: 100 }, (_, i) => `nobody-${i}`);
    await h.redis.config('RESETSTAT');
    expect(await api('POST', `/v1/apps/${APP}/unread`, { accounts: unknown })).toEqual({ status: 200, body: { appId: APP, accounts: [], notFound: unknown } });
    const calls = await commandCalls();
    // what this test's own client sent (CONFIG, INFO) and whatever idle polling others do apart
    expect(sum(calls, ['config', 'info', 'xreadgroup', 'get', 'ping'])).toBeLessThanOrEqual(1.5 * unknown.length + 5);
    expect(calls.get('zrangebyscore') ?? 0).toBe(0);

    // 12 members of 4 groups, each group with recalled seqs; all members read to the same seq
    const members = Array.from({ length: 12 }, (_, i) => `shared-${i}`);
    const groups = ['sg1', 'sg2', 'sg3', 'sg4'];
    await h.send(
      ...members.map((account) => ({ type: 'account-registered', appId: APP, account })),
      ...groups.map((groupId) => ({ type: 'group-created', appId: APP, groupId, groupType: 'Public' })),
      ...groups.flatMap((groupId) => members.map((account) => ({ type: 'group-member-joined', appId: APP, groupId, account, seq: 0 }))),
    );
    await h.send(...groups.flatMap((g) => [gmsg(g, 1), gmsg(g, 2), gmsg(g, 3), grecall(g, 2)]));
    await drained(h);
    await h.redis.config('RESETSTAT');
    expect(await api('POST', `/v1/apps/${APP}/unread`, { accounts: members })).toEqual({
      status: 200,
      body: { appId: APP, accounts: members.map((account) => ({ account, c2c: 0, groups: 8, channels: 0, badge: 8 })), notFound: [] },
    });
    expect((await commandCalls()).get('zcount')).toBe(groups.length);
  });

  it("set_unread_msg_num: recalled and noUnread seqs are positions for the clamp, never unread", async () => {
    const n = await own('set-unread', ['alice'], [['g1', 'Public', ['alice']]]);
    const [alice, g1] = [n('alice'), n('g1')];
    // g1: max 8, seqs 2, 5, 7, 8 do not count (2, 5, 7 recalled, 8 sent with noUnread).
    await h.send(...[1, 2, 3, 4, 5, 6, 7].map((s) => gmsg(g1, s)), gmsg(g1, 8, { noUnread: true }), grecall(g1, 2), grecall(g1, 5), grecall(g1, 7));
    await drained(h);
    expect(await groupsOf(alice)).toEqual([{ GroupId: g1, SelfInfo: { UnreadMsgNum: 4 } }]);
    // N = 3 → read seq 5: of 6, 7, 8 only 6 counts.
    expect(await post('group_open_http_svc/set_unread_msg_num', { GroupId: g1, Member_Account: alice, UnreadMsgNum: 3 })).toEqual(ok());
    await drained(h);
    expect(await groupsOf(alice)).toEqual([{ GroupId: g1, SelfInfo: { UnreadMsgNum: 1 } }]);
    // N above the message count clamps to read seq 0: 8 seqs, 4 of them do not count
    expect(await post('group_open_http_svc/set_unread_msg_num', { GroupId: g1, Member_Account: alice, UnreadMsgNum: 100 })).toEqual(ok());
    await drained(h);
    expect(await groupsOf(alice)).toEqual([{ GroupId: g1, SelfInfo: { UnreadMsgNum: 4 } }]);
  });
});
