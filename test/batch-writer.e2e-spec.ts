import type Redis from 'ioredis';
import type { UnreadEvent } from '@app/contracts';
import { BatchWriter, Keyspace, ProjectionStore, command } from '@app/store';
import { uniq } from './support/harness';
import { privateRedis } from './support/private-redis';
import { snapshot } from './support/snapshot';
import { Workload } from './support/workload';

/**
 * The projector's write path on a private redis-server: the batch writer folds the writes of
 * one tick into one batch.lua call, and positions.lua records how far Redis holds each
 * partition. Folded writes must give exactly what one call per write gives.
 */
const APP = '1400000001';

describe('batch writer and applied positions (store, real Redis)', () => {
  const fixture = privateRedis();
  let redis: Redis;
  beforeAll(() => (redis = fixture.redis));

  const store = (prefix: string) => new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: 86_400_000 });
  const c2c = (to: string, from: string, msgId: string, time: number): UnreadEvent =>
    ({ type: 'message-sent', scope: 'c2c', appId: APP, msgId, from, to, time });

  it('folds a mixed workload into few calls and ends exactly as one call per event', async () => {
    const w = new Workload(3);
    const events: UnreadEvent[] = [...w.setup(), ...w.traffic(1_500)];
    const folded = `f${uniq()}`;
    const direct = `d${uniq()}`;
    await redis.config('RESETSTAT');
    const batches: UnreadEvent[][] = [];
    for (let i = 0; i < events.length; i += 150) batches.push(events.slice(i, i + 150));
    for (const b of batches) await store(folded).applyBatch(b);
    const stats = await redis.info('commandstats');
    const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    // a handful of calls per batch (multi-step writes such as account deletion take more), not one per event
    expect(calls('evalsha') + calls('eval')).toBeLessThan(events.length / 10);
    for (const e of events) await store(direct).apply(e);
    expect(await snapshot(redis, folded)).toEqual(await snapshot(redis, direct));
  });

  it('a write that fails fails alone, with its own error; the others of the call apply', async () => {
    const prefix = `e${uniq()}`;
    const s = store(prefix);
    const keys = new Keyspace(prefix);
    // bob's read times are not a hash: his write fails on its first command, before it wrote anything
    await redis.set(keys.c2c(APP, 'bob').reads, 'not a hash');
    const results = await Promise.allSettled([
      s.applyBatch([c2c('alice', 'carol', 'm1', 1_000)]),
      s.applyBatch([c2c('bob', 'carol', 'm2', 1_000)]),
      s.applyBatch([c2c('alice', 'dave', 'm3', 1_000)]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const err = (results[1] as PromiseRejectedResult).reason as Error;
    expect(err.name).toBe('ReplyError');
    expect(err.message).toMatch(/WRONGTYPE/);
    expect((await s.c2c.total(APP, 'alice')).total).toBe(2);
  });

  it('every write of one tick goes in one call per node, split at maxOpsPerCall', async () => {
    const writer = new BatchWriter(redis, { maxOpsPerCall: 10 });
    const key = `w${uniq()}`;
    const sadd = (m: string) => command('SADD', [key], [m]);
    await writer.run([sadd('warm-up'), sadd('warm-up')]); // loads the folded script (EVALSHA, NOSCRIPT, EVAL) once
    await redis.config('RESETSTAT');
    const replies = await Promise.all(Array.from({ length: 25 }, (_, i) => writer.run([sadd(`m${i}`)])));
    expect(replies).toEqual(Array.from({ length: 25 }, () => [1]));
    const stats = await redis.info('commandstats');
    expect(Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0)).toBe(3);
    expect(stats).not.toMatch(/cmdstat_eval:/); // (the SADDs run inside the calls and are counted too)
    expect(await redis.scard(key)).toBe(26);
  });

  it("sends partitions' smallest batches of a tick first, in a short call: a batch of one event is not held behind a large one", async () => {
    const writer = new BatchWriter(redis, { order: 'smallest-runs-first' }); // the projector's order
    const key = `o${uniq()}`;
    const sadd = (m: string) => command('SADD', [key], [m]);
    const position = (p: string) => [command('HSET', [`${key}:pos`], [p, '1'])]; // stands in for positions.lua
    await writer.run([sadd('warm-up')]); // loads the folded script (EVALSHA, NOSCRIPT, EVAL) once
    await redis.config('RESETSTAT');
    const answered: string[] = [];
    await Promise.all([
      writer.run(Array.from({ length: 300 }, (_, i) => sadd(`l${i}`)), position('large')).then(() => answered.push('large')),
      writer.run([sadd('m0'), sadd('m1'), sadd('m2')], position('medium')).then(() => answered.push('medium')),
      writer.run([sadd('s')], position('small')).then(() => answered.push('small')),
    ]);
    expect(answered).toEqual(['small', 'medium', 'large']);
    // the two small batches share the first call; the large one is not cut (a run is cut only past maxOpsPerCall)
    const stats = await redis.info('commandstats');
    expect(Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0)).toBe(2);
    expect(await redis.scard(key)).toBe(305);
    expect(await redis.hlen(`${key}:pos`)).toBe(3);

    // a writer without that order keeps the order runs were given in, across calls too
    const given = new BatchWriter(redis);
    await redis.config('RESETSTAT');
    const order: string[] = [];
    await Promise.all([
      given.run(Array.from({ length: 300 }, (_, i) => sadd(`L${i}`))).then(() => order.push('large')),
      given.run([sadd('S')]).then(() => order.push('small')),
    ]);
    expect(order).toEqual(['large', 'small']);
  });

  it('positions move forward only from the previous batch, and say what Redis holds when it is behind', async () => {
    const s = store(`p${uniq()}`);
    const part = { topic: 'im.message-sent', partition: 3 };
    // Nothing recorded yet: a first batch (no previous one) is accepted, a continuation is not.
    expect(await s.recordPosition(part.topic, part.partition, 99n, 150n)).toEqual({ ok: false, held: -1n });
    expect(await s.recordPosition(part.topic, part.partition, -1n, 99n)).toEqual({ ok: true });
    expect(await s.recordPosition(part.topic, part.partition, 99n, 150n)).toEqual({ ok: true });
    // A redelivered older batch is accepted and moves nothing back.
    expect(await s.recordPosition(part.topic, part.partition, 20n, 60n)).toEqual({ ok: true });
    expect(await s.positions([part, { topic: 'im.message-sent', partition: 0 }])).toEqual([150n, -1n]);
    // A batch that continues past what Redis holds (a promoted replica that missed 151..200) is refused.
    expect(await s.recordPosition(part.topic, part.partition, 200n, 260n)).toEqual({ ok: false, held: 150n });
    // Another partition of a generation that has positions: none for it, but the hash exists.
    expect(await s.recordPosition('im.read-ack', 1, 10n, 20n)).toEqual({ ok: false, held: -1n });
    expect(await s.positions([part])).toEqual([150n]);
  });

  describe("a batch's position, recorded with its writes (applyBatch with a position)", () => {
    const part = (prefix: string) => ({ topic: `t${prefix}`, partition: 0 });
    const calls = async () => {
      const stats = await redis.info('commandstats');
      const n = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      return { scripts: n('evalsha') + n('eval') };
    };

    it('goes in the same call as the writes when they share one: one round trip per batch', async () => {
      const prefix = `q${uniq()}`;
      const s = store(prefix);
      const { topic, partition } = part(prefix);
      await s.applyBatch([c2c('warm', 'up', 'w0', 1)]); // the folded script in Redis' cache
      await redis.config('RESETSTAT');
      expect(await s.applyBatch([c2c('alice', 'carol', 'm1', 1_000), c2c('bob', 'carol', 'm2', 1_000)], { topic, partition, prev: -1n, last: 9n })).toEqual({ ok: true });
      expect((await calls()).scripts).toBe(1);
      expect(await s.positions([{ topic, partition }])).toEqual([9n]);
      // and it says so when Redis holds less than the previous batch (the writes are applied: they are idempotent)
      expect(await s.applyBatch([c2c('alice', 'dave', 'm3', 1_000)], { topic, partition, prev: 20n, last: 30n })).toEqual({ ok: false, held: 9n });
      expect(await s.positions([{ topic, partition }])).toEqual([9n]);
    });

    it('is never recorded when one of its writes fails, in the same call or an earlier one', async () => {
      for (const maxOpsPerCall of [500, 1]) {
        const prefix = `r${maxOpsPerCall}${uniq()}`;
        const s = new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: 86_400_000 }, new BatchWriter(redis, { maxOpsPerCall }));
        const { topic, partition } = part(prefix);
        await redis.set(new Keyspace(prefix).c2c(APP, 'bob').reads, 'not a hash');
        // bob's write fails; alice's, before and after it, apply (each write alone after the call failed)
        const batch = [c2c('alice', 'carol', 'm1', 1_000), c2c('bob', 'carol', 'm2', 1_000), c2c('erin', 'carol', 'm3', 1_000)];
        await expect(s.applyBatch(batch, { topic, partition, prev: -1n, last: 2n })).rejects.toThrow(/WRONGTYPE/);
        expect(await s.positions([{ topic, partition }])).toEqual([-1n]);
        expect((await s.c2c.total(APP, 'erin')).total).toBe(1);
        // once the key is mended the same batch applies and its position is recorded
        await redis.del(new Keyspace(prefix).c2c(APP, 'bob').reads);
        expect(await s.applyBatch(batch, { topic, partition, prev: -1n, last: 2n })).toEqual({ ok: true });
        expect(await s.positions([{ topic, partition }])).toEqual([2n]);
        expect((await s.c2c.total(APP, 'erin')).total).toBe(1);
      }
    });

    it('waits for the replies of its writes when they span calls, and for a resend after another write failed the call', async () => {
      const prefix = `s${uniq()}`;
      const s = new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: 86_400_000 }, new BatchWriter(redis, { maxOpsPerCall: 2 }));
      const { topic, partition } = part(prefix);
      await redis.set(new Keyspace(prefix).c2c(APP, 'zed').reads, 'not a hash');
      const mine = Array.from({ length: 5 }, (_, i) => c2c(`u${i}`, 'carol', `m${i}`, 1_000));
      // another partition's batch fails in the same tick: only it is refused
      const [ok, failed] = await Promise.allSettled([
        s.applyBatch(mine, { topic, partition, prev: -1n, last: 4n }),
        s.applyBatch([c2c('zed', 'carol', 'z', 1_000)], { topic, partition: 1, prev: -1n, last: 0n }),
      ]);
      expect(ok).toEqual({ status: 'fulfilled', value: { ok: true } });
      expect(failed.status).toBe('rejected');
      expect(await s.positions([{ topic, partition }, { topic, partition: 1 }])).toEqual([4n, -1n]);
      for (let i = 0; i < 5; i++) expect((await s.c2c.total(APP, `u${i}`)).total).toBe(1);
    });
  });
});
