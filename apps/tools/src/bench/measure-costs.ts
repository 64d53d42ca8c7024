import Redis from 'ioredis';
import { DEFAULT_C2C_UNREAD_CAP, DEFAULT_GROUP_UNCOUNTED_HORIZON, Keyspace, ProjectionStore } from '@app/store';
import type { BenchContext } from './bench-context';
import { row, type BenchRow } from './bench-result';
import { MixedStream, type Kind } from './event-stream';
import { commandStats, redisCpuSeconds, type CommandCounters } from './stats';

/** What each command did between two commandstats readings: calls and µs per call, busiest first. */
function statsDelta(a: Map<string, CommandCounters>, b: Map<string, CommandCounters>) {
  return [...b]
    .map(([cmd, s]) => ({ cmd, calls: s.calls - (a.get(cmd)?.calls ?? 0), usec: s.usec - (a.get(cmd)?.usec ?? 0) }))
    .filter((d) => d.calls > 0 && !['info', 'ping'].includes(d.cmd))
    .sort((x, y) => y.usec - x.usec)
    .map((d) => ({ ...d, usecPerCall: d.usec / d.calls }));
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

/** The element whose `by` is the median (the lower middle one of an even count). */
function median<T>(xs: readonly T[], by: (x: T) => number): T {
  return [...xs].sort((a, b) => by(a) - by(b))[Math.floor((xs.length - 1) / 2)] as T;
}

/** The targets on the folded rows, Redis CPU µs per event (docs/performance.md). */
const FOLDED_TARGETS: Partial<Record<Kind, number>> = { 'c2c-msg': 7, 'group-msg': 5, mention: 30, 'channel-ack': 8 };

/**
 * Costs for the sizing model (docs/capacity.md): Redis CPU per event of each type, applied
 * the way the projector applies them (the store's batch path, batches of 200, eight in
 * flight), on a key prefix of its own, from Redis' own CPU counters (INFO cpu: everything
 * Redis does for them, protocol included); and Redis bytes per group member record (the
 * largest seeded group's state hash over its members). Inputs of the sizing model; four of
 * them carry targets (FOLDED_TARGETS).
 *
 * Each folded figure has a same-run baseline: the same events applied one by one through
 * the store's direct path (`store.apply`: each event's own write(s) sent alone through
 * DirectWriter), 100 issued in one tick on an auto-pipelining client — what
 * `redis-benchmark -P 100` of the script gives — measured the same way (INFO cpu), with INFO
 * commandstats (µs per call of EVALSHA and of each command the scripts run) in the details:
 * the `cost.alone.*` rows. The ratio says what folding costs or saves per write, independent
 * of the machine. Three passes of both, alternating, each figure their median (one pass in
 * `--quick`'s tiny mode), every pass's figure in `details.rounds`. Each pass starts once Redis
 * has no rehash of its keyspace's tables left (BenchContext.settle) and removes its keys after
 * it, after an unmeasured pass that grew the table to hold them: what a key costs Redis while
 * the keyspace grows (its share of moving every key into a table twice as large, at each
 * power of two) is not in these rows; docs/performance.md ("Cost rows") gives it.
 */
export async function measureCosts(ctx: BenchContext): Promise<BenchRow[]> {
  const { env } = ctx;
  const n = ctx.mode === 'full' ? 10_000 : ctx.mode === 'quick' ? 2_000 : 200;
  // Each figure is the median of `rounds` passes (alone, then folded), each on prefixes of
  // its own: one pass is 10-80 ms of Redis CPU, and single passes on a shared box differ by
  // up to 1.5x (docs/performance.md, "Cost rows").
  const rounds = ctx.mode === 'tiny' ? 1 : 3;
  const prefix = `cost${env.id}`;
  const alonePrefix = `alone${env.id}`;
  const retention = { mentionRetentionMs: 7 * 24 * 3600 * 1000, c2cUnreadCap: DEFAULT_C2C_UNREAD_CAP, groupUncountedHorizon: DEFAULT_GROUP_UNCOUNTED_HORIZON };
  const pipelined = new Redis(env.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 3 });
  const warm = new ProjectionStore(pipelined, new Keyspace(`${alonePrefix}w`), retention);
  const kinds = (Object.keys(KIND_LABELS) as Kind[]).filter((k) => ctx.caps.channels || !['mention', 'channel-msg', 'channel-ack'].includes(k));
  const rows: BenchRow[] = [];
  const aloneRows: BenchRow[] = [];
  try {
    for (const [i, kind] of kinds.entries()) {
      env.log(`costs: ${n} × ${kind} (alone, pipelined; then folded), ${rounds} round(s)`);
      // the same events every pass, each pass on a prefix of its own: the same work
      const events = new MixedStream(ctx.world, ctx.seed + 20 + i, Date.now(), { channels: ctx.caps.channels, tag: `k${i}`, only: [kind] }).take(n);

      // Unmeasured, on a prefix of its own: the scripts into Redis' cache (a first EVALSHA
      // answers NOSCRIPT and is sent again as EVAL), and the keyspace's table grown to hold
      // as many keys as a pass adds. Every pass then removes its keys before the next, so no
      // measured pass makes Redis grow (and rehash) its table (see BenchContext.settle).
      for (const e of events.slice(0, 5)) await warm.apply(e);
      for (let j = 0; j < events.length; j += 100) await Promise.all(events.slice(j, j + 100).map((e) => warm.apply(e)));
      await env.deleteKeys(`${alonePrefix}w:*`);
      const aloneRuns: { micros: number; cpu: number; commands: ReturnType<typeof statsDelta> }[] = [];
      const foldedRuns: { micros: number; cpu: number }[] = [];
      const rehashWaits: (number | null)[] = [];
      for (let r = 0; r < rounds; r++) {
        const alone = new ProjectionStore(pipelined, new Keyspace(`${alonePrefix}${r}`), retention);
        const store = new ProjectionStore(env.redis, new Keyspace(`${prefix}${r}`), retention);
        rehashWaits.push(await ctx.settle());
        const cpu0 = await redisCpuSeconds(ctx.env.redis);
        const stats0 = await commandStats(ctx.env.redis);
        for (let j = 0; j < events.length; j += 100) await Promise.all(events.slice(j, j + 100).map((e) => alone.apply(e)));
        const aloneUsed = (await redisCpuSeconds(ctx.env.redis)) - cpu0;
        aloneRuns.push({ micros: (aloneUsed * 1e6) / n, cpu: aloneUsed, commands: statsDelta(stats0, await commandStats(ctx.env.redis)) });
        await env.deleteKeys(`${alonePrefix}${r}:*`);

        rehashWaits.push(await ctx.settle());
        const before = await redisCpuSeconds(ctx.env.redis);
        const batches = [];
        for (let j = 0; j < events.length; j += 200) batches.push(events.slice(j, j + 200));
        for (let j = 0; j < batches.length; j += 8) await Promise.all(batches.slice(j, j + 8).map((b) => store.applyBatch(b)));
        const used = (await redisCpuSeconds(ctx.env.redis)) - before;
        foldedRuns.push({ micros: (used * 1e6) / n, cpu: used });
        await env.deleteKeys(`${prefix}${r}:*`);
      }
      const aloneMid = median(aloneRuns, (x) => x.micros);
      const foldedMid = median(foldedRuns, (x) => x.micros);
      const commands = aloneMid.commands;
      const scriptCalls = commands.filter((c) => c.cmd === 'evalsha' || c.cmd === 'eval').reduce((sum, c) => sum + c.calls, 0);
      rows.push(
        row({
          id: `cost.redis.${kind}`,
          group: 'costs',
          measurement: `Redis CPU per ${KIND_LABELS[kind]} (folded writes)`,
          value: foldedMid.micros,
          unit: 'µs',
          baseline: aloneMid.micros,
          baselineLabel: 'the same write called alone, pipelined (cost.alone)',
          target: FOLDED_TARGETS[kind] !== undefined ? { on: 'value', op: '<=', limit: FOLDED_TARGETS[kind] } : null,
          // rehashWaits: seconds each pass waited for Redis to finish rehashing its keyspace (null: not known)
          details: { events: n, redisCpuSeconds: foldedMid.cpu, rounds: foldedRuns.map((x) => x.micros), rehashWaits },
        }),
      );
      aloneRows.push(
        row({
          id: `cost.alone.${kind}`,
          group: 'costs',
          measurement: `Redis CPU per ${KIND_LABELS[kind]}, its script(s) called alone, 100 pipelined`,
          value: aloneMid.micros,
          unit: 'µs',
          baseline: null,
          baselineLabel: '—',
          target: null,
          details: {
            events: n,
            redisCpuSeconds: aloneMid.cpu,
            rounds: aloneRuns.map((x) => x.micros),
            scriptCalls,
            redisCpuMicrosPerScriptCall: scriptCalls ? (aloneMid.cpu * 1e6) / scriptCalls : null,
            // INFO commandstats over the median round: EVALSHA and every command the scripts ran
            commandstats: commands.slice(0, 12),
          },
        }),
      );
    }
    rows.push(...aloneRows);
    const largest = ctx.world.largestGroup();
    const stateKey = new Keyspace(env.keyPrefix).group(ctx.world.tencentApp, largest.id).state;
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
    pipelined.disconnect();
    for (let r = 0; r < rounds; r++) {
      await env.deleteKeys(`${prefix}${r}:*`);
      await env.deleteKeys(`${alonePrefix}${r}:*`);
    }
    await env.deleteKeys(`${alonePrefix}w:*`);
  }
  return rows;
}
