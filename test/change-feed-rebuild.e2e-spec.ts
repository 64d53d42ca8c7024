import { generationKeys } from '@app/store';
import { rebuild } from '../apps/tools/src/rebuild.command';
import { Harness, TENCENT_APP, uniq } from './support/harness';
import { lastPerKey, readFeed } from './support/feed';
import { drainedGroup } from './support/projector-process';
import { prng } from './support/random';
import type { Ev } from './support/workload';

const APP = TENCENT_APP.sdkAppId;
const KEY = 'change-feed-rebuild-api-key-000001';

/**
 * A rebuild's switch with the change feed on (docs/events.md, "The change feed": the totals
 * are read from the generation active when they are read). Events keep coming across the
 * switch, so some accounts' last events are applied to the new generation only; a record
 * read from the generation left behind (deleted after the switch) would be stale.
 */
describe('change feed across a rebuild', () => {
  let h: Harness;
  jest.setTimeout(180_000);

  beforeAll(async () => {
    h = await Harness.start({ env: { CHANGE_FEED: 'true', TENANTS_JSON: JSON.stringify({ tencent: [{ ...TENCENT_APP, apiKey: KEY }], netease: [] }) } });
  });
  afterAll(async () => {
    await h.stop();
  });

  async function summary(account: string): Promise<{ c2c: number; groups: number; channels: number; badge: number }> {
    const res = await fetch(`${h.gateway!.url}/v1/apps/${APP}/accounts/${encodeURIComponent(account)}/unread`, { headers: { Authorization: `Bearer ${KEY}` } });
    const body = (await res.json()) as { c2c: { total: number }; groups: { total: number }; channels: { total: number }; badge: number };
    if (res.status !== 200) throw new Error(`summary of ${account}: ${res.status} ${JSON.stringify(body)}`);
    return { c2c: body.c2c.total, groups: body.groups.total, channels: body.channels.total, badge: body.badge };
  }

  it('the last record per account equals the gateway after the switch, with events applied on both sides of it', async () => {
    const tag = uniq();
    const accounts = Array.from({ length: 12 }, (_, i) => `rb${i}-${tag}`);
    const rnd = prng(11);
    let n = 0;
    let time = Date.now() - 3_600_000;
    const traffic = (count: number): Ev[] =>
      Array.from({ length: count }, () => {
        const from = accounts[Math.floor(rnd() * accounts.length)]!;
        const others = accounts.filter((a) => a !== from);
        const to = others[Math.floor(rnd() * others.length)]!;
        time += 1 + Math.floor(rnd() * 50);
        return rnd() < 0.75
          ? { type: 'message-sent', scope: 'c2c', appId: APP, msgId: `rb-${tag}-${n++}`, from, to, time }
          : { type: 'read-ack', scope: 'c2c', appId: APP, account: to, peer: from, readTime: time - Math.floor(rnd() * 500) };
      });
    await h.send(...accounts.map((account) => ({ type: 'account-registered', appId: APP, account })), ...traffic(300));
    await drainedGroup(h.kafka, h.config);

    let rebuilding = true;
    const producer = (async () => {
      while (rebuilding) {
        await h.send(...traffic(10));
        await new Promise((r) => setTimeout(r, 50)); // pacing, to leave CPU to the rebuild
      }
    })();
    const r = await rebuild(h.config, { log: () => undefined, graceMs: 1_500 }).finally(() => (rebuilding = false));
    await producer;
    expect(r).toMatchObject({ previous: 0, generation: 1 });
    // More after the switch, for every account.
    await h.send(...traffic(100));
    await drainedGroup(h.kafka, h.config, undefined, 60_000);
    expect(await h.redis.get(generationKeys(h.config.redis.keyPrefix).active)).toBe('1');

    const last = lastPerKey(await readFeed(h.kafka, h.topics.unreadChanged));
    let nonZero = 0;
    for (const a of accounts) {
      const want = await summary(a);
      if (want.c2c > 0) nonZero++;
      const record = last.get(`${APP}:${a}`)?.value;
      expect({ account: a, c2c: record?.c2c, groups: record?.groups, channels: record?.channels, badge: record?.badge }).toEqual({ account: a, ...want });
    }
    expect(nonZero).toBeGreaterThan(accounts.length / 2);
  });
});
