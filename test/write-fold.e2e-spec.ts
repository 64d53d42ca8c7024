import Redis from 'ioredis';
import type { UnreadEvent } from '@app/contracts';
import { Keyspace, ProjectionStore } from '@app/store';
import { uniq } from './support/harness';
import { RedisServer } from './support/processes';
import { snapshot } from './support/snapshot';
import { prng } from './support/workload';

/**
 * Folding before Redis (libs/store/src/write.ts, docs/projections.md "The write path"): the
 * events of a batch that touch one projection become one write. Batches full of duplicates,
 * many messages per owner and peer, acks mixed in, shuffled, several batches in flight:
 * compared with in-memory models written here from the rules, not with the store.
 */
const APP = '1400000001';
const RETENTION = 7 * 24 * 3600 * 1000;

function shuffle<T>(rnd: () => number, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** Every event once, ~40% again, shuffled, cut into batches of 1..max. */
function deliveries<T>(rnd: () => number, stream: T[], max: number): T[][] {
  const all = shuffle(rnd, [...stream, ...stream.filter(() => rnd() < 0.4)]);
  const out: T[][] = [];
  for (let i = 0; i < all.length; ) {
    const n = 1 + Math.floor(rnd() * max);
    out.push(all.slice(i, i + n));
    i += n;
  }
  return out;
}

/** As the projector: four batches in flight, their writes folded together. */
async function applyFolded(store: ProjectionStore, batches: UnreadEvent[][]): Promise<void> {
  for (let i = 0; i < batches.length; i += 4) await Promise.all(batches.slice(i, i + 4).map((b) => store.applyBatch(b)));
}

const seedOf = (salt: number) => (process.env.FOLD_SEED ? Number(process.env.FOLD_SEED) : (Date.now() ^ salt) >>> 0);
function withSeed(seed: number, run: () => Promise<void>): Promise<void> {
  return run().catch((err: unknown) => {
    process.stderr.write(`write-fold test failed with seed ${seed} (rerun with FOLD_SEED=${seed})\n`);
    throw err;
  });
}

describe('folding a batch before Redis (store, real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url, { enableAutoPipelining: true });
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  const store = (prefix: string) => new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: RETENTION });
  const calls = (stats: string, name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);

  it('one-to-one: many messages per owner and peer, duplicates and acks in the same batches, count exactly', async () => {
    const seed = seedOf(0xf01d);
    await withSeed(seed, async () => {
      const rnd = prng(seed);
      const accounts = ['a', 'b', 'c', 'd'];
      const pick = () => accounts[Math.floor(rnd() * accounts.length)]!;
      const stream: UnreadEvent[] = [];
      for (let i = 0; i < 3_000; i++) {
        const [x, y] = [pick(), pick()];
        const time = 1_000 + Math.floor(rnd() * 300) * 10;
        if (rnd() < 0.8) stream.push({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: `m${i}`, from: x, to: y, time });
        else stream.push({ type: 'read-ack', scope: 'c2c', appId: APP, account: x, peer: y, readTime: time });
      }
      // the model: the read time of (owner, peer) is its highest ack; a message counts once if after it
      const read = new Map<string, number>();
      for (const e of stream) if (e.type === 'read-ack' && e.scope === 'c2c') read.set(`${e.account}/${e.peer}`, Math.max(read.get(`${e.account}/${e.peer}`) ?? -1, e.readTime));
      const unread = new Map<string, Set<string>>();
      for (const e of stream) {
        if (e.type !== 'message-sent' || e.scope !== 'c2c' || e.from === e.to) continue;
        const k = `${e.to}/${e.from}`;
        if (e.time > (read.get(k) ?? -1)) unread.set(k, (unread.get(k) ?? new Set()).add(e.msgId));
      }
      const count = (o: string, p: string) => unread.get(`${o}/${p}`)?.size ?? 0;

      const prefix = `c${uniq()}`;
      const s = store(prefix);
      await applyFolded(s, deliveries(rnd, stream, 300));
      const keys = new Keyspace(prefix);
      for (const o of accounts) {
        expect((await s.c2c.total(APP, o)).total).toBe(accounts.reduce((n, p) => n + count(o, p), 0));
        expect((await s.c2c.perPeer(APP, o, accounts)).counts).toEqual(accounts.map((p) => count(o, p)));
        for (const p of accounts) {
          expect((await redis.zrange(`${keys.c2c(APP, o)}:z:${p}`, 0, -1)).sort()).toEqual([...(unread.get(`${o}/${p}`) ?? [])].sort());
          const r = read.get(`${o}/${p}`);
          expect(await redis.hget(`${keys.c2c(APP, o)}:r`, p)).toBe(r === undefined ? null : String(r));
        }
      }
    });
  });

  it('one-to-one: a batch of one peer to one owner is one read-time check, one ZADD NX and two HINCRBYs', async () => {
    const s = store(`o${uniq()}`);
    const batch: UnreadEvent[] = Array.from({ length: 200 }, (_, i) => ({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: `m${i % 150}`, from: 'p', to: 'o', time: 1_000 + (i % 150) }));
    batch.push({ type: 'read-ack', scope: 'c2c', appId: APP, account: 'o', peer: 'p', readTime: 1_009 });
    await s.applyBatch([{ type: 'message-sent', scope: 'c2c', appId: APP, msgId: 'warm', from: 'x', to: 'y', time: 1 }]);
    await redis.config('RESETSTAT');
    await s.applyBatch(batch);
    const stats = await redis.info('commandstats');
    expect([calls(stats, 'hget'), calls(stats, 'zadd'), calls(stats, 'zremrangebyscore'), calls(stats, 'hincrby'), calls(stats, 'evalsha')]).toEqual([1, 1, 1, 2, 1]);
    // 150 distinct ids, the 10 at 1000..1009 read by the ack
    expect((await s.c2c.perPeer(APP, 'o', ['p'])).counts).toEqual([140]);
  });

  it('groups: runs of messages fold to maxima, with joins and acks between them, in any order', async () => {
    const seed = seedOf(0x6a0b);
    await withSeed(seed, async () => {
      const rnd = prng(seed);
      const groups = ['g1', 'g2'];
      const members = ['u1', 'u2', 'u3'];
      const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
      const setup = groups.flatMap((g): UnreadEvent[] => [
        { type: 'group-created', appId: APP, groupId: g, groupType: 'Public' },
        ...members.map((m): UnreadEvent => ({ type: 'group-member-joined', appId: APP, groupId: g, account: m, seq: 0 })),
      ]);
      const stream: UnreadEvent[] = [];
      for (let i = 0; i < 1_500; i++) {
        const groupId = pick(groups);
        const seq = 1 + Math.floor(rnd() * 400);
        if (rnd() < 0.7) stream.push({ type: 'message-sent', scope: 'group', appId: APP, groupId, from: pick(members), seq, msgId: `x${i}`, time: 1_000 + i });
        else stream.push({ type: 'read-ack', scope: 'group', appId: APP, groupId, account: pick(members), readSeq: seq });
      }
      const max = (f: (e: UnreadEvent) => number | undefined) => stream.reduce((m, e) => Math.max(m, f(e) ?? 0), 0);
      const prefix = `g${uniq()}`;
      const s = store(prefix);
      await s.applyBatch(setup);
      await applyFolded(s, deliveries(rnd, stream, 200));
      for (const g of groups) {
        const top = max((e) => (e.type === 'message-sent' && e.scope === 'group' && e.groupId === g ? e.seq : undefined));
        for (const m of members) {
          const own = max((e) => (e.type === 'message-sent' && e.scope === 'group' && e.groupId === g && e.from === m ? e.seq : undefined));
          const ack = max((e) => (e.type === 'read-ack' && e.scope === 'group' && e.groupId === g && e.account === m ? e.readSeq : undefined));
          const v = await s.group.memberView(APP, g, m);
          expect([v.maxSeq, v.readSeq, v.unread]).toEqual([top, Math.max(own, ack), Math.max(0, top - Math.max(own, ack))]);
        }
      }
    });
  });

  it('QChat acks and mentions: folded per channel and per account, equal to one call per event, and to the rules', async () => {
    const seed = seedOf(0xc4a7);
    await withSeed(seed, async () => {
      const rnd = prng(seed);
      const now = Date.now();
      const accounts = ['r1', 'r2', 'r3', 'r4'];
      const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
      const stream: UnreadEvent[] = [];
      for (let i = 0; i < 400; i++) {
        const channelId = pick(['20', '21']);
        const time = now - 100_000 + i * 100;
        const r = rnd();
        if (r < 0.5) {
          const from = pick(accounts);
          stream.push({
            type: 'channel-mention', appId: APP, serverId: '9', channelId,
            message: { msgIdServer: String(1000 + i), fromAccount: from, time, body: `b${i}` },
            mentionAccids: [pick(accounts), pick(accounts)], mentionAll: rnd() < 0.2,
          });
        } else if (r < 0.6) {
          stream.push({ type: 'channel-message-updated', appId: APP, serverId: '9', channelId, msgIdServer: String(1000 + Math.floor(rnd() * i)), status: rnd() < 0.5 ? 1 : 0, updateTime: time, body: `e${i}` });
        } else {
          stream.push({ type: 'read-ack', scope: 'channel', appId: APP, serverId: '9', channelId, account: pick(accounts), ackTime: time - Math.floor(rnd() * 50_000) });
        }
      }
      // mentions and updates keep their order per channel (one topic, the channel as key); acks come in any order
      const ordered = stream.filter((e) => e.type !== 'read-ack');
      const acks = stream.filter((e) => e.type === 'read-ack');
      const batches: UnreadEvent[][] = [];
      const shuffledAcks = shuffle(rnd, [...acks, ...acks.filter(() => rnd() < 0.4)]);
      for (let i = 0, j = 0; i < ordered.length || j < shuffledAcks.length; ) {
        const n = 1 + Math.floor(rnd() * 60);
        batches.push([...ordered.slice(i, i + n), ...shuffledAcks.slice(j, j + n)]);
        i += n;
        j += n;
      }
      const folded = `q${uniq()}`;
      const direct = `d${uniq()}`;
      for (const b of batches) await store(folded).applyBatch(b);
      for (const e of stream) await store(direct).apply(e);
      expect(await snapshot(redis, folded)).toEqual(await snapshot(redis, direct));

      const s = store(folded);
      const keys = new Keyspace(folded);
      for (const channelId of ['20', '21']) {
        const base = keys.channel(APP, '9', channelId);
        for (const a of accounts) {
          const times = acks.filter((e) => e.type === 'read-ack' && e.scope === 'channel' && e.channelId === channelId && e.account === a).map((e) => (e as { ackTime: number }).ackTime);
          expect(await redis.zscore(`${base}:ack`, a)).toBe(times.length ? String(Math.max(...times)) : null);
          // the rules: mentioned (directly or @all), not its own, not recalled, after the ack
          const recalled = new Map<string, number>();
          for (const e of ordered) {
            if (e.type === 'channel-message-updated' && e.channelId === channelId) {
              if (e.status === 1) recalled.set(e.msgIdServer, 1);
            }
          }
          const ack = times.length ? Math.max(...times) : -1;
          const expected = ordered
            .filter((e): e is Extract<UnreadEvent, { type: 'channel-mention' }> => e.type === 'channel-mention' && e.channelId === channelId)
            .filter((e) => e.message.fromAccount !== a && (e.mentionAll || (e.mentionAccids ?? []).includes(a)) && !recalled.has(e.message.msgIdServer) && e.message.time > ack)
            .sort((x, y) => y.message.time - x.message.time)
            .map((e) => Number(e.message.msgIdServer));
          const page = await s.channel.unreadMentions({ app: APP, serverId: '9', channelId, account: a, roles: [], position: { time: now, skip: 0 }, limit: 200, now });
          expect(page.messages.map((m) => (JSON.parse(m) as { msgIdServer: number }).msgIdServer)).toEqual(expected);
        }
      }
    });
  });
});
