import { Cluster } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { feedVersionKey } from './keyspace';
import type { RedisClient } from './redis.factory';
import { BOOKKEEPING_SCRIPTS } from './scripts';
import { callScript } from './write';

const FEED_VERSION = BOOKKEEPING_SCRIPTS.feedVersion;

/** Keys per call at most (a call blocks its node while it runs). */
const MAX_KEYS = 500;

/** An account the change feed reports on. */
export interface FeedAccount {
  app: string;
  account: string;
}

/**
 * The change feed's per-account versions (feed-version.lua; docs/events.md, "The change
 * feed"). Each key lives in its account's slot; a step is one call per Redis node for
 * every account of a batch (per slot on a Cluster, those issued in one tick so ioredis
 * auto-pipelining sends them as one round trip per node).
 */
export class FeedVersions {
  /**
   * @param redis a real client (not the batch writer): the versions are read back
   * @param base REDIS_KEY_PREFIX (versions belong to no generation)
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly base: string,
  ) {}

  /**
   * The accounts' keys in calls of one slot each on a Redis Cluster (a call's declared keys
   * must share a slot), all in one call (split every MAX_KEYS) on one Redis. A round computes
   * them once for its bump and its read.
   */
  calls(accounts: readonly FeedAccount[]): FeedVersionCalls {
    const cluster = this.redis instanceof Cluster;
    const bySlot = new Map<number, { keys: string[]; at: number[] }>();
    const calls: { keys: string[]; at: number[] }[] = [];
    accounts.forEach((a, i) => {
      const key = feedVersionKey(this.base, a.app, a.account);
      const slot = cluster ? calculateSlot(key) : 0;
      let g = bySlot.get(slot);
      if (!g || g.keys.length >= MAX_KEYS) {
        bySlot.set(slot, (g = { keys: [], at: [] }));
        calls.push(g);
      }
      g.keys.push(key);
      g.at.push(i);
    });
    return { size: accounts.length, calls };
  }

  private planned(accounts: readonly FeedAccount[] | FeedVersionCalls): FeedVersionCalls {
    return 'calls' in accounts ? accounts : this.calls(accounts);
  }

  /** Moves each account (or each of `calls`) to its next version; the new versions, in order. One call per node (per slot on a Cluster), issued in one tick. */
  async bump(accounts: readonly FeedAccount[] | FeedVersionCalls): Promise<number[]> {
    const { size, calls } = this.planned(accounts);
    const out = new Array<number>(size);
    await Promise.all(
      calls.map(async (g) => {
        const v = (await callScript(this.redis, FEED_VERSION, g.keys, [])) as number[];
        g.at.forEach((i, j) => (out[i] = Number(v[j])));
      }),
    );
    return out;
  }

  /** Each account's version now (0: never bumped), in order: one MGET per node (per slot on a Cluster). */
  async read(accounts: readonly FeedAccount[] | FeedVersionCalls): Promise<number[]> {
    const { size, calls } = this.planned(accounts);
    const out = new Array<number>(size);
    await Promise.all(
      calls.map(async (g) => {
        const v = await this.redis.mget(...g.keys);
        g.at.forEach((i, j) => (out[i] = v[j] === null || v[j] === undefined ? 0 : Number(v[j])));
      }),
    );
    return out;
  }
}

/** The version keys of some accounts, grouped into calls (FeedVersions.calls). */
export interface FeedVersionCalls {
  /** How many accounts. */
  size: number;
  calls: { keys: string[]; at: number[] }[];
}
