import Redis from 'ioredis';
import { loadConfig } from '@app/config';
import { Keyspace, ProjectionStore, storeOptionsOf, type StoreOptions } from '@app/store';
import type { BenchContext } from './bench-context';
import { row, type BenchRow } from './bench-result';
import { YEAR_SHAPE, YearTraffic, type YearShape } from './year-traffic';

/**
 * Bytes of the keys under `prefix` (MEMORY USAGE, every element sampled), in all and per
 * kind of key (`<family>:<part>`, without a peer: `c2c:z` for every unread set).
 */
export async function keyBytes(redis: Redis, prefix: string): Promise<{ bytes: number; byKind: Record<string, number> }> {
  let cursor = '0';
  let bytes = 0;
  const byKind: Record<string, number> = {};
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 10_000);
    cursor = next;
    const sizes = await Promise.all(batch.map((k) => redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0') as Promise<number | null>));
    batch.forEach((key, i) => {
      const [family, part] = key.slice(prefix.length + 1).split(/:?\{[^}]*\}:?|:/);
      const kind = `${family}:${part ?? ''}`;
      byKind[kind] = (byKind[kind] ?? 0) + (sizes[i] ?? 0);
      bytes += sizes[i] ?? 0;
    });
  } while (cursor !== '0');
  return { bytes, byKind };
}

/**
 * A compressed year (docs/capacity.md, "Over time"): YEAR_SHAPE's weekly traffic 52 times,
 * applied as the projector applies it (batches of 500 folded four at a time, straight through
 * the store: the figure is Redis memory, not speed), with the store options a deployment gets
 * by default (loadConfig's defaults). The row is the projection's bytes per account after week 52, against the same
 * after week 4 (the target: ≤ 1.2×); details break both down by kind of key.
 */
export async function measureYear(ctx: BenchContext): Promise<BenchRow[]> {
  const { env } = ctx;
  const config = loadConfig({ KAFKA_BROKERS: 'unused:9092', REDIS_URL: env.redisUrl });
  const options: StoreOptions = storeOptionsOf(config);
  const shape: YearShape =
    ctx.mode === 'tiny'
      ? { ...YEAR_SHAPE, appId: '1400052052', c2cAccounts: 20, peers: 10, groupMembers: 50, groupPerDay: 50 }
      : { ...YEAR_SHAPE, appId: '1400052052' };
  const prefix = `year${env.id}`;
  const redis = new Redis(env.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 3 });
  try {
    const store = new ProjectionStore(redis, new Keyspace(prefix), options);
    const traffic = new YearTraffic(shape, ctx.seed + 52, env.id);
    env.log(`scale: a compressed year (52 weeks of ${shape.c2cAccounts} one-to-one accounts, ${shape.groups} groups of ${shape.groupMembers})`);
    const at: Record<number, { bytes: number; byKind: Record<string, number> }> = {};
    let events = 0;
    for (let w = 1; w <= 52; w++) {
      const week = traffic.nextWeek();
      events += week.length;
      for (let i = 0; i < week.length; i += 2_000) {
        const slice = week.slice(i, i + 2_000);
        await Promise.all([0, 1, 2, 3].map((q) => store.applyBatch(slice.slice(q * 500, (q + 1) * 500))));
      }
      if (w === 4 || w === 52) at[w] = await keyBytes(redis, prefix);
    }
    const accounts = traffic.accounts.length;
    return [
      row({
        id: 'scale.year-memory',
        group: 'scale',
        measurement: 'Redis bytes per account after a compressed year (52 weeks of one weekly shape)',
        value: at[52]!.bytes / accounts,
        unit: 'B',
        baseline: at[4]!.bytes / accounts,
        baselineLabel: 'the same after 4 weeks',
        target: { on: 'ratio', op: '<=', limit: 1.2 },
        details: { accounts, events, shape, options, week4: at[4], week52: at[52] },
      }),
    ];
  } finally {
    await env.deleteKeys(`${prefix}:*`);
    redis.disconnect();
  }
}
