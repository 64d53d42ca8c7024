import type Redis from 'ioredis';
import type { UnreadEvent } from '@app/contracts';
import { type ChannelKeys, Keyspace, ProjectionStore, padMsgId, renderFixedFields, renderMentionAnswer } from '@app/store';
import { CountModel } from './support/count-model';
import { uniq } from './support/harness';
import { privateRedis } from './support/private-redis';
import { deliveries, shuffled, withSeed } from './support/random';
import { snapshot } from './support/snapshot';

/**
 * Folding before Redis (libs/store/src/write.ts, docs/projections.md "The write path"): the
 * events of a batch that touch one projection become one write. Batches full of duplicates,
 * many messages per owner and peer, acks mixed in, shuffled, several batches in flight:
 * compared with the oracle (CountModel), not with the store.
 */
const APP = '1400000001';
const RETENTION = 7 * 24 * 3600 * 1000;


/** As the projector: four batches in flight, their writes folded together. */
async function applyFolded(store: ProjectionStore, batches: UnreadEvent[][]): Promise<void> {
  for (let i = 0; i < batches.length; i += 4) await Promise.all(batches.slice(i, i + 4).map((b) => store.applyBatch(b)));
}

describe('folding a batch before Redis (store, real Redis)', () => {
  const fixture = privateRedis();
  let redis: Redis;
  beforeAll(() => (redis = fixture.redis));

  const store = (prefix: string) => new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: RETENTION });
  const calls = (stats: string, name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);

  it('one-to-one: many messages per owner and peer, duplicates and acks in the same batches, count exactly', async () => {
    await withSeed('write-fold, one-to-one', async (rnd) => {
      const accounts = ['a', 'b', 'c', 'd'];
      const pick = () => accounts[Math.floor(rnd() * accounts.length)]!;
      const stream: UnreadEvent[] = [];
      for (let i = 0; i < 3_000; i++) {
        const [x, y] = [pick(), pick()];
        const time = 1_000 + Math.floor(rnd() * 300) * 10;
        if (rnd() < 0.8) stream.push({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: `m${i}`, from: x, to: y, time });
        else stream.push({ type: 'read-ack', scope: 'c2c', appId: APP, account: x, peer: y, readTime: time });
      }
      const model = new CountModel().apply(stream);
      const count = (o: string, p: string) => model.c2c(APP, o, p);

      const prefix = `c${uniq()}`;
      const s = store(prefix);
      await applyFolded(s, deliveries(rnd, stream, 300));
      const keys = new Keyspace(prefix);
      for (const o of accounts) {
        expect((await s.c2c.total(APP, o)).total).toBe(accounts.reduce((n, p) => n + count(o, p), 0));
        expect((await s.c2c.perPeer(APP, o, accounts)).counts).toEqual(accounts.map((p) => count(o, p)));
        for (const p of accounts) {
          expect((await redis.zrange(keys.c2c(APP, o).unread(p), 0, -1)).sort()).toEqual(model.c2cUnreadIds(APP, o, p));
          const r = model.c2cReadTime(APP, o, p);
          expect(await redis.hget(keys.c2c(APP, o).reads, p)).toBe(r === undefined ? null : String(r));
        }
      }
    });
  });

  it('recalls and noUnread fold with their messages (same batch, either order, redelivered): a recalled or noUnread message never counts', async () => {
    await withSeed('write-fold, recalls and noUnread', async (rnd) => {
      const accounts = ['a', 'b', 'c'];
      const pick = () => accounts[Math.floor(rnd() * accounts.length)]!;
      const groups = ['g1', 'g2'];
      const stream: UnreadEvent[] = [];
      for (const g of groups) {
        stream.push({ type: 'group-created', appId: APP, groupId: g, groupType: 'Work' });
        for (const a of accounts) stream.push({ type: 'group-member-joined', appId: APP, groupId: g, account: a, seq: 0 });
      }
      const seqs = new Map<string, number>();
      for (let i = 0; i < 2_000; i++) {
        const r = rnd();
        const [x, y] = [pick(), pick()];
        const time = 1_000 + Math.floor(rnd() * 200) * 10;
        const id = `m${Math.floor(rnd() * 600)}`; // ids repeat: a recall often meets its message
        if (r < 0.35) stream.push({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: id, from: x, to: y, time: 1_000 + Number(id.slice(1)) * 3, ...(rnd() < 0.15 ? { noUnread: true } : {}) });
        else if (r < 0.5) stream.push({ type: 'message-recalled', scope: 'c2c', appId: APP, msgId: id, from: x, to: y, time: 1_000 + Number(id.slice(1)) * 3 });
        else if (r < 0.55) stream.push({ type: 'read-ack', scope: 'c2c', appId: APP, account: x, peer: y, readTime: time });
        else {
          const g = groups[Math.floor(rnd() * groups.length)]!;
          const max = seqs.get(g) ?? 0;
          if (r < 0.8) {
            seqs.set(g, max + 1);
            stream.push({ type: 'message-sent', scope: 'group', appId: APP, msgId: `${g}-${max + 1}`, groupId: g, from: x, seq: max + 1, time, ...(rnd() < 0.15 ? { noUnread: true } : {}) });
          } else if (r < 0.95) {
            stream.push({ type: 'message-recalled', scope: 'group', appId: APP, groupId: g, seq: 1 + Math.floor(rnd() * (max + 5)) });
          } else stream.push({ type: 'read-ack', scope: 'group', appId: APP, groupId: g, account: x, readSeq: Math.floor(rnd() * (max + 1)) });
        }
      }
      // a message per conversation after every read time (acks stop at 2 990), never recalled:
      // without it a seed whose acks read every conversation to its end leaves nothing to count
      for (const x of accounts) for (const y of accounts) if (x !== y) stream.push({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: `tail-${x}${y}`, from: x, to: y, time: 5_000 });
      const model = new CountModel().apply(stream);
      const count = (o: string, p: string) => model.c2c(APP, o, p);
      const groupUnread = (g: string, a: string) => model.group(APP, g, a);
      const recalled = stream.filter((e) => e.type === 'message-recalled' && e.scope === 'c2c').map((e) => e);

      const prefix = `r${uniq()}`;
      const s = store(prefix);
      // every event once, many twice (redelivery), shuffled across batches: a message and its recall meet in every order
      await applyFolded(s, deliveries(rnd, stream.slice(2 + 2 * accounts.length), 200).map((b, i) => (i === 0 ? [...stream.slice(0, 2 + 2 * accounts.length), ...b] : b)));
      const c2cHeld = accounts.flatMap((o) => accounts.map((p) => count(o, p)));
      expect(c2cHeld.some((n) => n > 0)).toBe(true);
      // some recall meets a message it withdraws
      expect(recalled.some((r) => stream.some((e) => e.type === 'message-sent' && e.scope === 'c2c' && e.msgId === r.msgId && e.from === r.from && e.to === r.to && e.noUnread !== true))).toBe(true);
      for (const o of accounts) {
        expect((await s.c2c.perPeer(APP, o, accounts)).counts).toEqual(accounts.map((p) => count(o, p)));
        expect((await s.c2c.total(APP, o)).total).toBe(accounts.reduce((n, p) => n + count(o, p), 0));
      }
      for (const g of groups) for (const a of accounts) expect([g, a, (await s.group.memberView(APP, g, a)).unread]).toEqual([g, a, groupUnread(g, a)]);
      // and one call per event gives the same state (the fold changes nothing)
      const one = store(prefix.replace(/^r/, 'q'));
      for (const e of stream) await one.apply(e);
      for (const e of stream) await one.apply(e);
      for (const o of accounts) expect((await one.c2c.perPeer(APP, o, accounts)).counts).toEqual(accounts.map((p) => count(o, p)));
    });
  });

  it('groups: a batch recalling 5 000 seqs of one group is one write, and the member counts what is left', async () => {
    // a horizon above the group's 6 000 seqs: the member, at 0, is within it and its count exact
    const s = new ProjectionStore(redis, new Keyspace(`k${uniq()}`), { mentionRetentionMs: RETENTION, groupUncountedHorizon: 10_000 });
    const batch: UnreadEvent[] = [
      { type: 'group-created', appId: APP, groupId: 'big', groupType: 'Work' },
      { type: 'group-member-joined', appId: APP, groupId: 'big', account: 'm', seq: 0 },
    ];
    for (let seq = 1; seq <= 6_000; seq++) batch.push({ type: 'message-sent', scope: 'group', appId: APP, msgId: `b${seq}`, groupId: 'big', from: 'w', seq, time: 1_000 + seq });
    for (let seq = 2; seq <= 10_000; seq += 2) batch.push({ type: 'message-recalled', scope: 'group', appId: APP, groupId: 'big', seq });
    expect(s.plan(batch).writes.filter((w) => 'script' in w && w.script.name === 'group-messages')).toHaveLength(1);
    await s.applyBatch(batch);
    // 6 000 messages, the even seqs recalled (3 000 of them up to 6 000; the 2 000 above wait for their messages)
    expect((await s.group.memberView(APP, 'big', 'm')).unread).toBe(3_000);
  });

  it('one-to-one: a batch of one peer to one owner is one read-time check, one ZADD NX and two HINCRBYs', async () => {
    const s = store(`o${uniq()}`);
    const batch: UnreadEvent[] = Array.from({ length: 200 }, (_, i) => ({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: `m${i % 150}`, from: 'p', to: 'o', time: 1_000 + (i % 150) }));
    batch.push({ type: 'read-ack', scope: 'c2c', appId: APP, account: 'o', peer: 'p', readTime: 1_009 });
    await s.applyBatch([{ type: 'message-sent', scope: 'c2c', appId: APP, msgId: 'warm', from: 'x', to: 'y', time: 1 }]);
    await redis.config('RESETSTAT');
    await s.applyBatch(batch);
    const stats = await redis.info('commandstats');
    // the read time and the tombstone marker in one HMGET, no EXISTS
    expect([calls(stats, 'hmget'), calls(stats, 'exists'), calls(stats, 'zadd'), calls(stats, 'zremrangebyscore'), calls(stats, 'hincrby'), calls(stats, 'evalsha')]).toEqual([1, 0, 1, 1, 2, 1]);
    // 150 distinct ids, the 10 at 1000..1009 read by the ack
    expect((await s.c2c.perPeer(APP, 'o', ['p'])).counts).toEqual([140]);
  });

  it('one-to-one: a write of one message from one peer (its compact form) keeps every rule: tombstones, the read time, redelivery', async () => {
    const s = store(`c${uniq()}`);
    const sent = (msgId: string, time: number): UnreadEvent => ({ type: 'message-sent', scope: 'c2c', appId: APP, msgId, from: 'p', to: 'o', time });
    const count = async () => [(await s.c2c.perPeer(APP, 'o', ['p'])).counts[0], (await s.c2c.total(APP, 'o')).total];
    await s.applyBatch([{ type: 'message-recalled', scope: 'c2c', appId: APP, msgId: 'm1', from: 'p', to: 'o', time: 100 }]);
    await s.applyBatch([sent('m1', 100)]); // recalled before it arrived
    expect(await count()).toEqual([0, 0]);
    await s.applyBatch([sent('m2', 150)]);
    await s.applyBatch([sent('m2', 150)]); // redelivered
    expect(await count()).toEqual([1, 1]);
    await s.applyBatch([{ type: 'read-ack', scope: 'c2c', appId: APP, account: 'o', peer: 'p', readTime: 200 }]);
    await s.applyBatch([sent('m3', 200)]); // at the read time
    expect(await count()).toEqual([0, 0]);
    await s.applyBatch([sent('m4', 201)]);
    await s.applyBatch([sent('m4', 201)]);
    await s.applyBatch([{ type: 'message-sent', scope: 'c2c', appId: APP, msgId: 'm5', from: 'q', to: 'o', time: 50 }]);
    expect(await count()).toEqual([1, 2]);
  });

  it('one-to-one: every peer of an owner\'s read time and tombstones in one HMGET (1 000 fields a call), recalls kept for later batches', async () => {
    const s = store(`h${uniq()}`);
    const peers = Array.from({ length: 1_500 }, (_, i) => `p${i}`);
    // earlier batch: one message from each peer, and a recall of p0's second message before it arrives
    await s.applyBatch([
      ...peers.map((peer, i): UnreadEvent => ({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: `a${i}`, from: peer, to: 'o', time: 2_000 })),
      { type: 'message-recalled', scope: 'c2c', appId: APP, msgId: 'late', from: 'p0', to: 'o', time: 3_000 },
    ]);
    await redis.config('RESETSTAT');
    // one batch, one owner, 1 500 peers: each acked at 2 000 (reads its message), and the recalled message arriving
    await s.applyBatch([
      ...peers.map((peer): UnreadEvent => ({ type: 'read-ack', scope: 'c2c', appId: APP, account: 'o', peer, readTime: 2_000 })),
      { type: 'message-sent', scope: 'c2c', appId: APP, msgId: 'late', from: 'p0', to: 'o', time: 3_000 },
      { type: 'message-sent', scope: 'c2c', appId: APP, msgId: 'new', from: 'p1', to: 'o', time: 3_000 },
    ]);
    const stats = await redis.info('commandstats');
    // two fields per peer (read time, tombstones): 3 000 fields, three HMGETs
    expect([calls(stats, 'hmget'), calls(stats, 'hget'), calls(stats, 'hexists')]).toEqual([3, 0, 0]);
    expect(await s.c2c.total(APP, 'o')).toEqual({ registered: false, total: 1 });
    expect((await s.c2c.perPeer(APP, 'o', ['p0', 'p1', 'p2'])).counts).toEqual([0, 1, 0]);
    // a tombstone list is no peer
    expect((await s.c2c.describe(APP, 'o')).peers.map((p) => p.peer)).toEqual(peers.slice().sort());
  });

  it('one-to-one: a tombstone goes once the read time reaches its message, in any order of the recall, the ack and the message', async () => {
    const recall: UnreadEvent = { type: 'message-recalled', scope: 'c2c', appId: APP, msgId: 'm1', from: 'p', to: 'o', time: 100 };
    const later: UnreadEvent = { type: 'message-recalled', scope: 'c2c', appId: APP, msgId: 'm2', from: 'p', to: 'o', time: 300 };
    const sent = (msgId: string, time: number): UnreadEvent => ({ type: 'message-sent', scope: 'c2c', appId: APP, msgId, from: 'p', to: 'o', time });
    const ack: UnreadEvent = { type: 'read-ack', scope: 'c2c', appId: APP, account: 'o', peer: 'p', readTime: 200 };
    const events = [recall, later, sent('m1', 100), sent('m2', 300), ack];
    const orders = [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 3, 1], [0, 4, 2, 1, 3], [3, 4, 1, 0, 2]];
    for (const order of orders) {
      const s = store(`t${uniq()}`);
      // each event its own batch, then all of them again (redelivery)
      for (const i of order) await s.applyBatch([events[i]!]);
      await s.applyBatch(order.map((i) => events[i]!));
      expect((await s.c2c.perPeer(APP, 'o', ['p'])).counts).toEqual([0]);
      // m1 (100) is at or before the read time (200): no tombstone left; m2 (300) keeps its
      expect(await s.c2c.recalled(APP, 'o', 'p')).toEqual([{ msgId: 'm2', time: 300 }]);
      await s.applyBatch([{ ...ack, readTime: 300 }]);
      expect(await s.c2c.recalled(APP, 'o', 'p')).toEqual([]);
      expect(await redis.hgetall(s.keys.c2c(APP, 'o').reads)).toEqual({ p: '300' });
      await s.applyBatch(order.map((i) => events[i]!)); // redelivered after the prune: nothing counts
      expect((await s.c2c.total(APP, 'o')).total).toBe(0);
    }
  });

  it('groups: runs of messages fold to maxima, with joins and acks between them, in any order', async () => {
    await withSeed('write-fold, group runs', async (rnd) => {
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
      const model = new CountModel().apply([...setup, ...stream]);
      const prefix = `g${uniq()}`;
      const s = store(prefix);
      await s.applyBatch(setup);
      await applyFolded(s, deliveries(rnd, stream, 200));
      for (const g of groups) {
        for (const m of members) {
          const { newest, position } = model.groupPosition(APP, g, m);
          const v = await s.group.memberView(APP, g, m);
          expect([v.maxSeq, v.readSeq, v.unread]).toEqual([newest, position, model.group(APP, g, m)]);
        }
      }
    });
  });

  it('QChat acks and mentions: folded per channel and per account, equal to one call per event, and to the rules', async () => {
    await withSeed('write-fold, QChat', async (rnd) => {
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
      const shuffledAcks = shuffled([...acks, ...acks.filter(() => rnd() < 0.4)], rnd);
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
      const model = new CountModel({ mentionRetentionMs: RETENTION }).apply(stream);
      for (const channelId of ['20', '21']) {
        const base = keys.channel(APP, '9', channelId);
        for (const a of accounts) {
          const times = acks.filter((e) => e.type === 'read-ack' && e.scope === 'channel' && e.channelId === channelId && e.account === a).map((e) => (e as { ackTime: number }).ackTime);
          expect(await redis.zscore(base.ack, a)).toBe(times.length ? String(Math.max(...times)) : null);
          const expected = model.mentions(APP, '9', channelId, a, now).map(Number);
          const page = await s.channel.unreadMentions({ app: APP, serverId: '9', channelId, account: a, roles: [], position: { time: now, skip: 0 }, limit: 200, now });
          expect(page.messages.map((m) => (JSON.parse(m) as { msgIdServer: number }).msgIdServer)).toEqual(expected);
        }
      }
    });
  });

  it('QChat mentions: the answer and record a mention brings (stored as is when it is new) are what the script renders and merges', async () => {
    // channel-message.lua stores a new mention's record and answer as the store renders them
    // (qchat-wire.ts renderMentionAnswer), and renders and merges itself when the message has a
    // record already: redelivering each mention takes the second path, which must give the same bytes.
    const now = Date.now();
    const texts = ['', 'plain', 'q"uote\\back/slash', 'ctl\x00\x01\x08\x0c\n\r\t\x1f\x7f end', '😀 é 中文', 'lone \ud800 surrogate', '{"json":[1,2]}'];
    const mentions: UnreadEvent[] = texts.flatMap((t, i) => [
      {
        type: 'channel-mention', appId: APP, serverId: '9', channelId: '30',
        message: { msgIdServer: String(5000 + 2 * i), fromAccount: 'w1', fromNick: t, time: now - 1000 + i, updateTime: now - 500 + i, status: i % 3 === 2 ? 10001 : 0, body: t, ext: texts[(i + 3) % texts.length], attach: t },
        mentionAccids: ['w2'],
      },
      {
        type: 'channel-mention', appId: APP, serverId: '9', channelId: '30',
        message: { msgIdServer: String(5001 + 2 * i), fromAccount: 'w1', time: now - 1000 + i, ...(i % 2 ? { body: t } : { ext: t }) },
        mentionAll: true,
      },
    ]);
    const prefix = `m${uniq()}`;
    const base = new Keyspace(prefix).channel(APP, '9', '30');
    await store(prefix).applyBatch(mentions);
    const read = async () => ({ out: await redis.hgetallBuffer(base.out), upd: Object.fromEntries(Object.entries(await redis.hgetall(base.upd)).map(([k, v]) => [k, JSON.parse(v) as unknown])) });
    const fresh = await read();
    expect(Object.keys(fresh.out)).toHaveLength(mentions.length);
    await store(prefix).applyBatch(mentions);
    await store(prefix).applyBatch([...mentions].reverse());
    const again = await read();
    expect(again.upd).toEqual(fresh.upd);
    for (const [id, bytes] of Object.entries(fresh.out)) expect(again.out[id]!.equals(bytes)).toBe(true);
    // and the page is the messages as the vendor serialises them
    const page = await store(prefix).channel.unreadMentions({ app: APP, serverId: '9', channelId: '30', account: 'w2', roles: [], position: { time: now, skip: 0 }, limit: 200, now });
    expect(page.messages).toHaveLength(mentions.length);
    for (const m of page.messages) expect(JSON.stringify(JSON.parse(m))).toBe(m);
  });

  it('QChat mentions: an edit renders the same whether it comes after its mention, before it or in its batch; a recall drops the fixed fields', async () => {
    const now = Date.now();
    const fixed = renderFixedFields({ fromAccount: 'w1', fromNick: 'n', fromClientType: 'WEB', time: now - 1000, type: 0, attach: '', msgIdClient: 'c', mentionedAll: 0 });
    const id = padMsgId('42');
    const mention: UnreadEvent = {
      type: 'channel-mention', appId: APP, serverId: '9', channelId: '31',
      message: { msgIdServer: '42', fromAccount: 'w1', fromNick: 'n', fromClientType: 'WEB', time: now - 1000, type: 0, attach: '', msgIdClient: 'c', body: 'old' },
      mentionAccids: ['w2'],
    };
    const edit: UnreadEvent = { type: 'channel-message-updated', appId: APP, serverId: '9', channelId: '31', msgIdServer: '42', status: 0, updateTime: now - 500, body: 'edited "quoted"\n' };
    const expected = renderMentionAnswer(id, fixed, '0', String(now - 500), 'edited "quoted"\n', '');
    const orders = [[[mention], [edit]], [[edit], [mention]], [[mention, edit]], [[edit, mention], [mention]]];
    const bases: ChannelKeys[] = [];
    for (const batches of orders) {
      const prefix = `v${uniq()}`;
      for (const b of batches) await store(prefix).applyBatch(b);
      const base = new Keyspace(prefix).channel(APP, '9', '31');
      bases.push(base);
      expect(await redis.hget(base.out, id)).toBe(expected);
      expect(JSON.parse(expected)).toMatchObject({ msgIdServer: 42, body: 'edited "quoted"\n', updateTime: now - 500, status: 0 });
    }
    // recalled: out of the answers, and the record keeps no fixed fields
    const prefix = `v${uniq()}`;
    await store(prefix).applyBatch([mention]);
    await store(prefix).applyBatch([{ type: 'channel-message-updated', appId: APP, serverId: '9', channelId: '31', msgIdServer: '42', status: 1, updateTime: now - 400 }]);
    const base = new Keyspace(prefix).channel(APP, '9', '31');
    expect(await redis.hget(base.out, id)).toBeNull();
    expect(await redis.hget(base.tgt, id)).toBeNull();
    expect(Object.keys(JSON.parse((await redis.hget(base.upd, id))!) as object)).not.toContain('f');
  });

  it('batches of the scale workload: thousands of senders in one group, of acks and mentions in one channel, apply whole', async () => {
    // Each of these was one Redis or JavaScript call too many arguments: a Lua unpack of over
    // 8000 values, a folded call spread into more arguments than a JavaScript call takes.
    const s = store(`z${uniq()}`);
    const senders = 9_000;
    const group: UnreadEvent[] = [
      { type: 'group-created', appId: APP, groupId: 'huge', groupType: 'Public' },
      { type: 'group-member-joined', appId: APP, groupId: 'huge', account: 'reader', seq: 0 },
    ];
    for (let i = 1; i <= senders; i++) group.push({ type: 'group-member-joined', appId: APP, groupId: 'huge', account: `s${i}`, seq: 0 });
    for (let i = 1; i <= senders; i++) group.push({ type: 'message-sent', scope: 'group', appId: APP, msgId: `h${i}`, groupId: 'huge', from: `s${i}`, seq: i, time: 1_000 + i });
    await s.applyBatch(group);
    // a member's own message reads the group up to it: s<i> has the messages after seq i
    expect((await s.group.memberView(APP, 'huge', 'reader')).unread).toBe(senders);
    for (const i of [1, 1_000, 1_001, 4_500, 8_999, senders]) expect([i, (await s.group.memberView(APP, 'huge', `s${i}`)).unread]).toEqual([i, senders - i]);

    const now = Date.now();
    const acks: UnreadEvent[] = [];
    for (let i = 0; i < 9_000; i++) acks.push({ type: 'read-ack', scope: 'channel', appId: APP, serverId: '7', channelId: '70', account: `q${i}`, ackTime: now - 60_000 + i });
    const mentions: UnreadEvent[] = [];
    for (let i = 0; i < 12_000; i++) {
      mentions.push({
        type: 'channel-mention', appId: APP, serverId: '7', channelId: '71',
        message: { msgIdServer: String(10_000 + i), fromAccount: 'boss', time: now - 50_000 + i, body: `hey ${i}` },
        mentionAccids: [`q${i % 3_000}`],
      });
    }
    await s.applyBatch([...acks, ...mentions]);
    const keys = s.keys;
    expect(await redis.zcard(keys.channel(APP, '7', '70').ack)).toBe(9_000);
    expect(await redis.zscore(keys.channel(APP, '7', '70').ack, 'q8999')).toBe(String(now - 60_000 + 8_999));
    expect(await redis.zcard(keys.channel(APP, '7', '71').ix)).toBe(12_000);
    // q7 is named by the mentions i = 7, 3007, 6007, 9007: newest first
    const page = await s.channel.unreadMentions({ app: APP, serverId: '7', channelId: '71', account: 'q7', roles: [], position: { time: now, skip: 0 }, limit: 200, now });
    expect(page.messages.map((m) => (JSON.parse(m) as { msgIdServer: number }).msgIdServer)).toEqual([19_007, 16_007, 13_007, 10_007]);
  });
});
