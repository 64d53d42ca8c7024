import type Redis from 'ioredis';
import type { C2cMessageSent, UnreadEvent } from '@app/contracts';
import { DirectWriter, Keyspace, ProjectionStore } from '@app/store';
import { CountModel } from './support/count-model';
import { uniq } from './support/harness';
import { privateRedis } from './support/private-redis';
import { deliveries, shuffled, withSeed } from './support/random';

/**
 * The one-to-one cap (docs/projections.md, "The cap"; C2C_UNREAD_CAP): a conversation's zset
 * holds its newest `cap` unread ids, exact below it, min(exact, cap) past it in any delivery
 * order, up to recalls of tracked messages (pinned below). Oracle: CountModel with the cap.
 */
const APP = '1400000027';
const RETENTION = 7 * 24 * 3600 * 1000;

const msg = (from: string, to: string, i: number, time = 1_000 + i * 10): C2cMessageSent => ({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: `m${i}`, from, to, time });
const recall = (from: string, to: string, i: number, time = 1_000 + i * 10): UnreadEvent => ({ type: 'message-recalled', scope: 'c2c', appId: APP, msgId: `m${i}`, from, to, time });
const ack = (account: string, peer: string, readTime: number): UnreadEvent => ({ type: 'read-ack', scope: 'c2c', appId: APP, account, peer, readTime });


describe('the one-to-one cap (store, real Redis)', () => {
  const fixture = privateRedis();
  let redis: Redis;
  beforeAll(() => (redis = fixture.redis));

  const store = (prefix: string, cap: number) => new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: RETENTION, c2cUnreadCap: cap });

  /** What the store's writes pruned on the one-to-one side (PruningTally). */
  const c2cPruned = (s: ProjectionStore) => ({ c2c_unread_id: s.pruning.pruned.c2c_unread_id, c2c_tombstone: s.pruning.pruned.c2c_tombstone, capped: s.pruning.c2cCapped });

  /** What the projection holds for (owner, peer): the count, the total, the zset's ids (sorted) and size. */
  async function held(s: ProjectionStore, owner: string, peer: string): Promise<{ count: number; total: number; ids: string[] }> {
    const [count] = (await s.c2c.perPeer(APP, owner, [peer])).counts;
    const { total } = await s.c2c.total(APP, owner);
    const ids = (await redis.zrange(s.keys.c2c(APP, owner).unread(peer), 0, -1)).sort();
    return { count: count!, total, ids };
  }

  it('an owner who never reads: count, zset and total stay at the cap (one message a write and folded), memory stays flat; a read ack is then exact', async () => {
    const cap = 100;
    // ids and times of one width, so equal numbers of entries take equal bytes
    const stream = Array.from({ length: 3_000 }, (_, i): UnreadEvent => ({ ...msg('p', 'o', i, 1_000_000 + i * 10), msgId: `m${String(i).padStart(4, '0')}` }));
    for (const how of ['one a write', 'folded'] as const) {
      const model = new CountModel({ c2cUnreadCap: cap }).apply(stream);
      const s = store(`cap${uniq()}`, cap);
      const zset = s.keys.c2c(APP, 'o').unread('p');
      let bytesAtCap = 0;
      for (let i = 0; i < stream.length; i += 300) {
        const part = stream.slice(i, i + 300);
        if (how === 'folded') await s.applyBatch(part);
        else await Promise.all(part.map((e) => s.apply(e)));
        if (i === 300) bytesAtCap = (await redis.memory('USAGE', zset))!;
      }
      expect(await held(s, 'o', 'p')).toEqual({ count: cap, total: cap, ids: model.c2cTrackedIds(APP, 'o', 'p') });
      expect(model.c2c(APP, 'o', 'p')).toBe(cap);
      expect(await redis.zcard(zset)).toBe(cap);
      // 3 000 messages cost what 600 did: 100 ids. One message a write keeps it a listpack
      // (equal bytes); a folded write of 300 made it a skiplist, which Redis keeps when it
      // shrinks, its nodes of random heights (within a few % of each other)
      const bytes = (await redis.memory('USAGE', zset))!;
      if (how === 'one a write') expect(bytes).toBe(bytesAtCap);
      else expect(bytes).toBeLessThanOrEqual(bytesAtCap * 1.25);
      expect(s.pruning.pruned.c2c_unread_id).toBe(stream.length - cap);
      expect(s.pruning.c2cCapped).toBe(how === 'folded' ? stream.length / 300 : stream.length - cap);

      // reading older messages than the oldest tracked one changes nothing; reading into the tracked ones is exact
      for (const readTime of [1_000_000 + 2_000 * 10, 1_000_000 + 2_950 * 10, 1_000_000 + 2_999 * 10]) {
        const read = ack('o', 'p', readTime);
        await s.apply(read);
        model.apply([read]);
        expect(await held(s, 'o', 'p')).toEqual({ count: model.c2c(APP, 'o', 'p'), total: model.c2c(APP, 'o', 'p'), ids: model.c2cTrackedIds(APP, 'o', 'p') });
        expect(model.c2c(APP, 'o', 'p')).toBe(Math.min(cap, model.c2cUnreadIds(APP, 'o', 'p').length));
      }
      expect(model.c2c(APP, 'o', 'p')).toBe(0);
      expect(await redis.exists(zset)).toBe(0);
    }
  });

  it('acks and messages in shuffled orders with duplicated delivery reach the same state: min(exact, cap), the newest ids (trimming commutes with reads)', async () => {
    await withSeed('c2c cap, shuffled', async (rnd) => {
      const cap = 5;
      const accounts = ['a', 'b', 'c'];
      const stream: UnreadEvent[] = [];
      let i = 0;
      for (const owner of accounts) {
        for (const peer of accounts) {
          if (peer === owner) continue;
          // a capped conversation: up to 40 messages at distinct times, acks anywhere, no recalls
          const n = 10 + Math.floor(rnd() * 30);
          const times = shuffled(Array.from({ length: n }, (_, j) => 1_000 + j * 10), rnd);
          for (const time of times) stream.push(msg(peer, owner, i++, time));
          // (a never reads b: one conversation surely stays past the cap)
          for (let j = owner === 'a' && peer === 'b' ? 0 : Math.floor(rnd() * 3); j > 0; j--) stream.push(ack(owner, peer, 1_000 + Math.floor(rnd() * n) * 10 - 5));
        }
        // a conversation that stays below the cap, with recalls: exact
        const small = `s-${owner}`;
        const base = i;
        for (let j = 0; j < cap; j++) stream.push(msg(small, owner, i++));
        stream.push(recall(small, owner, base + 1), recall(small, owner, base + 3));
      }
      const ordered = shuffled(stream, rnd);
      const model = new CountModel({ c2cUnreadCap: cap }).apply(ordered);
      const states: string[] = [];
      for (let pass = 0; pass < 3; pass++) {
        const s = store(`cs${uniq()}`, cap);
        const batches = deliveries(rnd, ordered, 40);
        if (pass === 0) for (const b of batches) await Promise.all(b.map((e) => s.apply(e)));
        else for (let k = 0; k < batches.length; k += 4) await Promise.all(batches.slice(k, k + 4).map((b) => s.applyBatch(b)));
        const state: Record<string, unknown> = {};
        for (const owner of accounts) {
          const peers = [...accounts.filter((p) => p !== owner), `s-${owner}`];
          let total = 0;
          for (const peer of peers) {
            const h = await held(s, owner, peer);
            total += model.c2c(APP, owner, peer);
            expect({ peer, count: h.count, ids: h.ids }).toEqual({ peer, count: model.c2c(APP, owner, peer), ids: model.c2cTrackedIds(APP, owner, peer) });
            state[`${owner} ${peer}`] = h;
          }
          expect((await s.c2c.total(APP, owner)).total).toBe(total);
        }
        states.push(JSON.stringify(state));
        // some conversation really was past the cap, and read into
        expect(Object.values(state).some((h) => (h as { count: number }).count === cap)).toBe(true);
      }
      expect(new Set(states).size).toBe(1);
    });
  });

  it('a recall of a tracked message past the cap lowers the count by one; a trimmed message delivered again takes its place; reading past the oldest tracked id is exact again', async () => {
    const cap = 3;
    const s = store(`cr${uniq()}`, cap);
    const model = new CountModel({ c2cUnreadCap: cap });
    const step = async (...events: UnreadEvent[]) => {
      for (const e of events) await s.apply(e);
      model.apply(events);
      return held(s, 'o', 'p');
    };
    // m1..m5: the newest three are tracked
    expect(await step(...[1, 2, 3, 4, 5].map((i) => msg('p', 'o', i)))).toEqual({ count: 3, total: 3, ids: ['m3', 'm4', 'm5'] });
    // m5 recalled: unread are m1..m4 (exact 4, min(exact, cap) 3), the projection holds 2
    expect(await step(recall('p', 'o', 5))).toEqual({ count: 2, total: 2, ids: ['m3', 'm4'] });
    expect(model.c2cUnreadIds(APP, 'o', 'p')).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(model.c2c(APP, 'o', 'p')).toBe(3);
    expect(model.c2cCapBent(APP, 'o', 'p')).toBe(1);
    // m2 delivered again fills the place
    expect(await step(msg('p', 'o', 2))).toEqual({ count: 3, total: 3, ids: ['m2', 'm3', 'm4'] });
    // and m1 delivered again is trimmed again
    expect(await step(msg('p', 'o', 1))).toEqual({ count: 3, total: 3, ids: ['m2', 'm3', 'm4'] });
    // read to m3, past the oldest tracked id: exact again (m4)
    expect(await step(ack('o', 'p', 1_030))).toEqual({ count: 1, total: 1, ids: ['m4'] });
    expect(model.c2cUnreadIds(APP, 'o', 'p')).toEqual(['m4']);

    // the same recall with no message later than the cap's: a gap that an ack below the oldest tracked id leaves
    const t = store(`cr${uniq()}`, cap);
    for (const e of [1, 2, 3, 4, 5].map((i) => msg('p', 'o', i))) await t.apply(e);
    await t.apply(recall('p', 'o', 4));
    await t.apply(ack('o', 'p', 1_020));
    // unread are m3 and m5 (exact 2), and so is the projection: the ack read past every trimmed id (m1, m2), which closes the gap
    expect(await held(t, 'o', 'p')).toEqual({ count: 2, total: 2, ids: ['m3', 'm5'] });
  });

  it('past the cap with recalls and redeliveries, in any one order: the count stays at most the cap and within the bent recalls of min(exact, cap); exact again once read to the end', async () => {
    await withSeed('c2c cap, the bound', async (rnd) => {
      const cap = 4;
      let differed = 0;
      for (let run = 0; run < 40; run++) {
        const s = store(`cb${uniq()}`, cap);
        const model = new CountModel({ c2cUnreadCap: cap });
        const sent: UnreadEvent[] = [];
        let newest = 0;
        for (let step = 0; step < 60; step++) {
          const r = rnd();
          let e: UnreadEvent;
          if (r < 0.55 || sent.length === 0) {
            const time = 1_000 + Math.floor(rnd() * 40) * 10;
            e = msg('p', 'o', step, time);
            sent.push(e);
            newest = Math.max(newest, time);
          } else if (r < 0.75) {
            e = sent[Math.floor(rnd() * sent.length)]!; // delivered again
          } else if (r < 0.9) {
            const m = sent[Math.floor(rnd() * sent.length)] as UnreadEvent & { msgId: string; time: number };
            e = { type: 'message-recalled', scope: 'c2c', appId: APP, msgId: m.msgId, from: 'p', to: 'o', time: m.time };
          } else {
            e = ack('o', 'p', 1_000 + Math.floor(rnd() * 40) * 10);
          }
          await s.apply(e);
          model.apply([e]);
          const { count, total, ids } = await held(s, 'o', 'p');
          const exact = Math.min(cap, model.c2cUnreadIds(APP, 'o', 'p').length);
          expect({ count: count <= cap, total, size: ids.length }).toEqual({ count: true, total: count, size: count });
          expect(Math.abs(count - exact)).toBeLessThanOrEqual(model.c2cCapBent(APP, 'o', 'p'));
          if (count !== exact) differed++;
        }
        await s.apply(ack('o', 'p', newest));
        model.apply([ack('o', 'p', newest)]);
        expect((await held(s, 'o', 'p')).count).toBe(model.c2c(APP, 'o', 'p'));
      }
      // the bound was needed (a count off min(exact, cap)) somewhere in the runs
      expect(differed).toBeGreaterThan(0);
    });
  }, 60_000);

  it('a trimming write drops the tombstones older than the oldest tracked id; the recalled message delivered again is trimmed again', async () => {
    const cap = 3;
    const s = store(`ct${uniq()}`, cap);
    // m2 and m6 recalled before their messages come: two tombstones
    await s.applyAll([recall('p', 'o', 2), recall('p', 'o', 6)]);
    expect((await s.c2c.recalled(APP, 'o', 'p')).map((r) => r.msgId)).toEqual(['m2', 'm6']);
    for (const i of [1, 2, 3, 4]) await s.apply(msg('p', 'o', i));
    expect(s.pruning.pruned.c2c_tombstone).toBe(0);
    // m5 takes the zset past the cap: m1 trimmed, m3 the oldest kept, m2's tombstone dropped, m6's kept
    await s.apply(msg('p', 'o', 5));
    expect(await held(s, 'o', 'p')).toEqual({ count: 3, total: 3, ids: ['m3', 'm4', 'm5'] });
    expect((await s.c2c.recalled(APP, 'o', 'p')).map((r) => r.msgId)).toEqual(['m6']);
    expect(c2cPruned(s)).toEqual({ c2c_unread_id: 1, c2c_tombstone: 1, capped: 1 });
    // m2 again: no tombstone any more, but older than every tracked id, trimmed at once; m6 still refused
    await s.applyAll([msg('p', 'o', 2), msg('p', 'o', 6)]);
    expect(await held(s, 'o', 'p')).toEqual({ count: 3, total: 3, ids: ['m3', 'm4', 'm5'] });
    const model = new CountModel({ c2cUnreadCap: cap }).apply([recall('p', 'o', 2), recall('p', 'o', 6), ...[1, 2, 3, 4, 5, 6].map((i) => msg('p', 'o', i))]);
    expect(model.c2c(APP, 'o', 'p')).toBe(3);
    expect(model.c2cTrackedIds(APP, 'o', 'p')).toEqual(['m3', 'm4', 'm5']);
    // an ack past a tombstone drops it too (and counts it)
    await s.apply(ack('o', 'p', 1_060));
    expect(await s.c2c.recalled(APP, 'o', 'p')).toEqual([]);
    expect(await held(s, 'o', 'p')).toEqual({ count: 0, total: 0, ids: [] });
    expect(c2cPruned(s)).toEqual({ c2c_unread_id: 2, c2c_tombstone: 2, capped: 2 });
  });

  it('account deletion removes every one-to-one key of the owner: read times, tombstones, counts, capped zsets and receive options', async () => {
    const s = store(`cd${uniq()}`, 3);
    const owner = 'o';
    const k = s.keys.c2c(APP, owner);
    await s.applyAll([
      { type: 'account-registered', appId: APP, account: owner },
      ...[1, 2, 3, 4, 5].map((i) => msg('p', owner, i)),
      msg('q', owner, 6),
      recall('q', owner, 9),
      ack(owner, 'r', 5_000),
      { type: 'receive-option-set', scope: 'c2c', appId: APP, account: owner, peer: 'p', option: 'AcceptNotNotify', time: 1_000 },
      msg(owner, 'p', 7),
    ]);
    const mine = async () => (await redis.keys(`${k.base.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`)).sort();
    expect(await mine()).toEqual([k.counts, k.options, k.reads, k.unread('p'), k.unread('q')].sort());
    await s.c2c.deleteAccount(new DirectWriter(redis), APP, owner);
    expect(await mine()).toEqual([]);
    // what the owner sent stays its recipient's
    expect((await s.c2c.total(APP, 'p')).total).toBe(1);
  });
});
