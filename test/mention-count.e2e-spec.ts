import type Redis from 'ioredis';
import type { UnreadEvent } from '@app/contracts';
import { Keyspace, ProjectionStore } from '@app/store';
import { SummaryService } from '../apps/gateway/src/summary/summary.service';
import { CountModel } from './support/count-model';
import { uniq } from './support/harness';
import { privateRedis } from './support/private-redis';
import { shuffled, withSeed } from './support/random';

const APP = 'go9dnk49bkd9jd9vmel1kglw0803mgq3';
const RETENTION = 7 * 24 * 3600 * 1000;

/** Redis's work over `run`: every command executed (Lua-internal ones included), bytes it sent, its CPU. */
async function redisWork(redis: Redis, run: () => Promise<unknown>): Promise<{ commands: number; bytesOut: number; cpuMs: number; usec: number; byCommand: Record<string, number> }> {
  const cpu = async () => {
    const info = await redis.info('cpu');
    const n = (f: string) => Number(new RegExp(`${f}:([0-9.]+)`).exec(info)?.[1] ?? 0);
    return n('used_cpu_sys') + n('used_cpu_user');
  };
  await redis.config('RESETSTAT');
  const before = await cpu();
  await run();
  const after = await cpu();
  const stats = await redis.info('commandstats');
  const net = await redis.info('stats');
  const byCommand: Record<string, number> = {};
  let commands = 0;
  let usec = 0;
  for (const m of stats.matchAll(/cmdstat_([a-z|_]+):calls=(\d+),usec=(\d+)/g)) {
    if (m[1] === 'info' || m[1] === 'config|resetstat') continue;
    byCommand[m[1]!] = Number(m[2]);
    byCommand[`${m[1]!} usec`] = Number(m[3]);
    commands += Number(m[2]);
    usec += Number(m[3]);
  }
  return { commands, bytesOut: Number(/total_net_output_bytes:(\d+)/.exec(net)?.[1]), cpuMs: (after - before) * 1000, usec, byCommand };
}

/**
 * The count-only mention read (MentionStore.countUnreadMentions, channel-count.lua) against
 * the paged read (every page of channel-query.lua) and the oracle (CountModel's mentions),
 * on random streams: mentions by everyone, by name and by roles granted and revoked, own
 * messages, recalls and deletions (in the mention or a later update), acks, messages older
 * than the retention and several messages in one millisecond, messages mentioned again with
 * other targets, time or sender; delivered shuffled, with duplicates; one channel upgraded
 * from a projection without the count's lists halfway, one read as such a projection.
 */
describe('counting unread mentions without reading them (store, real Redis)', () => {
  const fixture = privateRedis();
  let redis: Redis;
  beforeAll(() => (redis = fixture.redis));

  it('equals the paged read over all pages and the model, per (account, channel), capped or not', async () => {
    await withSeed('mention count', async (rnd) => {
      const prefix = `m${uniq()}`;
      const retention = 3_600_000;
      const store = new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: retention });
      const now = Date.now();
      const accounts = ['ann', 'ben', 'cid', 'dee'];
      const channels = ['70', '71', '72'];
      const roles = ['1', '2', '3'];
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
      const setup: UnreadEvent[] = [
        ...accounts.map((account) => ({ type: 'qchat-server-member-joined', appId: APP, serverId: '7', account })),
        ...channels.map((channelId) => ({ type: 'qchat-channel-created', appId: APP, serverId: '7', channelId })),
      ] as UnreadEvent[];
      const stream: UnreadEvent[] = [];
      let id = 5_000;
      const sentAt = new Map<number, number>(); // message id -> its time
      for (let i = 0; i < 1_500; i++) {
        const r = rnd();
        const channelId = pick(channels);
        // times from before the retention to now, often equal (several messages per millisecond)
        const time = now - retention - 60_000 + Math.floor(rnd() * 400) * Math.floor((retention + 50_000) / 400);
        if (r < 0.7) {
          const everyone = rnd() < 0.3;
          const status = rnd() < 0.08 ? 1 + Math.floor(rnd() * 2) : 0;
          sentAt.set(++id, time);
          stream.push({
            type: 'channel-mention',
            appId: APP,
            serverId: '7',
            channelId,
            message: { msgIdServer: String(id), fromAccount: pick(accounts), time, body: `m${id}`, status },
            mentionAll: everyone,
            mentionAccids: everyone ? [] : accounts.filter(() => rnd() < 0.3),
            mentionRoleIds: roles.filter(() => rnd() < 0.25),
          } as unknown as UnreadEvent);
        } else if (r < 0.78) {
          // an edit is made after its message: updateTime at or after the message's time (ids of
          // other channels' messages too, which stay pending and never meet a mention)
          const target = 5_001 + Math.floor(rnd() * (id - 5_000));
          const updateTime = Math.max(time, sentAt.get(target) ?? time) + 1;
          stream.push({ type: 'channel-message-updated', appId: APP, serverId: '7', channelId, msgIdServer: String(target), status: 1 + Math.floor(rnd() * 2), updateTime });
        } else if (r < 0.86) {
          stream.push({ type: 'read-ack', scope: 'channel', appId: APP, account: pick(accounts), serverId: '7', channelId, ackTime: time });
        } else if (r < 0.95) {
          stream.push({ type: 'qchat-role-member-added', appId: APP, serverId: '7', roleId: pick(roles), account: pick(accounts) });
        } else {
          stream.push({ type: 'qchat-role-member-removed', appId: APP, serverId: '7', roleId: pick(roles), account: pick(accounts) });
        }
      }
      // messages mentioned again with other targets, another time or another sender (after
      // the first mentions, in order: the newest mention of an id is its entry)
      const again: UnreadEvent[] = [];
      const mentions = stream.filter((e): e is Extract<UnreadEvent, { type: 'channel-mention' }> => e.type === 'channel-mention');
      for (let i = 0; i < 150; i++) {
        const first = pick(mentions);
        // never earlier: a mention that moved out of the retention would not be stored
        const time = first.message.time + Math.floor(rnd() * 3) * 1_000;
        const fromAccount = rnd() < 0.3 ? pick(accounts) : first.message.fromAccount;
        const mentionAccids = accounts.filter(() => rnd() < 0.3);
        const mentionRoleIds = roles.filter(() => rnd() < 0.25);
        // at least one target (a mention of nobody is not stored: the earlier one stays)
        const everyone = rnd() < 0.3 || (mentionRoleIds.length === 0 && mentionAccids.every((a) => a === fromAccount));
        const status = rnd() < 0.1 ? 1 + Math.floor(rnd() * 2) : first.message.status;
        again.push({ ...first, message: { ...first.message, time, fromAccount, status }, mentionAll: everyone, mentionAccids: everyone ? [] : mentionAccids, mentionRoleIds });
      }
      // role events are ordered (one directory partition); mentions, updates and acks arrive in any order
      const directory = stream.filter((e) => e.type.startsWith('qchat-'));
      const rest = stream.filter((e) => !e.type.startsWith('qchat-'));
      await store.applyBatch(setup);
      await store.applyBatch(directory);
      const deliveries = shuffled([...rest, ...rest.filter(() => rnd() < 0.3)], rnd);
      const half = Math.floor(deliveries.length / 2);
      for (let i = 0; i < half; i += 250) await store.applyBatch(deliveries.slice(i, Math.min(i + 250, half)));
      // Channel 70 as a projection from before the count's lists has it (the same keys but
      // <base>:chk, the senders' sets and the marker): the writes from here on set its marker
      // at its newest message, and the count checks what is older one by one.
      const before = async (channelId: string) => {
        const base = new Keyspace(prefix).channel(APP, '7', channelId);
        const sent = await redis.keys(`${base.base.replace(/[{}[\]*?]/g, '\\$&')}:o:*`);
        await redis.del(base.chk, base.since, ...sent);
      };
      await before('70');
      for (let i = half; i < deliveries.length; i += 250) await store.applyBatch(deliveries.slice(i, Math.min(i + 250, deliveries.length)));
      for (const e of again) await store.applyBatch(rnd() < 0.3 ? [e, e] : [e]);
      // channel 72 as if no write had run since the upgrade: no marker, every member checked
      await before('72');
      const model = new CountModel({ mentionRetentionMs: retention }).apply([...setup, ...stream, ...again]);

      let nonZero = 0;
      for (const account of accounts) {
        const mine = (await store.channel.memberChannels(APP, account)).filter((c) => c.serverId === '7');
        expect(mine.map((c) => c.channelId)).toEqual(channels);
        const counts = await store.channel.countUnreadMentions(APP, account, mine, 0, now);
        const capped = await store.channel.countUnreadMentions(APP, account, mine, 5, now);
        for (const [i, c] of mine.entries()) {
          let paged = 0;
          let position = { time: now, skip: 0 };
          for (;;) {
            const page = await store.channel.unreadMentions({ app: APP, serverId: '7', channelId: c.channelId, account, roles: c.roles, position, limit: 7, now });
            paged += page.messages.length;
            if (!page.hasMore) break;
            position = page.next;
          }
          const expected = model.mentions(APP, '7', c.channelId, account, now).length;
          expect({ account, channel: c.channelId, count: counts[i], paged }).toEqual({ account, channel: c.channelId, count: expected, paged: expected });
          expect(capped[i]).toBe(Math.min(expected, 6));
          if (expected > 6) nonZero++;
        }
      }
      expect(nonZero).toBeGreaterThan(2);
    });
  });
});

describe('what the count checks one by one (store, real Redis)', () => {
  const fixture = privateRedis();
  let redis: Redis;
  beforeAll(() => (redis = fixture.redis));

  it('takes out the own, the recalled, the doubly targeted and the mentioned again, and counts the rest by ZCOUNT', async () => {
    const prefix = `k${uniq()}`;
    const store = new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: RETENTION });
    const t = Date.now() - 60_000;
    const mention = (id: number, fromAccount: string, targets: { all?: boolean; accids?: string[]; roles?: string[] }, status = 0, time = t + id) =>
      ({
        type: 'channel-mention',
        appId: APP,
        serverId: '3',
        channelId: '30',
        message: { msgIdServer: String(id), fromAccount, time, body: `m${id}`, status },
        mentionAll: targets.all === true,
        mentionAccids: targets.accids ?? [],
        mentionRoleIds: targets.roles ?? [],
      }) as unknown as UnreadEvent;
    await store.applyBatch([
      ...['ann', 'ben'].map((account) => ({ type: 'qchat-server-member-joined', appId: APP, serverId: '3', account })),
      { type: 'qchat-channel-created', appId: APP, serverId: '3', channelId: '30' },
      { type: 'qchat-role-member-added', appId: APP, serverId: '3', roleId: '8', account: 'ann' },
    ] as UnreadEvent[]);
    const count = async (account: string) => {
      const channels = (await store.channel.memberChannels(APP, account)).filter((c) => c.channelId === '30');
      return (await store.channel.countUnreadMentions(APP, account, channels, 0))[0];
    };
    const chk = new Keyspace(prefix).channel(APP, '3', '30').chk;
    await store.applyBatch([
      mention(1, 'ben', { all: true }), // ann's; ben's own
      mention(2, 'ann', { all: true }), // ben's; ann's own
      mention(3, 'ben', { all: true, accids: ['ann'], roles: ['8'] }), // ann's once, though in three of its sets
      mention(4, 'ben', { roles: ['8'] }), // ann's
      mention(5, 'ann', { accids: ['ben'] }), // ben's
      mention(6, 'ben', { all: true }), // ann's, recalled below
      mention(7, 'ben', { all: true }), // ann's, mentioned again below: from ann to ben
      mention(8, 'ben', { all: true }), // ann's, mentioned again below one second later
    ]);
    expect([await count('ann'), await count('ben')]).toEqual([6, 2]);
    expect(await redis.zrange(chk, 0, -1)).toEqual([`${String(t + 3).padStart(16, '0')}${'3'.padStart(20, '0')}`]);
    await store.applyBatch([
      { type: 'channel-message-updated', appId: APP, serverId: '3', channelId: '30', msgIdServer: '6', status: 1, updateTime: t + 100 },
      mention(7, 'ann', { accids: ['ben'] }),
      mention(8, 'ben', { all: true }, 0, t + 1_008),
    ]);
    // ann: 1, 3, 4, 8 (at its new time); ben: 2, 5, 7 (by name now)
    expect([await count('ann'), await count('ben')]).toEqual([4, 3]);
    expect(await redis.zcard(chk)).toBe(5); // 3; 6; 7 once (its time kept); 8 at both times
    // a later mention that recalls an indexed message
    await store.applyBatch([mention(4, 'ben', { roles: ['8'] }, 2)]);
    expect([await count('ann'), await count('ben')]).toEqual([3, 3]);
  });
});

describe('the summary of an account in 100 channels of 250 unread @all each (Redis work)', () => {
  const fixture = privateRedis();
  let redis: Redis;
  beforeAll(() => (redis = fixture.redis));

  it('reads no message: under 64 KB from Redis, one channel-count call for the 100 channels', async () => {
    const prefix = `s${uniq()}`;
    const store = new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: RETENTION });
    const t0 = Date.now() - 3_600_000;
    const events: UnreadEvent[] = [
      { type: 'account-registered', appId: APP, account: 'alice' },
      { type: 'qchat-server-member-joined', appId: APP, serverId: '9', account: 'alice' },
    ] as UnreadEvent[];
    let id = 1_000_000;
    for (let c = 0; c < 100; c++) {
      const channelId = String(500 + c);
      events.push({ type: 'qchat-channel-created', appId: APP, serverId: '9', channelId });
      for (let i = 0; i < 250; i++) {
        events.push({
          type: 'channel-mention',
          appId: APP,
          serverId: '9',
          channelId,
          message: { msgIdServer: String(++id), fromAccount: 'bob', time: t0 + i * 10, body: `hello everyone, message ${i} of channel ${channelId}` },
          mentionAll: true,
          mentionAccids: [],
          mentionRoleIds: [],
        } as unknown as UnreadEvent);
      }
    }
    for (let i = 0; i < events.length; i += 2_000) await store.applyBatch(events.slice(i, i + 2_000));
    const summaries = new SummaryService(store);
    const answer = await summaries.summary(APP, 'alice', '100');
    expect(answer.channels.total).toBe(100 * 200);
    const work = await redisWork(redis, () => summaries.summary(APP, 'alice', '100'));
    process.stderr.write(`summary, 100 channels x 250 @all: ${JSON.stringify(work)}\n`);
    expect(work.bytesOut).toBeLessThan(64 * 1024);
    // account-unread.lua and channel-count.lua; no channel-query (no page, no body)
    expect(work.byCommand.evalsha).toBe(2);
    // per channel the ack (ZSCORE), the marker (GET), a ZCOUNT per set (@all, the direct set)
    // and the two lists of members to check (ZRANGE, both empty): no member is read
    expect([work.byCommand.zscore, work.byCommand.get, work.byCommand.zcount, work.byCommand.zrange, work.byCommand.hmget]).toEqual([100, 100, 200, 200, undefined]);
  });
});
