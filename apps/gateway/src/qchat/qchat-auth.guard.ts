import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { FailureBudget, NETEASE_CHECKSUM_WINDOW_MS, verifyNeteaseRequest } from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { nonceKey, RateLimiter, REDIS, type RedisClient } from '@app/store';
import { QCHAT, QchatError } from './qchat.errors';

/** A request QchatAuthGuard let through: `qchatApp` is the caller's AppKey. */
export type QchatRequest = Request & { qchatApp?: string };

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * The NetEase server API layer, run before every /nimserver/qchat route, in this order (the
 * first failure answers):
 *   1. AppKey, Nonce, CurTime, CheckSum: missing or malformed → 414; unknown AppKey → 414;
 *      CurTime more than 5 minutes from now → 414; CheckSum ≠ SHA1(AppSecret+Nonce+CurTime)
 *      (constant-time compare) → 414
 *   2. the per-app, per-API rate limit shared through Redis, spent from a local lease
 *      (RateLimiter; QCHAT_RATE_LIMIT per second, then blocked for QCHAT_RATE_BLOCK_MS)
 *      → 416, before the Nonce is written (a throttled app writes no Nonce)
 *   3. the Nonce, remembered in Redis per app (SET NX PX) for as long as its CurTime stays
 *      acceptable, so a replay to any gateway replica → 431. When Redis refuses the write
 *      (full, no replicas, read-only…) the request is still answered: the Nonce is
 *      remembered by this replica alone (LocalNonces), so a replay to the same replica is
 *      still refused and one to another replica is not, for as long as Redis refuses.
 *      Why answer rather than refuse: every QChat route here only reads, so a replay can
 *      only repeat a read the caller was entitled to; failing closed would turn a Redis
 *      that can be read into an outage of every endpoint (docs/reliability.md).
 * The body is parsed afterwards by the endpoint, so an unauthenticated caller learns nothing from it.
 */
/**
 * Nonces this replica saw while Redis refused to remember them, until their CurTime is no
 * longer acceptable. Checked on every request (a Nonce first used during the outage stays
 * refused here afterwards). Bounded: past MAX entries the oldest are forgotten.
 */
export class LocalNonces {
  static readonly MAX = 100_000;
  private readonly until = new Map<string, number>();

  /** True when the Nonce was not seen (and is now remembered until `expiresAt`). */
  remember(key: string, expiresAt: number, now = Date.now()): boolean {
    const seen = this.until.get(key);
    if (seen !== undefined && seen > now) return false;
    this.until.delete(key);
    this.until.set(key, expiresAt);
    if (this.until.size > LocalNonces.MAX) {
      for (const [k, t] of this.until) {
        if (this.until.size <= LocalNonces.MAX && t > now) break;
        this.until.delete(k);
      }
    }
    return true;
  }

  has(key: string, now = Date.now()): boolean {
    return (this.until.get(key) ?? 0) > now;
  }

  get size(): number {
    return this.until.size;
  }
}

@Injectable()
export class QchatAuthGuard implements CanActivate {
  private readonly secrets: Map<string, string>;
  private readonly logger = new Logger('QchatAuth');
  private readonly localNonces = new LocalNonces();
  private readonly failures: FailureBudget;
  private lastWarning = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly limiter: RateLimiter,
  ) {
    this.secrets = new Map(config.tenants.netease.map((t) => [t.appKey, t.appSecret]));
    this.failures = new FailureBudget(config.rateLimits.authFailuresPerSecond);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<QchatRequest>();
    const now = Date.now();
    // Past AUTH_FAILURE_LIMIT failed CheckSums of the app in this second (this replica), its
    // requests are refused before any hashing.
    const claimed = header(req, 'appkey');
    if (claimed !== undefined && this.failures.exhausted(claimed)) {
      throw new QchatError(QCHAT.RATE_LIMIT, 'frequency control: too many failed checksums');
    }
    const auth = verifyNeteaseRequest(
      {
        appKey: header(req, 'appkey'),
        nonce: header(req, 'nonce'),
        curTime: header(req, 'curtime'),
        checkSum: header(req, 'checksum'),
      },
      (k) => this.secrets.get(k),
      now,
    );
    if (!auth.ok) {
      if (claimed !== undefined && (auth.reason === 'bad-checksum' || auth.reason === 'expired')) this.failures.fail(claimed);
      throw new QchatError(QCHAT.PARAM, auth.desc);
    }

    // The same headers stay acceptable until CurTime + 5 min: remember the Nonce that long.
    const ttl = Math.max(1_000, auth.curTimeMs + NETEASE_CHECKSUM_WINDOW_MS - now + 1_000);
    const api = req.path.slice(req.path.lastIndexOf('/') + 1);
    const key = nonceKey(this.config.redis.keyPrefix, auth.appKey, auth.nonce);
    if (this.localNonces.has(key, now)) throw new QchatError(QCHAT.REPEATED, 'repeated request: Nonce already used');
    // The rate check first: a caller past its limit is refused before its Nonce is written,
    // so a throttled (or blocked) app cannot keep filling Redis with Nonces.
    const allowed = await this.limiter.allow(
      'qchat',
      auth.appKey,
      api,
      this.config.rateLimits.qchatPerSecond,
      this.config.rateLimits.qchatBlockMs,
    );
    if (!allowed) throw new QchatError(QCHAT.RATE_LIMIT, 'frequency control: too many calls');
    const fresh = await this.redis.set(key, '1', 'PX', ttl, 'NX').then(
      (r) => r === 'OK',
      (err: Error) => this.rememberLocally(key, now + ttl, err),
    );
    if (!fresh) throw new QchatError(QCHAT.REPEATED, 'repeated request: Nonce already used');
    req.qchatApp = auth.appKey;
    return true;
  }

  /** Redis refused to remember the Nonce (an error reply: it refuses writes): this replica does. */
  private rememberLocally(key: string, expiresAt: number, err: Error): boolean {
    if (err.name !== 'ReplyError') throw err; // Redis did not answer: the request's reads fail the same way
    const now = Date.now();
    if (now - this.lastWarning >= 10_000) {
      this.lastWarning = now;
      this.logger.warn(`Redis did not remember a QChat Nonce (${err.message}); remembering Nonces on this replica alone until it does`);
    }
    return this.localNonces.remember(key, expiresAt, now);
  }
}
