import { ACCOUNT_FIELD, Keyspace } from '@app/store';
import { drained } from './support/drain';
import { Harness, TENCENT_APP, uniq } from './support/harness';
import { scanAll } from './support/snapshot';
import { tencentPost } from './support/tencent';

const APP = TENCENT_APP.sdkAppId;
const UNREAD = 'openim/get_c2c_unread_msg_num';
const SET_READ = 'openim/admin_set_msg_read';

jest.setTimeout(120_000);

describe('c2c unread: get_c2c_unread_msg_num and admin_set_msg_read', () => {
  let h: Harness;
  let keys: Keyspace;
  const post = (api: string, body: unknown) => tencentPost(h.gateway!.url, api, body);
  const ok = (fields: Record<string, unknown> = {}) => ({ status: 200, body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...fields } });
  const fail = (code: number) => ({ status: 200, body: { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: expect.any(String) } });
  const msg = (from: string, to: string, msgId: string, time: number) => ({ type: 'message-sent', scope: 'c2c', appId: APP, msgId, from, to, time });
  const ack = (account: string, peer: string, readTime: number) => ({ type: 'read-ack', scope: 'c2c', appId: APP, account, peer, readTime });
  const register = (...accounts: string[]) => accounts.map((account) => ({ type: 'account-registered', appId: APP, account }));
  /** Fresh account names for one test. */
  const names = (...n: string[]) => {
    const id = uniq();
    return n.map((x) => `${x}-${id}`);
  };
  const total = async (owner: string) => (await post(UNREAD, { To_Account: owner })).body.AllC2CUnreadMsgNum;
  const perPeer = async (owner: string, peers: string[]) => (await post(UNREAD, { To_Account: owner, Peer_Account: peers })).body;

  beforeAll(async () => {
    h = await Harness.start();
    keys = new Keyspace(h.config.redis.keyPrefix);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers the total and per-peer counts in the vendor shape', async () => {
    const [owner, p1, p2] = names('owner', 'p1', 'p2') as [string, string, string];
    await h.send(...register(owner, p1, p2), msg(p1, owner, 'a', 1000), msg(p1, owner, 'b', 2000), msg(p2, owner, 'c', 1500));
    await drained(h);
    expect(await post(UNREAD, { To_Account: owner })).toEqual(ok({ AllC2CUnreadMsgNum: 3 }));
    expect(await post(UNREAD, { To_Account: owner, Peer_Account: [p2, p1] })).toEqual(
      ok({ C2CUnreadMsgNumList: [{ Peer_Account: p2, C2CUnreadMsgNum: 1 }, { Peer_Account: p1, C2CUnreadMsgNum: 2 }] }),
    );
  });

  it('counts a duplicate message-sent once, within a batch and when redelivered later', async () => {
    const [owner, p] = names('owner', 'p') as [string, string];
    await h.send(...register(owner, p), msg(p, owner, 'm1', 1000), msg(p, owner, 'm1', 1000), msg(p, owner, 'm2', 2000));
    await drained(h);
    await h.send(msg(p, owner, 'm1', 1000), msg(p, owner, 'm2', 2000));
    await drained(h);
    expect(await total(owner)).toBe(2);
    expect(await perPeer(owner, [p])).toEqual(ok({ C2CUnreadMsgNumList: [{ Peer_Account: p, C2CUnreadMsgNum: 2 }] }).body);
  });

  it('never counts messages the owner sent, nor a message to oneself', async () => {
    const [owner, p] = names('owner', 'p') as [string, string];
    await h.send(...register(owner, p), msg(owner, p, 'x1', 1000), msg(owner, p, 'x2', 1001), msg(owner, owner, 'self', 1002));
    await drained(h);
    expect(await total(owner)).toBe(0);
    expect(await perPeer(owner, [p, owner])).toEqual(
      ok({ C2CUnreadMsgNumList: [{ Peer_Account: p, C2CUnreadMsgNum: 0 }, { Peer_Account: owner, C2CUnreadMsgNum: 0 }] }).body,
    );
    expect(await total(p)).toBe(2);
  });

  it('a read ack that arrives before the messages still covers them (at or before its time)', async () => {
    const [owner, p] = names('owner', 'p') as [string, string];
    await h.send(...register(owner, p), ack(owner, p, 2000));
    await drained(h);
    await h.send(msg(p, owner, 'early', 1000), msg(p, owner, 'at', 2000), msg(p, owner, 'late', 2001));
    await drained(h);
    expect(await total(owner)).toBe(1);
  });

  it('gives the same counts when acks and messages race across topics in one batch', async () => {
    const [owner, p, q] = names('owner', 'p', 'q') as [string, string, string];
    await h.send(...register(owner, p, q));
    await h.send(
      msg(p, owner, 'p1', 1000),
      ack(owner, p, 2500),
      msg(p, owner, 'p2', 2000),
      msg(q, owner, 'q1', 1000),
      ack(owner, p, 1500),
      msg(p, owner, 'p3', 3000),
      ack(owner, q, 500),
      msg(p, owner, 'p2', 2000),
    );
    await drained(h);
    expect(await perPeer(owner, [p, q])).toEqual(
      ok({ C2CUnreadMsgNumList: [{ Peer_Account: p, C2CUnreadMsgNum: 1 }, { Peer_Account: q, C2CUnreadMsgNum: 1 }] }).body,
    );
    expect(await total(owner)).toBe(2);
  });

  it('an ack to a mid point removes exactly the earlier messages; stale acks change nothing; counts never go negative', async () => {
    const [owner, p, q] = names('owner', 'p', 'q') as [string, string, string];
    await h.send(...register(owner, p, q), ...[1000, 2000, 3000, 4000].map((t) => msg(p, owner, `p${t}`, t)), msg(q, owner, 'q1', 1000));
    await drained(h);
    await h.send(ack(owner, p, 2500));
    await drained(h);
    expect(await perPeer(owner, [p, q])).toEqual(
      ok({ C2CUnreadMsgNumList: [{ Peer_Account: p, C2CUnreadMsgNum: 2 }, { Peer_Account: q, C2CUnreadMsgNum: 1 }] }).body,
    );
    await h.send(ack(owner, p, 1500), ack(owner, p, 2500));
    await drained(h);
    expect(await total(owner)).toBe(3);
    await h.send(ack(owner, p, 9000), ack(owner, p, 9000), ack(owner, q, 9000), ack(owner, q, 9999));
    await drained(h);
    expect(await total(owner)).toBe(0);
    // nothing left in the counts hash but the owner's registration
    expect(await h.redis.hgetall(keys.c2c(APP, owner).counts)).toEqual({ [ACCOUNT_FIELD]: '1' });
    await h.send(msg(p, owner, 'old', 8000), msg(p, owner, 'new', 10_000));
    await drained(h);
    expect(await perPeer(owner, [p, q])).toEqual(
      ok({ C2CUnreadMsgNumList: [{ Peer_Account: p, C2CUnreadMsgNum: 1 }, { Peer_Account: q, C2CUnreadMsgNum: 0 }] }).body,
    );
  });

  it('lists unknown peers in ErrorList with 70107, known ones (even without messages) in the list', async () => {
    const [owner, p, q, ghost] = names('owner', 'p', 'q', 'ghost') as [string, string, string, string];
    await h.send(...register(owner, p, q), msg(p, owner, 'a', 1), msg(ghost, owner, 'g', 1));
    await drained(h);
    expect(await post(UNREAD, { To_Account: owner, Peer_Account: [p, ghost, q] })).toEqual(
      ok({
        C2CUnreadMsgNumList: [{ Peer_Account: p, C2CUnreadMsgNum: 1 }, { Peer_Account: q, C2CUnreadMsgNum: 0 }],
        ErrorList: [{ Peer_Account: ghost, ErrorCode: 70107 }],
      }),
    );
    expect(await post(UNREAD, { To_Account: owner, Peer_Account: [ghost] })).toEqual(
      ok({ C2CUnreadMsgNumList: [], ErrorList: [{ Peer_Account: ghost, ErrorCode: 70107 }] }),
    );
    // the total counts every one-to-one conversation, registered peer or not
    expect(await total(owner)).toBe(2);
  });

  it('accepts up to 10 peers and an empty list; refuses more than 10 with 90011', async () => {
    const [owner, ...peers] = names('o', 'p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9', 'p10');
    await h.send(...register(owner!, ...peers));
    await drained(h);
    const ten = peers.slice(0, 10);
    expect(await post(UNREAD, { To_Account: owner, Peer_Account: ten })).toEqual(
      ok({ C2CUnreadMsgNumList: ten.map((p) => ({ Peer_Account: p, C2CUnreadMsgNum: 0 })) }),
    );
    expect(await post(UNREAD, { To_Account: owner, Peer_Account: [] })).toEqual(ok({ C2CUnreadMsgNumList: [] }));
    expect(await post(UNREAD, { To_Account: owner, Peer_Account: peers })).toEqual({
      status: 200,
      body: { ActionStatus: 'FAIL', ErrorCode: 90011, ErrorInfo: 'Peer_Account holds 11 accounts; at most 10 are allowed' },
    });
  });

  it.each([
    ['a body that is not JSON', '{"To_Account":', 90001],
    ['an empty body', '', 90001],
    ['a JSON array', '["x"]', 90001],
    ['a JSON string', '"x"', 90001],
    ['no To_Account', '{}', 90003],
    ['an empty To_Account', '{"To_Account":""}', 90003],
    ['an unknown To_Account', '{"To_Account":"nobody-at-all"}', 90003],
    ['an unknown To_Account with peers', '{"To_Account":"nobody-at-all","Peer_Account":["x"]}', 90003],
    ['a numeric To_Account', '{"To_Account":42}', 60015],
    ['a Peer_Account that is a string', '{"To_Account":"x","Peer_Account":"y"}', 60015],
    ['a Peer_Account holding a number', '{"To_Account":"x","Peer_Account":["y",7]}', 60015],
  ])('get_c2c_unread_msg_num refuses %s', async (_what, body, code) => {
    expect(await post(UNREAD, body)).toEqual(fail(code));
  });

  it('admin_set_msg_read appends a read-ack covering the whole MsgReadTime second, OK once acknowledged', async () => {
    const [owner, p] = names('owner', 'p') as [string, string];
    await h.send(...register(owner, p), msg(p, owner, 'a', 100_000), msg(p, owner, 'b', 100_999), msg(p, owner, 'c', 101_000));
    await drained(h);
    expect(await post(SET_READ, { Report_Account: owner, Peer_Account: p, MsgReadTime: 100 })).toEqual(ok());
    await drained(h);
    expect(await total(owner)).toBe(1);
    expect(await h.redis.hget(keys.c2c(APP, owner).reads, p)).toBe('100999');
    // without MsgReadTime: now
    expect(await post(SET_READ, { Report_Account: owner, Peer_Account: p })).toEqual(ok());
    await drained(h);
    expect(await total(owner)).toBe(0);
    // the peer need not be registered (a conversation with a deleted account can still be read)
    const [ghost] = names('ghost') as [string];
    await h.send(msg(ghost, owner, 'g', 5000));
    await drained(h);
    expect(await total(owner)).toBe(1);
    expect(await post(SET_READ, { Report_Account: owner, Peer_Account: ghost, MsgReadTime: 5 })).toEqual(ok());
    await drained(h);
    expect(await total(owner)).toBe(0);
  });

  it.each([
    ['a body that is not JSON', 'nope', 90001],
    ['no Report_Account', '{"Peer_Account":"p"}', 90003],
    ['an unknown Report_Account', '{"Report_Account":"nobody-at-all","Peer_Account":"p"}', 90003],
    ['a numeric Report_Account', '{"Report_Account":1,"Peer_Account":"p"}', 60015],
    ['no Peer_Account', '{"Report_Account":"x"}', 90008],
    ['a Peer_Account with a control character', '{"Report_Account":"x","Peer_Account":"a\\u0001b"}', 90008],
    ['a Peer_Account array', '{"Report_Account":"x","Peer_Account":["p"]}', 60015],
    ['a MsgReadTime string', '{"Report_Account":"x","Peer_Account":"p","MsgReadTime":"100"}', 90001],
    ['a negative MsgReadTime', '{"Report_Account":"x","Peer_Account":"p","MsgReadTime":-1}', 90001],
    ['a fractional MsgReadTime', '{"Report_Account":"x","Peer_Account":"p","MsgReadTime":1.5}', 90001],
  ])('admin_set_msg_read refuses %s', async (_what, body, code) => {
    expect(await post(SET_READ, body)).toEqual(fail(code));
  });

  it('account-deleted removes every one-to-one key of the account, and only those', async () => {
    const [owner, p, q] = names('owner', 'p', 'q') as [string, string, string];
    await h.send(
      ...register(owner, p, q),
      msg(p, owner, 'a', 1000),
      msg(q, owner, 'b', 1000),
      msg(q, owner, 'c', 3000),
      ack(owner, q, 2000),
      ack(owner, p, 500),
      msg(owner, p, 'd', 1000),
    );
    await drained(h);
    const scan = async (pattern: string) => (await scanAll(h.redis, pattern)).sort();
    const base = keys.c2c(APP, owner).base.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
    expect(await scan(`${base}*`)).toHaveLength(4); // r, n, z:p, z:q
    await h.send({ type: 'account-deleted', appId: APP, account: owner });
    await drained(h);
    expect(await scan(`${base}*`)).toEqual([]);
    expect(await post(UNREAD, { To_Account: owner })).toEqual(fail(90003));
    expect(await total(p)).toBe(1);
  });

  it('answers 70169 when the broker does not acknowledge admin_set_msg_read in time', async () => {
    const [owner, p] = names('owner', 'p') as [string, string];
    await h.send(...register(owner, p));
    await drained(h);
    await h.broker.command('down 1');
    try {
      expect(await post(SET_READ, { Report_Account: owner, Peer_Account: p, MsgReadTime: 1 })).toEqual(fail(70169));
    } finally {
      await h.broker.command('up 1');
    }
  });
});
