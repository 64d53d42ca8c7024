import type Redis from 'ioredis';
import { BOOKKEEPING_FAMILIES, NON_PROJECTION_FAMILIES } from '@app/store';

/** One key's content in a canonical form (members and fields sorted). */
export type KeyDump =
  | { type: 'string'; value: string }
  | { type: 'hash'; value: [string, string][] }
  | { type: 'set'; value: string[] }
  | { type: 'zset'; value: [string, string][] }
  | { type: 'list'; value: string[] }
  | { type: string; value: null };

/** Every key under `<prefix>:`, with the prefix stripped, in sorted order. */
export type Snapshot = Record<string, KeyDump>;

/**
 * What `snapshot` leaves out under a base prefix: other generations, NON_PROJECTION_FAMILIES
 * (pointer, rate limits, nonces) and BOOKKEEPING_FAMILIES (applied positions).
 */
export const NOT_PROJECTIONS = new RegExp(`^(g\\d+|${[...NON_PROJECTION_FAMILIES, ...BOOKKEEPING_FAMILIES].join('|')}):`);

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sortKeys(x)]));
  }
  return v;
}

/**
 * A value in canonical form: JSON objects (e.g. what Lua's cjson encodes, whose key order
 * follows the table's history) are re-serialized with sorted keys; anything else is kept.
 */
export function canonical(value: string): string {
  if (!value.startsWith('{')) return value;
  try {
    return JSON.stringify(sortKeys(JSON.parse(value)));
  } catch {
    return value;
  }
}

/** Every key matching `pattern` (SCAN until the cursor comes back to 0). */
export async function scanAll(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

/**
 * Dumps every projection key under `prefix` (a generation's prefix, e.g. `t1a2b` or
 * `t1a2b:g1`) in a canonical form, so two runs — with and without a fault, or live and
 * rebuilt — compare with one `toEqual`, whatever the families hold.
 */
export async function snapshot(redis: Redis, prefix: string, exclude: RegExp = NOT_PROJECTIONS): Promise<Snapshot> {
  const keys = (await scanAll(redis, `${prefix}:*`))
    .map((k) => ({ key: k, rel: k.slice(prefix.length + 1) }))
    .filter(({ rel }) => !exclude.test(rel))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const out: Snapshot = {};
  for (const { key, rel } of keys) {
    const type = await redis.type(key);
    switch (type) {
      case 'string':
        out[rel] = { type, value: canonical((await redis.get(key)) ?? '') };
        break;
      case 'hash':
        out[rel] = {
          type,
          value: Object.entries(await redis.hgetall(key))
            .map(([f, v]): [string, string] => [f, canonical(v)])
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        };
        break;
      case 'set':
        out[rel] = { type, value: (await redis.smembers(key)).map(canonical).sort() };
        break;
      case 'zset': {
        const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
        const pairs: [string, string][] = [];
        for (let i = 0; i < flat.length; i += 2) pairs.push([canonical(flat[i]!), flat[i + 1]!]);
        out[rel] = { type, value: pairs };
        break;
      }
      case 'list':
        out[rel] = { type, value: (await redis.lrange(key, 0, -1)).map(canonical) };
        break;
      case 'none':
        break; // expired or deleted between SCAN and TYPE
      default:
        out[rel] = { type, value: null };
    }
  }
  return out;
}

/** Keys (relative, as in a snapshot) that mention an id, for "nothing of this account is left" checks. */
export function keysMentioning(snap: Snapshot, id: string): string[] {
  return Object.keys(snap).filter((k) => k.includes(id));
}
