import type Redis from 'ioredis';
import type { GroupMessageSent, UnreadEvent } from '@app/contracts';
import { BatchWriter, DirectWriter, Keyspace, ProjectionStore, TYPE_CLASS, type Write } from '@app/store';
import { CountModel } from './support/count-model';
import { uniq } from './support/harness';
import { privateRedis } from './support/private-redis';
import { prng } from './support/random';

/**
 * The group projection applied directly (no broker) on a private redis-server: the cost of
 * a group message in Redis commands, every interleaving of the three streams, redelivery,
 * dismissal and account deletion.
 */
const APP = '1400000001';

describe('group projection (store, real Redis)', () => {
  const fixture = privateRedis();
  let redis: Redis;
  beforeAll(() => (redis = fixture.redis));

  function store(prefix = `g${uniq()}`, groupUncountedHorizon?: number): ProjectionStore {
    return new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: 60_000, groupUncountedHorizon });
  }

  const created = (groupId: string, groupType = 'Public'): UnreadEvent =>
    ({ type: 'group-created', appId: APP, groupId, groupType }) as UnreadEvent;
  const joined = (groupId: string, account: string, seq?: number): UnreadEvent => ({
    type: 'group-member-joined',
    appId: APP,
    groupId,
    account,
    ...(seq === undefined ? {} : { seq }),
  });
  const left = (groupId: string, account: string): UnreadEvent => ({
    type: 'group-member-left',
    appId: APP,
    groupId,
    account,
  });
  const msg = (groupId: string, from: string, seq: number): GroupMessageSent => ({
    type: 'message-sent',
    scope: 'group',
    appId: APP,
    msgId: `${groupId}-${seq}`,
    groupId,
    from,
    seq,
    time: 1_700_000_000_000 + seq,
  });
  const ack = (groupId: string, account: string, readSeq: number): UnreadEvent => ({
    type: 'read-ack',
    scope: 'group',
    appId: APP,
    groupId,
    account,
    readSeq,
  });
  const set = (groupId: string, account: string, readSeq: number, maxSeq?: number): UnreadEvent => ({
    type: 'group-unread-set',
    appId: APP,
    groupId,
    account,
    readSeq,
    ...(maxSeq === undefined ? {} : { maxSeq }),
  });

  async function applyInOrder(s: ProjectionStore, events: UnreadEvent[]): Promise<void> {
    for (const e of events) await s.apply(e);
  }

  /** Calls per command since the last CONFIG RESETSTAT (the stats connection's own commands left out). */
  async function commandStats(): Promise<Record<string, number>> {
    const info = await redis.info('commandstats');
    const out: Record<string, number> = {};
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (/^(info|config)(\||$)/.test(m[1]!)) continue;
      out[m[1]!] = Number(m[2]);
    }
    return out;
  }

  async function costOf(
    s: ProjectionStore,
    events: UnreadEvent[],
  ): Promise<Record<string, number>> {
    await redis.config('RESETSTAT');
    await s.applyAll(events);
    return commandStats();
  }

  it('costs the same Redis commands per group message, read ack and override for 10 and 100 000 members', async () => {
    const s = store();
    const small = 'small';
    const big = 'big';
    await s.applyAll([created(small), created(big)]);
    for (let i = 0; i < 10; i++) await s.apply(joined(small, `u${i}`, 0));
    for (let start = 0; start < 100_000; start += 5_000) {
      await s.applyAll(Array.from({ length: 5_000 }, (_, i) => joined(big, `u${start + i}`, 0)));
    }
    // type, name, state and one record per member
    expect(await redis.hlen(s.keys.group(APP, small).state)).toBe(3 + 10);
    expect(await redis.hlen(s.keys.group(APP, big).state)).toBe(3 + 100_000);
    // Warm the script cache (the first call of each script is an EVAL) so both measurements run EVALSHA.
    await applyInOrder(s, [
      created('warm'),
      msg('warm', 'x', 1),
      ack('warm', 'x', 1),
      set('warm', 'x', 1),
    ]);
    await s.applyAll([msg(small, 'u1', 1), msg(big, 'u1', 1)]);

    const perEvent = [
      (g: string) => msg(g, 'u2', 2),
      (g: string) => msg(g, 'outsider', 3),
      (g: string) => ack(g, 'u3', 2),
      (g: string) => set(g, 'u4', 1),
    ];
    for (const make of perEvent) {
      const costSmall = await costOf(s, [make(small)]);
      const costBig = await costOf(s, [make(big)]);
      expect(costBig).toEqual(costSmall);
      expect(costSmall.evalsha).toBe(1);
      const total = Object.values(costSmall).reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(0);
      expect(total).toBeLessThanOrEqual(6);
    }
    expect(await s.group.memberView(APP, big, 'u7')).toMatchObject({
      maxSeq: 3,
      unread: 3,
      member: true,
    });
    expect(await s.group.memberView(APP, small, 'u7')).toMatchObject({
      maxSeq: 3,
      unread: 3,
      member: true,
    });
  }, 120_000);

  /** Every interleaving of streams that keeps each stream's own order (a random sample of them). */
  function interleave(streams: UnreadEvent[][], rnd: () => number): UnreadEvent[] {
    const pos = streams.map(() => 0);
    const out: UnreadEvent[] = [];
    for (;;) {
      const open = streams.map((s, i) => i).filter((i) => pos[i]! < streams[i]!.length);
      if (open.length === 0) return out;
      const i = open[Math.floor(rnd() * open.length)]!;
      out.push(streams[i]![pos[i]!]!);
      pos[i]! += 1;
    }
  }

  it('gives the same unread for every member in any interleaving of the three streams, with redelivered suffixes', async () => {
    const g = 'mixed';
    const directory = [
      created(g),
      joined(g, 'ann', 0),
      joined(g, 'bob', 0),
      joined(g, 'cat', 3),
      left(g, 'bob'),
      joined(g, 'dan', 5),
      joined(g, 'bob', 6),
    ];
    const messages = [
      msg(g, 'ann', 1),
      msg(g, 'ann', 2),
      msg(g, 'bob', 3),
      msg(g, 'cat', 4),
      msg(g, 'dan', 6),
      msg(g, 'eve', 5),
      msg(g, 'ann', 7),
      msg(g, 'eve', 8),
    ];
    const acks = [
      ack(g, 'ann', 2),
      set(g, 'ann', 3),
      ack(g, 'cat', 5),
      ack(g, 'dan', 2),
      set(g, 'dan', 4),
      ack(g, 'bob', 7),
    ];
    const accounts = ['ann', 'bob', 'cat', 'dan', 'eve'];
    // Expected (by hand): max 8. ann: own 7, ack replaced by 3 → read 7 → 1. bob: re-joined at 6,
    // acked 7 → 1. cat: joined 3, own 4, ack 5 → 3. dan: joined 5, own 6, set 4 → read 6 → 2. eve: not a member.
    const expected = { ann: 1, bob: 1, cat: 3, dan: 2, eve: 0 };

    const seen = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = prng(seed);
      // Redelivery replays a suffix of a stream in order after it was applied.
      const redeliver = (s: UnreadEvent[]) => [...s, ...s.slice(Math.floor(rnd() * s.length))];
      const order = interleave([redeliver(directory), redeliver(messages), redeliver(acks)], rnd);
      seen.add(order.map((e) => JSON.stringify(e)).join('|'));
      const s = store();
      await applyInOrder(s, order);
      const views = await Promise.all(accounts.map((a) => s.group.memberView(APP, g, a)));
      const unread = Object.fromEntries(
        views.map((v, i) => [accounts[i], v.member ? v.unread : 0]),
      );
      expect({ seed, unread }).toEqual({ seed, unread: expected });
      expect(views.map((v) => v.member)).toEqual([true, true, true, true, false]);
    }
    expect(seen.size).toBe(40);
  });

  it('lets an override with maxSeq supersede earlier joins and own messages, in any interleaving', async () => {
    const g = 'fenced';
    const directory = [created(g), joined(g, 'ann', 0), joined(g, 'fay', 4), joined(g, 'gus', 0)];
    const messages = [
      msg(g, 'x', 1),
      msg(g, 'x', 2),
      msg(g, 'ann', 3),
      msg(g, 'x', 4),
      msg(g, 'x', 5),
      msg(g, 'fay', 6),
      msg(g, 'gus', 7),
      msg(g, 'x', 8),
      msg(g, 'ann', 9),
      msg(g, 'x', 10),
    ];
    const acks = [
      ack(g, 'ann', 1),
      set(g, 'ann', 2, 5), // own 3 is before the override, own 9 after
      set(g, 'fay', 1, 8), // joined at 4 and own 6: both before the override
      set(g, 'gus', 2), // no maxSeq: the join and own message at 7 stay floors
    ];
    // max 10. ann: ack 2, own 9 > fence 5 → read 9 → 1. fay: ack 1, join 4 and own 6 ≤ fence 8
    // → read 1 → 9. gus: no fence, own 7 → read 7 → 3.
    const expected = { ann: 1, fay: 9, gus: 3 };
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = prng(seed);
      const redeliver = (s: UnreadEvent[]) => [...s, ...s.slice(Math.floor(rnd() * s.length))];
      const s = store();
      await applyInOrder(s, interleave([redeliver(directory), redeliver(messages), redeliver(acks)], rnd));
      const views = await Promise.all(['ann', 'fay', 'gus'].map((a) => s.group.memberView(APP, g, a)));
      expect({ seed, unread: { ann: views[0]!.unread, fay: views[1]!.unread, gus: views[2]!.unread } }).toEqual({
        seed,
        unread: expected,
      });
    }
  });

  it('ignores duplicated and reordered messages and acks (maxima)', async () => {
    const s = store();
    const g = 'dups';
    await applyInOrder(s, [
      created(g),
      joined(g, 'ann', 0),
      msg(g, 'x', 3),
      msg(g, 'x', 1),
      msg(g, 'x', 3),
      msg(g, 'x', 2),
      ack(g, 'ann', 2),
      ack(g, 'ann', 1),
      ack(g, 'ann', 2),
    ]);
    expect(await s.group.memberView(APP, g, 'ann')).toEqual({
      groupId: g,
      exists: true,
      type: 'Public',
      name: '',
      maxSeq: 3,
      member: true,
      readSeq: 2,
      unread: 1,
    });
  });

  it('takes the group max as join seq when the join carries none', async () => {
    const s = store();
    const g = 'noseq';
    await applyInOrder(s, [
      created(g),
      msg(g, 'x', 1),
      msg(g, 'x', 2),
      joined(g, 'ann'),
      msg(g, 'x', 3),
    ]);
    expect(await s.group.memberView(APP, g, 'ann')).toMatchObject({
      member: true,
      readSeq: 2,
      unread: 1,
    });
  });

  it('answers a dismissed group as absent, drops its member records, and keeps it absent under late events', async () => {
    const s = store();
    const g = 'gone';
    await applyInOrder(s, [
      { ...created(g), name: 'Gone' } as UnreadEvent,
      joined(g, 'ann', 0),
      msg(g, 'x', 1),
    ]);
    await s.apply({ type: 'group-dismissed', appId: APP, groupId: g });
    await applyInOrder(s, [msg(g, 'x', 2), ack(g, 'ann', 1)]);
    expect(await redis.hgetall(s.keys.group(APP, g).state)).toEqual({
      state: '0',
      max: '2',
      type: 'Public',
      name: 'Gone',
      'm:ann': '0:0:1:0',
      'm:x': '0:0:0:2',
    });
    expect(await s.group.memberView(APP, g, 'ann')).toMatchObject({ exists: false, member: false });
    expect((await s.group.joinedGroups(APP, 'ann')).groups).toEqual([]);
  });

  it('removes a dismissed group from the index of every account with a record in it (left members too), keeps a re-join later in the batch, and survives a crash between its steps', async () => {
    const s = store();
    const g = 'dis';
    const index = (account: string) => redis.zrange(s.keys.member(APP, account).groups, 0, -1, 'WITHSCORES');
    await applyInOrder(s, [created(g), created('other'), joined(g, 'ann', 0), joined(g, 'bob', 0), joined(g, 'cy', 0), joined('other', 'ann', 0), left(g, 'bob'), msg(g, 'dee', 1)]);
    expect(await index('bob')).toEqual([g, '0']);
    // a redelivered batch: a join, the dismissal, the group created again and cy joining it
    const batch: UnreadEvent[] = [joined(g, 'eve', 1), { type: 'group-dismissed', appId: APP, groupId: g }, created(g), joined(g, 'cy', 2)];
    // the first attempt fails at the dismissal script (after its ZREMs): a crash between the steps
    class CrashingWriter extends BatchWriter {
      override run(writes: readonly Write[], after?: readonly Write[]): Promise<unknown[]> {
        if (writes.some((w) => 'script' in w && w.script.name === 'group-dismissed')) return Promise.reject(new Error('crash before the dismissal script'));
        return super.run(writes, after);
      }
    }
    const crashing = new ProjectionStore(redis, s.keys, s.options, new CrashingWriter(redis));
    await expect(crashing.applyBatch(batch)).rejects.toThrow('crash before the dismissal script');
    expect(await redis.hget(s.keys.group(APP, g).state, 'm:ann')).not.toBeNull();
    for (const account of ['ann', 'bob', 'cy', 'eve']) expect({ account, index: (await index(account)).includes(g) }).toEqual({ account, index: false });
    // delivered again, in full, twice
    await s.applyBatch(batch);
    await s.applyBatch(batch);
    expect(await index('ann')).toEqual(['other', String(TYPE_CLASS.Public)]);
    for (const account of ['bob', 'dee', 'eve']) expect({ account, index: await index(account) }).toEqual({ account, index: [] });
    expect(await index('cy')).toEqual([g, String(TYPE_CLASS.Public)]);
    expect(await redis.hgetall(s.keys.group(APP, g).state)).toEqual({ state: '1', max: '1', type: 'Public', name: '', 'm:cy': '1:2:0:0' });
    expect((await s.group.joinedGroups(APP, 'cy')).groups.map((v) => v.groupId)).toEqual([g]);
    expect((await s.group.joinedGroups(APP, 'ann')).groups.map((v) => v.groupId)).toEqual(['other']);
  });

  it("writes a join's index entry with its group's type class after the group-side writes, in event order, and survives a crash between the two steps", async () => {
    const s = store();
    const index = (account: string) => redis.zrange(s.keys.member(APP, account).groups, 0, -1, 'WITHSCORES');
    // one batch: created then joined (the join's script sees the type), a join before its
    // group exists, and one group joined, left and joined again (the last entry wins)
    const batch: UnreadEvent[] = [created('w', 'Work'), joined('w', 'ann', 0), joined('early', 'ann', 0), created('r', 'Meeting'), joined('r', 'ann', 0), left('r', 'ann'), joined('r', 'ann', 1), created('x'), joined('x', 'ann', 0), left('x', 'ann')];
    // the first attempt fails at the second step (the index writes): a crash between the steps
    class CrashingWriter extends BatchWriter {
      override run(writes: readonly Write[], after?: readonly Write[]): Promise<unknown[]> {
        if (writes.some((w) => 'command' in w && w.command === 'ZADD' && w.args[0] === 'XX')) return Promise.reject(new Error('crash before the index writes'));
        return super.run(writes, after);
      }
    }
    const crashing = new ProjectionStore(redis, s.keys, s.options, new CrashingWriter(redis));
    await expect(crashing.applyBatch(batch)).rejects.toThrow('crash before the index writes');
    expect(await redis.hget(s.keys.group(APP, 'w').state, 'm:ann')).toBe('1:0:0:0');
    // the first step's entries: members of unknown type, left
    expect(await index('ann')).toEqual(['x', '0', 'early', '1', 'r', '1', 'w', '1']);
    // delivered again, twice
    await s.applyBatch(batch);
    await s.applyBatch(batch);
    expect(await index('ann')).toEqual(['x', '0', 'early', '1', 'w', String(TYPE_CLASS.Work), 'r', String(TYPE_CLASS.Meeting)]);
    expect(TYPE_CLASS.Work).toBe(TYPE_CLASS.Private);
    expect(TYPE_CLASS.Meeting).toBe(TYPE_CLASS.ChatRoom);
    // the group created later: the entry stays of unknown type, and reads classify it
    await s.applyBatch([created('early', 'Private')]);
    const page = await s.group.joinedPage(APP, 'ann', { type: 'Work', withHuge: false, offset: 0, read: false, unread: false });
    expect(page).toEqual({ registered: false, total: 0, groups: [] }); // ann is not registered
    await s.applyBatch([{ type: 'account-registered', appId: APP, account: 'ann' }]);
    expect(await s.group.joinedPage(APP, 'ann', { type: 'Work', withHuge: false, offset: 0, read: false, unread: false })).toEqual({
      registered: true,
      total: 2,
      groups: [{ groupId: 'early', view: expect.objectContaining({ groupId: 'early', type: 'Private' }) as unknown }, { groupId: 'w' }],
    });
  });

  it('lists joined groups by id, skipping left and dismissed ones', async () => {
    const s = store();
    await applyInOrder(s, [
      { ...created('b', 'Work'), name: 'Bee' } as UnreadEvent,
      created('a', 'AVChatRoom'),
      created('c'),
      created('d'),
      joined('b', 'ann', 0),
      joined('a', 'ann', 0),
      joined('c', 'ann', 0),
      joined('d', 'ann', 0),
      left('c', 'ann'),
      { type: 'group-dismissed', appId: APP, groupId: 'd' },
      msg('a', 'x', 1),
      msg('b', 'x', 1),
    ]);
    const list = (await s.group.joinedGroups(APP, 'ann')).groups;
    expect(list.map((v) => [v.groupId, v.type, v.name, v.unread])).toEqual([
      ['a', 'AVChatRoom', '', 0],
      ['b', 'Work', 'Bee', 1],
    ]);
  });

  it('deletes the account from every group it was in and its index, but not a re-join in the same batch', async () => {
    const s = store();
    await applyInOrder(s, [
      created('g1'),
      created('g2'),
      created('g3'),
      joined('g1', 'ann', 0),
      joined('g2', 'ann', 0),
      joined('g3', 'ann', 0),
      left('g2', 'ann'),
      joined('g1', 'bob', 0),
      msg('g1', 'ann', 1),
    ]);
    // As the projector applies a batch [account-deleted ann, group-member-joined g3 ann]:
    // every write issued in one tick (DirectoryStore.accountDeleted calls group.deleteAccount).
    await Promise.all([s.group.deleteAccount(new DirectWriter(redis), APP, 'ann'), s.apply(joined('g3', 'ann', 1))]);
    expect(await redis.hexists(s.keys.group(APP, 'g1').state, 'm:ann')).toBe(0);
    expect(await redis.hexists(s.keys.group(APP, 'g2').state, 'm:ann')).toBe(0);
    expect(await redis.hget(s.keys.group(APP, 'g3').state, 'm:ann')).toBe('1:1:0:0');
    expect(await redis.hget(s.keys.group(APP, 'g1').state, 'm:bob')).toBe('1:0:0:0');
    expect(await redis.zrange(s.keys.member(APP, 'ann').groups, 0, -1, 'WITHSCORES')).toEqual([
      'g3',
      String(TYPE_CLASS.Public),
    ]);

    await s.group.deleteAccount(new DirectWriter(redis), APP, 'ann');
    expect(await redis.exists(s.keys.member(APP, 'ann').groups)).toBe(0);
    expect(await redis.hexists(s.keys.group(APP, 'g3').state, 'm:ann')).toBe(0);
    // Idempotent: a redelivered deletion finds nothing to do.
    await s.group.deleteAccount(new DirectWriter(redis), APP, 'ann');
    expect((await s.group.joinedGroups(APP, 'ann')).groups).toEqual([]);
  });

  it('keeps a group\'s set of seqs that do not count within the horizon over a long run, with the counts of the model with that horizon', async () => {
    const horizon = 100;
    const s = store(undefined, horizon);
    const g = 'long';
    const rnd = prng(27);
    const log: UnreadEvent[] = [created(g), joined(g, 'reader', 0), joined(g, 'idle', 0), joined(g, 'writer', 0)];
    await s.applyAll(log);
    const { state, uncounted } = s.keys.group(APP, g);
    const uncountedSeqs = new Set<number>();
    let seq = 0;
    let largest = 0;
    // what left the set, seen from outside: the seqs a call found there and did not leave
    let removed = 0;
    const applied = async (events: UnreadEvent[]) => {
      const before = await redis.zrange(uncounted, 0, -1);
      await s.applyAll(events);
      const after = new Set(await redis.zrange(uncounted, 0, -1));
      removed += before.filter((x) => !after.has(x)).length;
    };
    for (let round = 0; round < 40; round++) {
      const batch: UnreadEvent[] = [];
      for (let i = 0; i < 250; i++) {
        seq++;
        const silent = rnd() < 0.2;
        batch.push(silent ? { ...msg(g, 'writer', seq), noUnread: true } : msg(g, 'writer', seq));
        if (silent) uncountedSeqs.add(seq);
        if (rnd() < 0.01) {
          // recalls of any earlier seq: most of them long past the horizon, never added
          const old = 1 + Math.floor(rnd() * seq);
          uncountedSeqs.add(old);
          batch.push({ type: 'message-recalled', scope: 'group', appId: APP, groupId: g, seq: old, msgId: `${g}-${old}` });
        }
      }
      batch.push(ack(g, 'reader', seq - Math.floor(rnd() * horizon)));
      await applied(batch);
      // a run of recalls alone (no message raises max) adds only seqs within the horizon
      const late = [seq - horizon, seq - horizon + 1, seq - 3];
      for (const r of late) uncountedSeqs.add(r);
      batch.push(...late.map((r): UnreadEvent => ({ type: 'message-recalled', scope: 'group', appId: APP, groupId: g, seq: r, msgId: `${g}-${r}` })));
      await applied(batch.slice(-3));
      log.push(...batch);
      const kept = (await redis.zrange(uncounted, 0, -1)).map(Number);
      const allowed = [...uncountedSeqs].filter((x) => x > seq - horizon).sort((a, b) => a - b);
      expect({ round, kept }).toEqual({ round, kept: allowed });
      expect({ round, nc: await redis.hget(state, 'nc') }).toEqual({ round, nc: String(allowed.length) });
      largest = Math.max(largest, kept.length);
    }
    expect(largest).toBeLessThanOrEqual(horizon);
    // the store's tally (unread_projection_pruned_total{entry="group_uncounted_seq"}) is what left
    expect(removed).toBeGreaterThan(500);
    expect(s.pruning.pruned.group_uncounted_seq).toBe(removed);
    expect(largest).toBeGreaterThan(horizon / 10);
    const bounded = new CountModel({ groupHorizon: horizon }).apply(log);
    const exact = new CountModel().apply(log);
    for (const account of ['reader', 'idle', 'writer']) {
      expect({ account, unread: (await s.group.memberView(APP, g, account)).unread }).toEqual({ account, unread: bounded.group(APP, g, account) });
    }
    // the reader keeps within the horizon: exact; the idle member is 10 000 seqs behind: every
    // recalled and silent message older than the horizon counts for it
    expect(bounded.group(APP, g, 'reader')).toBe(exact.group(APP, g, 'reader'));
    expect(bounded.group(APP, g, 'idle')).toBeGreaterThan(exact.group(APP, g, 'idle')!);
  });
});
