import { Keyspace, ProjectionStore } from '@app/store';
import type { BenchContext } from './bench-context';
import { row, type BenchRow } from './bench-result';
import { MixedStream, type Kind } from './event-stream';

/** Seconds of CPU Redis has used (user + system), from INFO cpu. */
async function redisCpuSeconds(ctx: BenchContext): Promise<number> {
  const info = await ctx.env.redis.info('cpu');
  const get = (name: string) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1] ?? NaN);
  return get('used_cpu_user') + get('used_cpu_sys');
}

const KIND_LABELS: Record<Kind, string> = {
  'c2c-msg': 'one-to-one message',
  'c2c-ack': 'one-to-one read ack',
  'group-msg': 'group message',
  'group-ack': 'group read ack',
  mention: 'channel mention (stored message)',
  'channel-msg': 'channel message',
  'channel-ack': 'channel read ack',
  directory: 'directory change',
};

/**
 * Costs for the sizing model (docs/capacity.md): Redis CPU per event of each type, applied
 * the way the projector applies them (the store's batch path, batches of 200, eight in
 * flight), on a key prefix of its own, from Redis' own CPU counters (INFO cpu: everything
 * Redis does for them, protocol included); and Redis bytes per group member record (the
 * largest seeded group's state hash over its members). No targets: these are inputs.
 */
export async function measureCosts(ctx: BenchContext): Promise<BenchRow[]> {
  const { env } = ctx;
  const n = ctx.mode === 'full' ? 10_000 : ctx.mode === 'quick' ? 2_000 : 200;
  const prefix = `cost${env.id}`;
  const store = new ProjectionStore(env.redis, new Keyspace(prefix), { mentionRetentionMs: 7 * 24 * 3600 * 1000 });
  const kinds = (Object.keys(KIND_LABELS) as Kind[]).filter((k) => ctx.caps.channels || !['mention', 'channel-msg', 'channel-ack'].includes(k));
  const rows: BenchRow[] = [];
  try {
    for (const [i, kind] of kinds.entries()) {
      env.log(`costs: ${n} × ${kind}`);
      const stream = new MixedStream(ctx.world, ctx.seed + 20 + i, Date.now(), { channels: ctx.caps.channels, tag: `k${i}`, only: [kind] });
      const events = stream.take(n);
      await ctx.settle();
      const before = await redisCpuSeconds(ctx);
      const batches = [];
      for (let j = 0; j < events.length; j += 200) batches.push(events.slice(j, j + 200));
      for (let j = 0; j < batches.length; j += 8) await Promise.all(batches.slice(j, j + 8).map((b) => store.applyBatch(b)));
      const used = (await redisCpuSeconds(ctx)) - before;
      rows.push(
        row({
          id: `cost.redis.${kind}`,
          group: 'costs',
          measurement: `Redis CPU per ${KIND_LABELS[kind]} (folded writes)`,
          value: (used * 1e6) / n,
          unit: 'µs',
          baseline: null,
          baselineLabel: '—',
          target: null,
          details: { events: n, redisCpuSeconds: used },
        }),
      );
    }
    const largest = ctx.world.largestGroup();
    const stateKey = `${new Keyspace(env.keyPrefix).group(ctx.world.tencentApp, largest.id)}:state`;
    const bytes = (await env.redis.call('MEMORY', 'USAGE', stateKey, 'SAMPLES', '0')) as number | null;
    rows.push(
      row({
        id: 'cost.bytes.group-member',
        group: 'costs',
        measurement: `Redis bytes per group member record (the ${largest.size}-member group's state hash)`,
        value: bytes === null ? null : bytes / largest.size,
        unit: 'B',
        baseline: null,
        baselineLabel: '—',
        target: null,
        details: { key: stateKey, bytes, members: largest.size },
      }),
    );
  } finally {
    await env.deleteKeys(`${prefix}:*`);
  }
  return rows;
}
