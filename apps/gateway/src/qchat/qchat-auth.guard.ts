import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { NETEASE_CHECKSUM_WINDOW_MS, verifyNeteaseRequest } from '@app/auth';
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
 *   2. the Nonce, remembered in Redis per app (SET NX PX) for as long as its CurTime stays
 *      acceptable, so a replay to any gateway replica → 431
 *   3. the per-app, per-API rate limit shared through Redis, spent from a local lease
 *      (RateLimiter; QCHAT_RATE_LIMIT per second, then
 *      blocked for QCHAT_RATE_BLOCK_MS) → 416
 * The body is parsed afterwards by the endpoint, so an unauthenticated caller learns nothing from it.
 */
@Injectable()
export class QchatAuthGuard implements CanActivate {
  private readonly secrets: Map<string, string>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly limiter: RateLimiter,
  ) {
    this.secrets = new Map(config.tenants.netease.map((t) => [t.appKey, t.appSecret]));
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<QchatRequest>();
    const now = Date.now();
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
    if (!auth.ok) throw new QchatError(QCHAT.PARAM, auth.desc);

    // The same headers stay acceptable until CurTime + 5 min: remember the Nonce that long.
    const ttl = Math.max(1_000, auth.curTimeMs + NETEASE_CHECKSUM_WINDOW_MS - now + 1_000);
    const api = req.path.slice(req.path.lastIndexOf('/') + 1);
    const [fresh, allowed] = await Promise.all([
      this.redis.set(nonceKey(this.config.redis.keyPrefix, auth.appKey, auth.nonce), '1', 'PX', ttl, 'NX'),
      this.limiter.allow(
        'qchat',
        auth.appKey,
        api,
        this.config.rateLimits.qchatPerSecond,
        this.config.rateLimits.qchatBlockMs,
      ),
    ]);
    if (fresh !== 'OK')
      throw new QchatError(QCHAT.REPEATED, 'repeated request: Nonce already used');
    if (!allowed) throw new QchatError(QCHAT.RATE_LIMIT, 'frequency control: too many calls');
    req.qchatApp = auth.appKey;
    return true;
  }
}
