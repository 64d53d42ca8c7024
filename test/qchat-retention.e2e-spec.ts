import { createHash, randomBytes } from 'node:crypto';
import { channelTarget, Keyspace, padMsgId } from '@app/store';
import { Harness, NETEASE_APP, TENCENT_APP, uniq } from './support/harness';
import { scanAll } from './support/snapshot';
import { waitFor } from './support/wait';

const PATH = '/nimserver/qchat/queryChannelUnReadMentionedMsgPage.action';
const APP = NETEASE_APP.appKey;
/** A second tenant, so the rate-limit test does not throttle the retention test. */
const RATE_APP = {
  appKey: 'rate-app-0000000000000000000001',
  appSecret: randomBytes(12).toString('hex'),
};
const RETENTION_MS = 60_000;

interface Wire {
  code: number;
  desc?: string;
  data?: {
    pageInfo: { nextTimetag: number; hasMore: boolean };
    msgList: { msgIdServer: number }[];
  };
}

async function call(
  h: Harness,
  app: { appKey: string; appSecret: string },
  form: Record<string, string>,
): Promise<Wire> {
  const nonce = randomBytes(16).toString('hex');
  const curTime = String(Math.floor(Date.now() / 1000));
  const res = await fetch(`${h.gateway!.url}${PATH}`, {
    method: 'POST',
    headers: {
      AppKey: app.appKey,
      Nonce: nonce,
      CurTime: curTime,
      CheckSum: createHash('sha1')
        .update(app.appSecret + nonce + curTime)
        .digest('hex'),
      'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8',
    },
    body: new URLSearchParams(form).toString(),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Wire;
}

describe('QChat mentions: retention and rate limit', () => {
  let h: Harness;
  let keys: Keyspace;

  const scan = (pattern: string): Promise<string[]> => scanAll(h.redis, pattern);

  beforeAll(async () => {
    h = await Harness.start({
      env: {
        MENTION_RETENTION_MS: String(RETENTION_MS),
        QCHAT_RATE_LIMIT: '5',
        QCHAT_RATE_BLOCK_MS: '2000',
        TENANTS_JSON: JSON.stringify({ tencent: [TENCENT_APP], netease: [NETEASE_APP, RATE_APP] }),
      },
    });
    keys = new Keyspace(h.config.redis.keyPrefix);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('drops mentions older than the retention (on read and on write) and a channel with none left holds no keys', async () => {
    const reader = `r-${uniq()}`;
    const lone = `l-${uniq()}`;
    const other = `o-${uniq()}`;
    const serverId = '5001';
    const [c1, c2] = ['61', '62'];
    const b1 = keys.channel(APP, serverId, c1);
    const b2 = keys.channel(APP, serverId, c2);
    const now = Date.now();
    const m = (channelId: string, id: string, time: number, t: Record<string, unknown>) => ({
      type: 'channel-mention',
      appId: APP,
      serverId,
      channelId,
      message: { msgIdServer: id, fromAccount: other, time },
      ...t,
    });
    await h.send(
      ...[reader, lone, other].flatMap((account) => [
        { type: 'account-registered', appId: APP, account },
        { type: 'qchat-server-member-joined', appId: APP, serverId, account },
      ]),
      { type: 'qchat-channel-created', appId: APP, serverId, channelId: c1 },
      { type: 'qchat-channel-created', appId: APP, serverId, channelId: c2 },
      // channel 1: E leaves the retention in ~20 s, G stays
      m(c1, '1', now - 40_000, { mentionAll: true }),
      m(c1, '2', now - 10_000, { mentionAll: true }),
      // channel 2: A is already too old (never stored); B leaves in ~20 s; an update with no
      // mention yet; acks (one too old to store)
      m(c2, '9', now - 2 * RETENTION_MS, { mentionAccids: [lone] }),
      {
        type: 'channel-message-updated',
        appId: APP,
        serverId,
        channelId: c2,
        msgIdServer: '77',
        status: 0,
        updateTime: now - 41_000,
        body: 'x',
      },
      m(c2, '10', now - 40_000, { mentionAccids: [lone] }),
      {
        type: 'read-ack',
        scope: 'channel',
        appId: APP,
        account: lone,
        serverId,
        channelId: c2,
        ackTime: now - 45_000,
      },
      {
        type: 'read-ack',
        scope: 'channel',
        appId: APP,
        account: other,
        serverId,
        channelId: c2,
        ackTime: now - 2 * RETENTION_MS,
      },
    );
    const list = async (account: string, channelId: string) =>
      (await call(h, NETEASE_APP, { accid: account, serverId, channelId })).data?.msgList.map(
        (x) => x.msgIdServer,
      );

    await waitFor(
      () => list(reader, c1),
      (v) => JSON.stringify(v) === '[2,1]',
      { what: 'both mentions visible', intervalMs: 400 },
    );
    await waitFor(
      () => list(lone, c2),
      (v) => JSON.stringify(v) === '[10]',
      { what: 'B visible', intervalMs: 400 },
    );
    expect(await h.redis.zscore(b2.ix, padMsgId('9'))).toBeNull();
    expect(await h.redis.zscore(b2.ack, other)).toBeNull();
    expect(await h.redis.zscore(b2.ack, lone)).toBe(String(now - 45_000));
    expect(await h.redis.zscore(b2.pend, padMsgId('77'))).toBe(String(now - 41_000));

    // once E is older than the retention, reads skip it although it is still stored
    await waitFor(
      () => list(reader, c1),
      (v) => JSON.stringify(v) === '[2]',
      { what: 'E filtered', timeoutMs: 40_000, intervalMs: 500 },
    );
    expect(await h.redis.hlen(b1.upd)).toBe(2);

    // the next write to the channel prunes it
    const t3 = Date.now();
    await h.send(m(c1, '3', t3, { mentionAll: true }));
    await waitFor(
      () => h.redis.zrange(b1.ix, 0, -1),
      (v) => v.length === 2 && v.includes(padMsgId('3')),
      { what: 'E pruned' },
    );
    expect(await h.redis.zrange(b1.ix, 0, -1)).toEqual([padMsgId('2'), padMsgId('3')]);
    expect(await h.redis.hkeys(b1.upd)).toEqual(
      expect.arrayContaining([padMsgId('2'), padMsgId('3')]),
    );
    expect(await h.redis.hlen(b1.upd)).toBe(2);
    expect(await h.redis.hlen(b1.out)).toBe(2);
    // target set members are <time, 16 digits><padded id>
    expect(await h.redis.zrange(b1.target(channelTarget.all), 0, -1)).toEqual([
      String(now - 10_000).padStart(16, '0') + padMsgId('2'),
      String(t3).padStart(16, '0') + padMsgId('3'),
    ]);
    expect(await list(reader, c1)).toEqual([3, 2]);

    // channel 2 has nothing left within the retention: every one of its keys expires, and so
    // does the account index that pointed at it
    await waitFor(
      () => scan(`${b2.base}*`),
      (k) => k.length === 0,
      { what: 'channel 2 holds no keys', timeoutMs: 40_000, intervalMs: 200 },
    );
    // (lone's server membership and registration are not time-bound: only its index of
    // servers and its counts hash holding the registration marker remain)
    await waitFor(
      () => scan(`${keys.prefix}:*${lone}*`),
      (k) => k.length === 2 && k.some((key) => key.endsWith(':srv')) && k.includes(keys.c2c(NETEASE_APP.appKey, lone).counts),
      { what: 'channel index of lone expired', timeoutMs: 5_000 },
    );
    expect(await call(h, NETEASE_APP, { accid: lone, serverId, channelId: c2 })).toEqual({
      code: 200,
      data: {
        pageInfo: { nextTimetag: expect.any(Number) as number, hasMore: false },
        msgList: [],
      },
    });
  });

  it('answers 416 past the per-app limit, blocks the app for QCHAT_RATE_BLOCK_MS, then lets it through', async () => {
    const form = { accid: 'nobody', serverId: '1', channelId: '2' };
    const burst = await Promise.all(Array.from({ length: 12 }, () => call(h, RATE_APP, form)));
    const codes = burst.map((r) => r.code);
    // fixed one-second windows: at most 5 per window, so at most 10 of 12 even across a window edge
    expect(codes.filter((c) => c === 416).length).toBeGreaterThanOrEqual(2);
    expect(codes.every((c) => c === 416 || c === 404)).toBe(true);
    expect(burst.find((r) => r.code === 416)).toEqual({
      code: 416,
      desc: 'frequency control: too many calls',
    });
    // blocked, whatever the window
    expect(await call(h, RATE_APP, form)).toEqual({
      code: 416,
      desc: 'frequency control: too many calls',
    });
    // the other tenant is not affected
    expect((await call(h, NETEASE_APP, form)).code).toBe(404);
    const after = await waitFor(
      () => call(h, RATE_APP, form),
      (r) => r.code !== 416,
      { timeoutMs: 10_000, intervalMs: 500 },
    );
    expect(after).toEqual({ code: 404, desc: 'account nobody not found' });
  });
});
