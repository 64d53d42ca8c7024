import { esc } from './keyspace';
import type { RedisClient } from './redis.factory';
import { defineScript } from './scripts';

import type { Result } from 'ioredis';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    unreadRateLimit(counterKey: string, blockKey: string, limit: number, windowMs: number, blockMs: number): Result<number, Context>;
  }
}

/**
 * Per-tenant, per-API call limit held in Redis, so it holds across gateway replicas.
 * Fixed one-second windows: a burst at a window edge may pass up to twice the limit in one
 * rolling second, the usual trade for one round trip per call.
 */
export class RateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {
    defineScript(redis, 'unreadRateLimit', 'rate-limit', 2);
  }

  /** True when the call may go ahead. */
  async allow(family: string, app: string, api: string, limit: number, blockMs = 0, windowMs = 1000): Promise<boolean> {
    const window = Math.floor(Date.now() / windowMs);
    const tag = `{${esc(family)}:${esc(app)}:${esc(api)}}`;
    const allowed = await this.redis.unreadRateLimit(
      `${this.prefix}:rl:${tag}:${window}`,
      `${this.prefix}:rl:${tag}:blocked`,
      limit,
      windowMs * 2,
      blockMs,
    );
    return allowed === 1;
  }
}
