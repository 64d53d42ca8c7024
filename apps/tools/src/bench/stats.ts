import { readFileSync } from 'node:fs';
import type Redis from 'ioredis';

/** The q-quantile (0..1) of samples, by nearest rank; NaN when there are none. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Milliseconds since the Unix epoch with sub-millisecond resolution, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Rounds to a few significant digits for display. */
export function round(n: number, digits = 3): number {
  if (!Number.isFinite(n) || n === 0) return n;
  const p = Math.pow(10, Math.max(0, digits - Math.ceil(Math.log10(Math.abs(n)))));
  return Math.round(n * p) / p;
}

/**
 * fetch, tried once more on a network error: undici may reuse a keep-alive socket the
 * server is closing at that moment (idle for its keepAliveTimeout), which is not what is measured.
 */
export async function fetchRetry(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    return fetch(url, init);
  }
}

/** User + system CPU seconds of a process (Linux /proc; NaN elsewhere). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** Seconds of CPU Redis has used (user + system), from INFO cpu. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const get = (name: string) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1] ?? NaN);
  return get('used_cpu_user') + get('used_cpu_sys');
}

/** A command's counters in INFO commandstats. */
export interface CommandCounters {
  calls: number;
  /** µs Redis spent in it (a script's own figure includes the commands it ran, which count again on their own). */
  usec: number;
}

/** INFO commandstats as command → { calls, usec } (Redis counts the commands scripts run too). */
export async function commandStats(redis: Redis): Promise<Map<string, CommandCounters>> {
  const info = await redis.info('commandstats');
  const out = new Map<string, CommandCounters>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}
