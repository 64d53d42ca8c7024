import { Logger } from '@nestjs/common';
import { rateLimitKeys } from './keyspace';
import type { RedisClient } from './redis.factory';
import { BOOKKEEPING_SCRIPTS } from './scripts';
import { callScript, registerScripts } from './write';

/**
 * Calls one lease grants: 1/LEASE_PARTS of the limit (at least 1). Smaller leases strand
 * fewer calls in idle replicas; larger ones cost fewer lease requests (docs/performance.md).
 */
export const LEASE_PARTS = 20;

export function leaseSize(limit: number): number {
  return Math.max(1, Math.ceil(limit / LEASE_PARTS));
}

interface Lease {
  /** Calls left to spend locally in this window. */
  tokens: number;
  /** Local ms at which the window (or the block) ends: the lease is void from then on. */
  until: number;
  /** Redis refused: the window is used up, or the caller is blocked, until `until`. */
  refused: boolean;
  /** Redis could not grant (it refuses writes, or is away): a window counted by this replica alone. */
  local: boolean;
  /** The lease request in flight, shared by every call that waits for it. */
  pending?: Promise<void>;
}

/**
 * Per-tenant, per-API call limit that holds across gateway replicas without a Redis command
 * per call. Each replica takes calls from the shared one-second window in leases
 * (rate-lease.lua: one EVALSHA grants up to leaseSize(limit) calls, never more than the
 * window has left) and spends them locally; once Redis says the window is used up (or the
 * caller is blocked) the replica refuses locally until the window (or the block) ends.
 *
 * What holds (docs/performance.md, "Rate limits"): in one window at most `limit` calls pass
 * over all replicas together, whatever their number; fixed windows still let up to twice
 * the limit through in a rolling second that straddles a window edge, as before. The price
 * of leases: calls granted to one replica and not spent are stranded there, so with N
 * replicas a window may refuse calls once up to (N − 1) × (leaseSize − 1) of its quota
 * sits unspent in other replicas.
 *
 * When Redis refuses to grant a lease (it refuses writes: full, no replicas, read-only, a
 * failed snapshot; any error reply), the replica does not fail the call: it counts a
 * one-second window of its own with the full limit (and the block, when one is configured)
 * and asks Redis again when that window ends. (When Redis does not answer at all, the call
 * fails as its reads would.) Calls keep being answered as long as Redis can be read; the limit then holds per replica, so N replicas let at most N × limit calls
 * through per second while Redis refuses (docs/reliability.md, "When Redis says no").
 */
export class RateLimiter {
  private readonly leases = new Map<string, Lease>();
  private readonly logger = new Logger('RateLimiter');
  private lastWarning = 0;
  /** Windows counted locally because Redis could not grant a lease (for metrics and tests). */
  localWindows = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {
    registerScripts(redis);
  }

  /**
   * True when the call may go ahead. Synchronous while the local lease lasts; a promise
   * when a lease must be asked for (one round trip, shared by every call waiting for it).
   * `cost` is what the call charges (a batch of n accounts charges n); a cost above the
   * limit can never pass.
   */
  allow(family: string, app: string, api: string, limit: number, blockMs = 0, cost = 1): boolean | Promise<boolean> {
    if (cost > limit) return false;
    const id = `${family}\n${app}\n${api}`;
    const lease = this.leases.get(id);
    if (lease && Date.now() < lease.until) {
      if (lease.tokens >= cost) {
        lease.tokens -= cost;
        return true;
      }
      if (lease.refused) return false;
      if (lease.local) {
        // This replica's own window is used up: refuse, and block when the API blocks.
        if (blockMs > 0) lease.until = Date.now() + blockMs;
        lease.refused = true;
        return false;
      }
    }
    return this.renew(id, lease, family, app, api, limit, blockMs, cost);
  }

  private async renew(
    id: string,
    lease: Lease | undefined,
    family: string,
    app: string,
    api: string,
    limit: number,
    blockMs: number,
    cost: number,
  ): Promise<boolean> {
    if (lease?.pending) {
      await lease.pending;
      return this.allow(family, app, api, limit, blockMs, cost);
    }
    const next: Lease = lease ?? { tokens: 0, until: 0, refused: false, local: false };
    this.leases.set(id, next);
    const sentAt = Date.now();
    // Calls still held in this window count towards a costly call; it asks for what it lacks.
    const held = sentAt < next.until && !next.local ? next.tokens : 0;
    const wanted = Math.max(leaseSize(limit), cost - held);
    const keys = rateLimitKeys(this.prefix, family, app, api);
    next.pending = (callScript(this.redis, BOOKKEEPING_SCRIPTS.rateLease, [keys.base, keys.block], [limit, wanted, blockMs]) as Promise<[number, number]>).then(
      ([granted, ms]) => {
        // Measured from when the request left: the lease ends no later than Redis's window.
        // Held calls belong to the window they were granted in: kept only if it is the same.
        const sameWindow = held > 0 && Date.now() < next.until;
        next.until = sentAt + Number(ms);
        next.tokens = Number(granted) + (sameWindow ? held : 0);
        next.refused = Number(granted) === 0;
        next.local = false;
        next.pending = undefined;
      },
      (err: unknown) => {
        next.pending = undefined;
        // Redis did not answer (away, timed out): the call's own reads fail the same way; say so.
        if (!(err instanceof Error) || err.name !== 'ReplyError') throw err;
        const now = Date.now();
        next.until = now + 1_000 - (now % 1_000);
        next.tokens = limit;
        next.refused = false;
        next.local = true;
        next.pending = undefined;
        this.localWindows++;
        if (now - this.lastWarning >= 10_000) {
          this.lastWarning = now;
          this.logger.warn(`Redis did not grant a rate-limit lease (${(err).message}); limiting on this replica alone (${limit}/s per replica) until it does`);
        }
      },
    );
    await next.pending;
    return this.allow(family, app, api, limit, blockMs, cost);
  }
}
