import { randomBytes } from 'node:crypto';
import { startGateway, type RunningGateway } from '../apps/gateway/src/gateway';
import { drained } from './support/drain';
import { Harness, TENCENT_APP, uniq } from './support/harness';
import { genUserSig, tencentPost, tencentUrl } from './support/tencent';
import { waitFor } from './support/wait';

const APP = TENCENT_APP.sdkAppId;
const ADMIN = TENCENT_APP.admins[0]!;
const UNREAD = 'openim/get_c2c_unread_msg_num';
const SET_READ = 'openim/admin_set_msg_read';

describe('tencent common layer: URL params, UserSig, admin, rate limit, body', () => {
  let h: Harness;
  let owner: string;
  const okTotal = { status: 200, body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AllC2CUnreadMsgNum: 0 } };
  const fail = (code: number, info: string | jest.AsymmetricMatcher = expect.any(String)) => ({
    status: 200,
    body: { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info },
  });

  beforeAll(async () => {
    h = await Harness.start();
    owner = `owner-${uniq()}`;
    await h.send({ type: 'account-registered', appId: APP, account: owner });
    await drained(h);
  });
  afterAll(async () => {
    await h.stop();
  });

  const call = (opts: Parameters<typeof tencentPost>[3], body: unknown = { To_Account: owner }) => tencentPost(h.gateway!.url, UNREAD, body, opts);

  it('answers a well-formed, signed admin request (random at both ends of its range)', async () => {
    expect(await call({})).toEqual(okTotal);
    expect(await call({ random: '0' })).toEqual(okTotal);
    expect(await call({ random: '4294967295' })).toEqual(okTotal);
  });

  it('checks sdkappid first: missing 60012, malformed 60006, unknown 70020', async () => {
    expect(await call({ sdkappid: null, usersig: null, random: null })).toEqual(fail(60012, 'sdkappid is missing'));
    expect(await call({ sdkappid: '' })).toEqual(fail(60012, 'sdkappid is missing'));
    expect(await call({ sdkappid: 'abc' })).toEqual(fail(60006, 'sdkappid is invalid'));
    expect(await call({ sdkappid: '1400000999' })).toEqual(fail(70020, 'sdkappid 1400000999 does not exist'));
  });

  it.each([
    ['identifier missing', { identifier: null, usersig: genUserSig(ADMIN) }, 'identifier is missing'],
    ['usersig missing', { usersig: null }, 'usersig is missing'],
    ['usersig empty', { usersig: '' }, 'usersig is missing'],
    ['random missing', { random: null }, 'random must be a 32-bit unsigned integer'],
    ['random negative', { random: '-1' }, 'random must be a 32-bit unsigned integer'],
    ['random past 2^32-1', { random: '4294967296' }, 'random must be a 32-bit unsigned integer'],
    ['random not a number', { random: '12ab' }, 'random must be a 32-bit unsigned integer'],
    ['contenttype missing', { contenttype: null }, 'contenttype must be json'],
    ['contenttype not json', { contenttype: 'JSON' }, 'contenttype must be json'],
    ['a repeated parameter', { extra: 'random=5' }, 'random appears more than once'],
  ])('answers 60002 for %s', async (_what, opts, info) => {
    expect(await call(opts)).toEqual(fail(60002, info));
  });

  it('verifies the UserSig: 70003 unparsable, 70009 wrong key, 70013 identifier, 70014 sdkappid', async () => {
    expect(await call({ usersig: 'not-a-usersig' })).toEqual(fail(70003, 'usersig could not be parsed'));
    const otherKey = genUserSig(ADMIN, 3600, APP, randomBytes(32).toString('hex'));
    expect(await call({ usersig: otherKey })).toEqual(fail(70009, 'usersig verification failed'));
    expect(await call({ usersig: genUserSig('someone-else') })).toEqual(fail(70013, 'identifier in the URL does not match the usersig'));
    const otherApp = genUserSig(ADMIN, 3600, '1400000002', TENCENT_APP.secretKey);
    expect(await call({ usersig: otherApp })).toEqual(fail(70014, 'sdkappid in the URL does not match the usersig'));
  });

  it('answers 70001 once the UserSig expired', async () => {
    const sig = genUserSig(ADMIN, 1);
    await waitFor(() => call({ usersig: sig }), (r) => r.body.ErrorCode === 70001, { timeoutMs: 5_000, what: 'usersig expiry' });
    expect(await call({ usersig: sig })).toEqual(fail(70001, 'usersig expired'));
  });

  it('answers 60010 for a valid UserSig of an account that is not an admin', async () => {
    expect(await call({ identifier: owner, usersig: genUserSig(owner) })).toEqual(fail(60010, `identifier ${owner} is not an app admin`));
  });

  it('authenticates before it reads the body: a bad body from a non-admin is 60010, not 90001', async () => {
    expect(await call({ identifier: owner, usersig: genUserSig(owner) }, '{broken')).toEqual(fail(60010));
    expect(await call({ sdkappid: null }, '{broken')).toEqual(fail(60012));
    expect(await call({}, '{broken')).toEqual(fail(90001));
  });

  describe('rate limit (held in Redis, per app and per API, shared by gateway replicas)', () => {
    const APP2 = { sdkAppId: '1400000077', secretKey: randomBytes(16).toString('hex'), admins: ['boss'] };
    let a: RunningGateway;
    let b: RunningGateway;
    beforeAll(async () => {
      const config = {
        ...h.config,
        rateLimits: { ...h.config.rateLimits, tencentPerSecond: 3 },
        tenants: { ...h.config.tenants, tencent: [...h.config.tenants.tencent, APP2] },
      };
      a = await startGateway(config, { logger: false });
      b = await startGateway(config, { logger: false });
      // a fresh gateway's Redis client fails fast until it has connected
      for (const g of [a, b]) {
        await waitFor(() => fetch(`${g.url}/health/ready`).then((r) => r.status), (s) => s === 200, { what: 'gateway ready' });
      }
    });
    afterAll(async () => {
      await a.close();
      await b.close();
    });

    it('answers 60007 past the limit within one second, across replicas; other APIs and apps are not affected', async () => {
      // start at the beginning of a new one-second window (earlier tests used this API in the
      // current one), so the burst stays inside it
      const window = Math.floor(Date.now() / 1000);
      await waitFor(() => Date.now(), (now) => Math.floor(now / 1000) > window && now % 1000 < 300, { intervalMs: 5, what: 'a fresh window' });
      const first = [
        await tencentPost(a.url, UNREAD, { To_Account: owner }),
        await tencentPost(b.url, UNREAD, { To_Account: owner }),
        await tencentPost(a.url, UNREAD, { To_Account: owner }),
      ];
      const limited = await tencentPost(b.url, UNREAD, '{not even json}');
      const otherApi = await tencentPost(a.url, SET_READ, { Report_Account: `nobody-${uniq()}`, Peer_Account: 'p' });
      const otherApp = await tencentPost(b.url, UNREAD, { To_Account: owner }, {
        sdkappid: APP2.sdkAppId,
        identifier: 'boss',
        usersig: genUserSig('boss', 3600, APP2.sdkAppId, APP2.secretKey),
      });
      expect(first).toEqual([okTotal, okTotal, okTotal]);
      expect(limited).toEqual(fail(60007, 'over the limit of 3 calls per second for /v4/openim/get_c2c_unread_msg_num'));
      expect(otherApi).toEqual(fail(90003));
      expect(otherApp).toEqual(fail(90003));
      await waitFor(() => tencentPost(a.url, UNREAD, { To_Account: owner }), (r) => r.body.ErrorCode === 0, { what: 'the next window' });
    });
  });

  it('answers 60009 for an unknown command, whatever its parameters', async () => {
    const res = await fetch(tencentUrl(h.gateway!.url, 'openim/no_such_thing'), { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ActionStatus: 'FAIL', ErrorCode: 60009, ErrorInfo: 'request resource not found: POST /v4/openim/no_such_thing' });
  });
});
