import { Harness, NETEASE_APP, TENCENT_APP } from './support/harness';
import { genUserSig, tencentPost } from './support/tencent';

const KEY = 'limits-summary-key-000000000000001';
const ACCOUNT_LIMIT = 250;
const FAILURE_LIMIT = 5;
const C2C = 'openim/get_c2c_unread_msg_num';

/** Waits until the wall clock (which Redis shares here) is at the start of a second. */
async function windowStart(): Promise<number> {
  while (Date.now() % 1000 > 20) await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000)));
  return Math.floor(Date.now() / 1000);
}

/** Runs `burst` inside one one-second window (again, if it crossed a window's edge). */
async function inOneWindow<T>(burst: () => Promise<T>): Promise<T> {
  for (;;) {
    const window = await windowStart();
    const out = await burst();
    if (Math.floor(Date.now() / 1000) === window) return out;
  }
}

/**
 * A gateway alone (no projector), its Tencent app holding the batch and summary APIs' key,
 * with `env` besides, for the describe block that calls this (started in its beforeAll,
 * stopped in its afterAll); `h` is read inside the tests.
 */
function limitedGateway(env: Record<string, string>) {
  let started: Harness | undefined;
  beforeAll(async () => {
    started = await Harness.start({
      projector: false,
      env: { TENANTS_JSON: JSON.stringify({ tencent: [{ ...TENCENT_APP, apiKey: KEY }], netease: [NETEASE_APP] }), ...env },
    });
  });
  afterAll(async () => {
    await started?.stop();
  });
  const g = {
    get h(): Harness {
      if (!started) throw new Error('limitedGateway: read it inside a test (it starts in beforeAll)');
      return started;
    },
    batch: (accounts: string[]) => batchCall(g.h, accounts),
    summary: () => summaryCall(g.h),
  };
  return g;
}

/** The batch API for `accounts` on the harness's gateway: status and body. */
async function batchCall(h: Harness, accounts: string[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${h.gateway!.url}/v1/apps/${TENCENT_APP.sdkAppId}/unread`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ accounts }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** One account's summary (an unknown one: the call is charged all the same). */
async function summaryCall(h: Harness): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${h.gateway!.url}/v1/apps/${TENCENT_APP.sdkAppId}/accounts/nobody/unread`, { headers: { authorization: `Bearer ${KEY}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * Limits that charge what a call costs (docs/api/summary.md, "Limits"): the summary API
 * charges each account a call reads against SUMMARY_RATE_LIMIT; a flood of bad credentials
 * is refused before the expensive checks once AUTH_FAILURE_LIMIT failures are spent.
 */
describe('gateway: limits that charge cost', () => {
  const g = limitedGateway({ SUMMARY_RATE_LIMIT: String(ACCOUNT_LIMIT), AUTH_FAILURE_LIMIT: String(FAILURE_LIMIT) });
  const { batch, summary } = g;

  it('charges a batch of 100 accounts 100: a flood of them passes limit/100 per second, then 429 (a one-account call still fits)', async () => {
    const accounts = Array.from({ length: 100 }, (_, i) => `acct-${i}`);
    const { flood, single } = await inOneWindow(async () => ({
      flood: await Promise.all(Array.from({ length: 6 }, () => batch(accounts))),
      single: await summary(),
    }));
    const passed = flood.filter((r) => r.status === 200);
    expect(passed).toHaveLength(Math.floor(ACCOUNT_LIMIT / 100));
    for (const r of passed) expect(r.body).toEqual({ appId: TENCENT_APP.sdkAppId, accounts: [], notFound: accounts });
    expect(new Set(flood.filter((r) => r.status !== 200).map((r) => JSON.stringify(r)))).toEqual(
      new Set([JSON.stringify({ status: 429, body: { statusCode: 429, message: `more than ${ACCOUNT_LIMIT} accounts per second in summary calls for this app` } })]),
    );
    // 250 − 200 = 50 accounts are left in the window: a summary (one account) passes
    expect(single).toEqual({ status: 404, body: { statusCode: 404, message: 'account nobody not found' } });
    // a repeated account is charged once: 100 names of one account cost 1
    const repeated = await inOneWindow(() => Promise.all(Array.from({ length: 3 }, () => batch(Array.from({ length: 100 }, () => 'same')))));
    expect(repeated.map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it('refuses a flood of bad UserSigs unchecked once AUTH_FAILURE_LIMIT failed in the second; a proven UserSig still passes', async () => {
    const proven = genUserSig('administrator');
    const NOT_FOUND = { ActionStatus: 'FAIL', ErrorCode: 90003, ErrorInfo: 'To_Account nobody does not exist' };
    expect((await tencentPost(g.h.gateway!.url, C2C, { To_Account: 'nobody' }, { usersig: proven })).body).toEqual(NOT_FOUND);
    const wrongKey = genUserSig('administrator', 86_400, TENCENT_APP.sdkAppId, 'f'.repeat(64));
    const { flood, cached, fresh } = await inOneWindow(async () => ({
      flood: await Promise.all(Array.from({ length: 20 }, () => tencentPost(g.h.gateway!.url, C2C, { To_Account: 'nobody' }, { usersig: wrongKey }))),
      cached: await tencentPost(g.h.gateway!.url, C2C, { To_Account: 'nobody' }, { usersig: proven }),
      fresh: await tencentPost(g.h.gateway!.url, C2C, { To_Account: 'nobody' }, { usersig: genUserSig('administrator', 3600) }),
    }));
    const tally: Record<string, number> = {};
    for (const r of flood) tally[JSON.stringify(r.body)] = (tally[JSON.stringify(r.body)] ?? 0) + 1;
    expect(tally).toEqual({
      [JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: 70009, ErrorInfo: 'usersig verification failed' })]: FAILURE_LIMIT,
      [JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: 60007, ErrorInfo: 'too many failed UserSig checks for this app in this second; retry' })]: 20 - FAILURE_LIMIT,
    });
    expect(cached.body).toEqual(NOT_FOUND);
    expect(fresh.body).toEqual({ ActionStatus: 'FAIL', ErrorCode: 60007, ErrorInfo: 'too many failed UserSig checks for this app in this second; retry' });
  });

  it('refuses a flood of wrong summary keys unchecked once AUTH_FAILURE_LIMIT failed in the second (any app id)', async () => {
    const call = (app: string, key: string) =>
      fetch(`${g.h.gateway!.url}/v1/apps/${app}/accounts/nobody/unread`, { headers: { authorization: `Bearer ${key}` } }).then(async (r) => JSON.stringify({ status: r.status, body: await r.json() }));
    for (const app of [TENCENT_APP.sdkAppId, 'no-such-app']) {
      const answers = await inOneWindow(() => Promise.all(Array.from({ length: 12 }, () => call(app, 'wrong-key-0000000000000'))));
      const tally: Record<string, number> = {};
      for (const a of answers) tally[a] = (tally[a] ?? 0) + 1;
      expect(tally).toEqual({
        [JSON.stringify({ status: 401, body: { statusCode: 401, message: 'invalid credentials for this app' } })]: FAILURE_LIMIT,
        [JSON.stringify({ status: 429, body: { statusCode: 429, message: 'too many failed authentications for this app in this second' } })]: 12 - FAILURE_LIMIT,
      });
    }
  });
});

/**
 * The channel reads a summary call may fan out to (docs/api/summary.md, "Limits"): 100 per
 * account it names, charged against SUMMARY_CHANNEL_RATE_LIMIT, and a call past
 * SUMMARY_CHANNEL_BUDGET refused whole before anything is read or charged.
 */
describe('gateway: summary calls charged per channel read, with a budget per call', () => {
  const CHANNEL_LIMIT = 25_000;
  const BUDGET = 9_900;
  const g = limitedGateway({ SUMMARY_RATE_LIMIT: '100000', SUMMARY_CHANNEL_RATE_LIMIT: String(CHANNEL_LIMIT), SUMMARY_CHANNEL_BUDGET: String(BUDGET) });
  const { batch, summary } = g;
  const accounts = (n: number) => Array.from({ length: n }, (_, i) => `acct-${i}`);
  const calls = async () => {
    const stats = await g.h.redis.info('commandstats');
    const of = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    return { evalsha: of('evalsha'), hgetall: of('hgetall'), zrange: of('zrange') };
  };

  it('refuses a call of 100 accounts (10,000 channel reads) past a budget of 9,900 before any Redis command', async () => {
    const before = await calls();
    expect(await batch(accounts(100))).toEqual({
      status: 429,
      body: { statusCode: 429, message: 'this call may read 10000 channels (100 per account), more than the 9900 a summary call may read' },
    });
    expect(await calls()).toEqual(before);
  });

  it('charges 100 channel reads per account: 99-account calls pass 2 in a second of 25,000, then 52 accounts fit, then not one more', async () => {
    const { flood, rest, single } = await inOneWindow(async () => {
      const flood = await Promise.all(Array.from({ length: 4 }, () => batch(accounts(99))));
      const rest = await batch(accounts(52)); // 25,000 − 2 × 9,900 = 5,200
      return { flood, rest, single: await summary() };
    });
    const refused = { status: 429, body: { statusCode: 429, message: `more than ${CHANNEL_LIMIT} channel reads per second in summary calls for this app` } };
    expect(flood.map((r) => r.status).sort()).toEqual([200, 200, 429, 429]);
    for (const r of flood) expect(r).toEqual(r.status === 200 ? { status: 200, body: { appId: TENCENT_APP.sdkAppId, accounts: [], notFound: accounts(99) } } : refused);
    expect(rest).toEqual({ status: 200, body: { appId: TENCENT_APP.sdkAppId, accounts: [], notFound: accounts(52) } });
    expect(single).toEqual(refused);
  });
});
