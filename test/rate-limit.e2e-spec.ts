import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { leaseSize } from '@app/store';
import { NETEASE_APP, TENCENT_APP, uniq } from './support/harness';
import { GatewayProcess } from './support/gateway-process';
import { RedisServer } from './support/processes';
import { qchatHeaders } from './support/qchat-client';
import { tencentUrl } from './support/tencent';

/**
 * The lease-based rate limit across two gateway processes sharing one Redis
 * (docs/performance.md, "Rate limits"): a burst of 3× the limit inside one window passes at
 * most the limit, and at least the limit minus what the other replica may hold unspent;
 * every other call gets the vendor's answer (60007 for Tencent, 416 for QChat, which then
 * stays blocked).
 */
const TENCENT_LIMIT = 40;
const QCHAT_LIMIT = 20;
const REPLICAS = 2;

describe('rate limits across two gateway processes', () => {
  let redis: RedisServer;
  let gateways: GatewayProcess[];
  const prefix = `rl${uniq()}`;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const env = {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: prefix,
      // Only admin writes produce; nothing here does, so the broker is never contacted.
      KAFKA_BROKERS: '127.0.0.1:9',
      TENANTS_JSON: JSON.stringify({ tencent: [TENCENT_APP], netease: [NETEASE_APP] }),
      TENCENT_RATE_LIMIT: String(TENCENT_LIMIT),
      QCHAT_RATE_LIMIT: String(QCHAT_LIMIT),
      QCHAT_RATE_BLOCK_MS: '10000',
    };
    gateways = await Promise.all([GatewayProcess.start(env), GatewayProcess.start(env)]);
  });
  afterAll(async () => {
    await Promise.all((gateways ?? []).map((g) => g.stop()));
    await redis?.stop();
  });

  /** Waits until the wall clock (which Redis shares here) is at the start of a second. */
  async function windowStart(): Promise<number> {
    while (Date.now() % 1000 > 20) await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000)));
    return Math.floor(Date.now() / 1000);
  }

  /** Sends `n` calls spread over both gateways at once, inside one window (retried if the burst crossed a window edge). */
  async function burst(n: number, call: (g: GatewayProcess) => Promise<string>): Promise<string[]> {
    for (;;) {
      const window = await windowStart();
      const answers = await Promise.all(Array.from({ length: n }, (_, i) => call(gateways[i % REPLICAS]!)));
      if (Math.floor(Date.now() / 1000) === window) return answers;
    }
  }

  function tally(answers: string[]): Record<string, number> {
    const t: Record<string, number> = {};
    for (const a of answers) t[a] = (t[a] ?? 0) + 1;
    return t;
  }

  it('Tencent: a burst of 3x the limit in one window passes at most the limit; the rest get 60007', async () => {
    const api = 'openim/get_c2c_unread_msg_num';
    const answers = await burst(3 * TENCENT_LIMIT, async (g) => {
      const res = await fetch(tencentUrl(g.url, api), { method: 'POST', body: '{"To_Account":"nobody"}' });
      return res.text();
    });
    const t = tally(answers);
    const passed = t['{"ActionStatus":"FAIL","ErrorCode":90003,"ErrorInfo":"To_Account nobody does not exist"}'] ?? 0;
    const refused =
      t[`{"ActionStatus":"FAIL","ErrorCode":60007,"ErrorInfo":"over the limit of ${TENCENT_LIMIT} calls per second for /v4/${api}"}`] ?? 0;
    expect(passed + refused).toBe(3 * TENCENT_LIMIT);
    expect(passed).toBeLessThanOrEqual(TENCENT_LIMIT);
    expect(passed).toBeGreaterThanOrEqual(TENCENT_LIMIT - (REPLICAS - 1) * (leaseSize(TENCENT_LIMIT) - 1));
  });

  it('QChat: a burst of 3x the limit passes at most the limit, the rest get 416 and write no Nonce, and the app stays blocked', async () => {
    const call = async (g: GatewayProcess) => {
      const res = await fetch(`${g.url}/nimserver/qchat/queryChannelUnReadMentionedMsgPage.action`, {
        method: 'POST',
        headers: qchatHeaders(),
        body: `accid=nobody-${randomBytes(2).toString('hex')}&serverId=1&channelId=2`,
      });
      const body = (await res.json()) as { code: number; desc: string };
      return body.code === 404 && body.desc.startsWith('account nobody-') ? 'passed' : JSON.stringify(body);
    };
    const t = tally(await burst(3 * QCHAT_LIMIT, call));
    const passed = t.passed ?? 0;
    const refused = t['{"code":416,"desc":"frequency control: too many calls"}'] ?? 0;
    expect(passed + refused).toBe(3 * QCHAT_LIMIT);
    expect(passed).toBeLessThanOrEqual(QCHAT_LIMIT);
    expect(passed).toBeGreaterThanOrEqual(QCHAT_LIMIT - (REPLICAS - 1) * (leaseSize(QCHAT_LIMIT) - 1));
    // The next window is still blocked, on both replicas.
    await windowStart();
    expect(tally(await Promise.all(gateways.map(call)))).toEqual({ '{"code":416,"desc":"frequency control: too many calls"}': 2 });
    // Only the calls that passed wrote their Nonce: the refused and the blocked ones wrote none.
    const client = new Redis(redis.url);
    try {
      expect(await client.keys(`${prefix}:nonce:*`)).toHaveLength(passed);
    } finally {
      client.disconnect();
    }
  });
});
