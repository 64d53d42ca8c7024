import type { Result } from 'ioredis';
import { feedVersionKey } from './keyspace';
import type { RedisClient } from './redis.factory';
import { defineScript } from './scripts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    unreadFeedVersion(version: string): Result<number, Context>;
  }
}

/** An account the change feed reports on. */
export interface FeedAccount {
  app: string;
  account: string;
}

/**
 * The change feed's per-account versions (feed-version.lua; docs/events.md, "The change
 * feed"). Each key lives in its account's slot; the calls of one step are issued in one
 * tick, so ioredis auto-pipelining sends them as one round trip per Redis node.
 */
export class FeedVersions {
  /**
   * @param redis a real client (not the batch writer): the versions are read back
   * @param base REDIS_KEY_PREFIX (versions belong to no generation)
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly base: string,
  ) {
    // Defined before the first use: a command defined after ioredis built an auto-pipeline is missing from it.
    defineScript(redis, 'unreadFeedVersion', 'feed-version', 1);
  }

  /** Moves each account to its next version; the new versions, in order. */
  bump(accounts: readonly FeedAccount[]): Promise<number[]> {
    return Promise.all(accounts.map((a) => this.redis.unreadFeedVersion(feedVersionKey(this.base, a.app, a.account))));
  }

  /** Each account's version now (0: never bumped), in order. */
  async read(accounts: readonly FeedAccount[]): Promise<number[]> {
    const values = await Promise.all(accounts.map((a) => this.redis.get(feedVersionKey(this.base, a.app, a.account))));
    return values.map((v) => (v === null ? 0 : Number(v)));
  }
}
