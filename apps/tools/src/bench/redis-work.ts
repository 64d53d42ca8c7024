import type Redis from 'ioredis';
import { sleep } from './stats';

/** What Redis did for some calls: from INFO commandstats, cpu and stats, less what it does idle. */
export interface RedisWork {
  /** Calls measured (the figures below are per call). */
  calls: number;
  /** Commands executed per call, Lua-internal included (every command of INFO commandstats but INFO). */
  commands: number;
  /** The same, by command (per call, rounded to 0.01). */
  byCommand: Record<string, number>;
  /** Time Redis spent in those commands per call (commandstats usec), in µs: a script's time includes its commands', which count again on their own. */
  commandMicros: number;
  /** Redis's own CPU per call (INFO cpu, user + system), in ms. */
  cpuMs: number;
  /** Bytes Redis sent to its clients per call (INFO stats total_net_output_bytes), replies to INFO left out. */
  bytesOut: number;
  /** The idle window sampled first (its rates are subtracted), and the measured window. */
  idleMs: number;
  runMs: number;
  idle: { commands: Record<string, number>; cpuMs: number; bytesOut: number };
}

interface Reading {
  at: number;
  calls: Map<string, { calls: number; usec: number }>;
  cpuSeconds: number;
  bytesOut: number;
  /** Bytes of this INFO's own reply (RESP bulk string), counted in the next reading's bytesOut. */
  replyBytes: number;
}

async function read(redis: Redis): Promise<Reading> {
  const text = String(await redis.call('INFO', 'commandstats', 'cpu', 'stats'));
  const at = Date.now();
  const calls = new Map<string, { calls: number; usec: number }>();
  for (const m of text.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+),usec=(\d+)/gm)) {
    if (m[1] === 'info' || m[1] === 'config|resetstat') continue;
    calls.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  const n = (field: string) => Number(new RegExp(`^${field}:([0-9.]+)`, 'm').exec(text)?.[1] ?? NaN);
  const length = Buffer.byteLength(text);
  return { at, calls, cpuSeconds: n('used_cpu_sys') + n('used_cpu_user'), bytesOut: n('total_net_output_bytes'), replyBytes: `$${length}\r\n`.length + length + 2 };
}

function delta(a: Reading, b: Reading): { commands: Map<string, { calls: number; usec: number }>; cpuMs: number; bytesOut: number; ms: number } {
  const commands = new Map<string, { calls: number; usec: number }>();
  for (const [k, v] of b.calls) {
    const before = a.calls.get(k) ?? { calls: 0, usec: 0 };
    if (v.calls > before.calls) commands.set(k, { calls: v.calls - before.calls, usec: v.usec - before.usec });
  }
  return { commands, cpuMs: (b.cpuSeconds - a.cpuSeconds) * 1000, bytesOut: b.bytesOut - a.bytesOut - a.replyBytes, ms: Math.max(1, b.at - a.at) };
}

/**
 * The Redis work of `calls` calls of `run`, one after the other: the readings that
 * test/mention-count.e2e-spec.ts takes around a summary (INFO commandstats, cpu and stats),
 * taken as differences rather than after CONFIG RESETSTAT, so a Redis given with --redis-url
 * keeps its counters and no other measurement's readings are disturbed. Redis is first
 * watched idle for `idleMs` (the apps' background reads, Redis's own cron); those rates,
 * times the measured window, are subtracted.
 */
export async function redisWork(redis: Redis, calls: number, run: (i: number) => Promise<void>, idleMs: number): Promise<RedisWork> {
  const r0 = await read(redis);
  await sleep(idleMs);
  const r1 = await read(redis);
  for (let i = 0; i < calls; i++) await run(i);
  const r2 = await read(redis);
  const idle = delta(r0, r1);
  const work = delta(r1, r2);
  const scale = work.ms / idle.ms;
  const byCommand: Record<string, number> = {};
  let commands = 0;
  let usec = 0;
  for (const [k, v] of work.commands) {
    const quiet = idle.commands.get(k) ?? { calls: 0, usec: 0 };
    const per = (v.calls - quiet.calls * scale) / calls;
    usec += Math.max(0, v.usec - quiet.usec * scale) / calls;
    if (per < 0.005) continue;
    byCommand[k] = Math.round(per * 100) / 100;
    commands += per;
  }
  return {
    calls,
    commands: Math.round(commands * 100) / 100,
    byCommand,
    commandMicros: usec,
    cpuMs: Math.max(0, work.cpuMs - idle.cpuMs * scale) / calls,
    bytesOut: Math.max(0, work.bytesOut - idle.bytesOut * scale) / calls,
    idleMs: idle.ms,
    runMs: work.ms,
    idle: { commands: Object.fromEntries([...idle.commands].map(([k, v]) => [k, v.calls])), cpuMs: idle.cpuMs, bytesOut: idle.bytesOut },
  };
}

/** `byCommand` as the rows' notes print it: most first. */
export function breakdown(byCommand: Record<string, number>): string {
  return Object.entries(byCommand)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
