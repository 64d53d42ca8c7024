import { Harness, NETEASE_APP, TENCENT_APP, uniq } from './support/harness';
import { RedisMonitor } from './support/monitor';
import { tencentPost } from './support/tencent';
import { waitFor } from './support/wait';

const C2C = 'openim/get_c2c_unread_msg_num';
const SET = 'group_open_http_svc/set_unread_msg_num';
const KEY = `summary-key-${uniq()}`;

/**
 * Gateway inputs that break the id rules are answered before Redis is
 * asked (MONITOR sees no command carrying them), and the summary API's per-tenant limit.
 */
describe('gateway: inputs checked before Redis; summary rate limit', () => {
  let h: Harness;
  let monitor: RedisMonitor;
  const tag = uniq();
  const alice = `alice-${tag}`;
  const bob = `bob-${tag}`;
  const long = (c: string) => `${c}${tag}`.padEnd(300, c);

  beforeAll(async () => {
    h = await Harness.start({
      env: { TENANTS_JSON: JSON.stringify({ tencent: [TENCENT_APP], netease: [{ ...NETEASE_APP, apiKey: KEY }] }), SUMMARY_RATE_LIMIT: '50' },
    });
    await h.send(...[alice, bob].map((account) => ({ type: 'account-registered', appId: TENCENT_APP.sdkAppId, account })));
    await h.send({ type: 'account-registered', appId: NETEASE_APP.appKey, account: alice });
    await waitFor(() => tencentPost(h.gateway!.url, C2C, { To_Account: bob }), (r) => r.body.ErrorCode === 0, { what: 'registrations applied' });
    monitor = await RedisMonitor.start(h.redisServer.port);
  });
  afterAll(async () => {
    monitor?.stop();
    await h.stop();
  });

  /** Commands Redis received that carry `text` (after a PING barrier: MONITOR has seen all before it). */
  const carrying = async (text: string) => {
    const marker = `barrier-${uniq()}`;
    await h.redis.echo(marker);
    await waitFor(() => monitor.lines.some((l) => l.includes(marker)), Boolean, { what: 'the barrier in MONITOR' });
    return monitor.lines.filter((l) => l.includes(text));
  };

  it('get_c2c_unread_msg_num: a To_Account that is no account id answers 90003 without a Redis command', async () => {
    const to = long('x');
    expect(await tencentPost(h.gateway!.url, C2C, { To_Account: to })).toEqual({
      status: 200,
      body: { ActionStatus: 'FAIL', ErrorCode: 90003, ErrorInfo: 'To_Account is not a valid account id' },
    });
    expect(await tencentPost(h.gateway!.url, C2C, { To_Account: to, Peer_Account: [bob] })).toEqual({
      status: 200,
      body: { ActionStatus: 'FAIL', ErrorCode: 90003, ErrorInfo: 'To_Account is not a valid account id' },
    });
    expect(await carrying(to.slice(0, 200))).toEqual([]);
  });

  it('get_c2c_unread_msg_num: a Peer_Account that is no account id is listed as 70107 and never asked about', async () => {
    const peer = long('y');
    expect(await tencentPost(h.gateway!.url, C2C, { To_Account: alice, Peer_Account: [bob, peer, 'has\u0001control'] })).toEqual({
      status: 200,
      body: {
        ActionStatus: 'OK',
        ErrorCode: 0,
        ErrorInfo: '',
        C2CUnreadMsgNumList: [{ Peer_Account: bob, C2CUnreadMsgNum: 0 }],
        ErrorList: [
          { Peer_Account: peer, ErrorCode: 70107 },
          { Peer_Account: 'has\u0001control', ErrorCode: 70107 },
        ],
      },
    });
    expect(await carrying(peer.slice(0, 200))).toEqual([]);
  });

  it('set_unread_msg_num: a Member_Account that is no account id answers 10004 before the group is read', async () => {
    const member = long('z');
    const groupId = `@TGS#q${tag}`;
    expect(await tencentPost(h.gateway!.url, SET, { GroupId: groupId, Member_Account: member, UnreadMsgNum: 1 })).toEqual({
      status: 200,
      body: { ActionStatus: 'FAIL', ErrorCode: 10004, ErrorInfo: 'Member_Account is not a valid account id' },
    });
    expect(await carrying(groupId)).toEqual([]);
  });

  it('summary: past 50 requests in a second for one app, 429 with its documented body; other answers are the summary', async () => {
    const url = `${h.gateway!.url}/v1/apps/${NETEASE_APP.appKey}/accounts/${alice}/unread`;
    const results = await Promise.all(
      Array.from({ length: 160 }, async () => {
        const res = await fetch(url, { headers: { authorization: `Bearer ${KEY}` } });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      }),
    );
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    // Fixed one-second windows: a burst straddling a window edge may pass up to twice the limit.
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length).toBeLessThanOrEqual(100);
    for (const r of ok) expect(r.body).toMatchObject({ appId: NETEASE_APP.appKey, account: alice });
    expect(new Set(refused.map((r) => JSON.stringify(r)))).toEqual(
      new Set([JSON.stringify({ status: 429, body: { statusCode: 429, message: 'more than 50 accounts per second in summary calls for this app' } })]),
    );
  });

  it('summary and batch share one rate limit: past 50 of them together in a second, 429 with the same body', async () => {
    const summaryUrl = `${h.gateway!.url}/v1/apps/${NETEASE_APP.appKey}/accounts/${alice}/unread`;
    const batchUrl = `${h.gateway!.url}/v1/apps/${NETEASE_APP.appKey}/unread`;
    const burst = () =>
      Promise.all(
        Array.from({ length: 160 }, async (_, i) => {
          const batch = i % 2 === 1;
          const res = batch
            ? await fetch(batchUrl, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ accounts: [alice] }) })
            : await fetch(summaryUrl, { headers: { authorization: `Bearer ${KEY}` } });
          return { batch, status: res.status, body: (await res.json()) as Record<string, unknown> };
        }),
      );
    // The previous test (or a slow box) may have spent the window a burst lands in: each burst
    // starts once a lone request is admitted again, and bursts again, a few times at most,
    // until one gets through; every burst obeys the limit.
    const admitted = () =>
      waitFor(() => fetch(summaryUrl, { headers: { authorization: `Bearer ${KEY}` } }).then((r) => r.status), (status) => status === 200, {
        intervalMs: 200,
        what: 'a lone summary request admitted',
      });
    await admitted();
    let results = await burst();
    for (let round = 1; round < 5 && !results.some((r) => r.status === 200); round++) {
      expect(new Set(results.map((r) => r.status))).toEqual(new Set([429]));
      await admitted();
      results = await burst();
    }
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    // one limit over both routes: at most twice 50 over a window edge, whatever the mix (80 of each were sent)
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length).toBeLessThanOrEqual(100);
    expect(refused.some((r) => r.batch)).toBe(true);
    for (const r of ok) {
      if (r.batch) expect(r.body).toMatchObject({ appId: NETEASE_APP.appKey, accounts: [{ account: alice }], notFound: [] });
      else expect(r.body).toMatchObject({ appId: NETEASE_APP.appKey, account: alice });
    }
    expect(new Set(refused.map((r) => JSON.stringify({ status: r.status, body: r.body })))).toEqual(
      new Set([JSON.stringify({ status: 429, body: { statusCode: 429, message: 'more than 50 accounts per second in summary calls for this app' } })]),
    );
  });
});
