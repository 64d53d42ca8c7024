import { HttpException, HttpStatus, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { RateLimiter } from '@app/store';

/**
 * Summary requests per second per tenant, over every gateway replica (RateLimiter: the
 * same leases as the vendor APIs; per replica while Redis refuses writes). One summary
 * fans out to up to MAX_SUMMARY_CHANNELS + a few Redis calls, so it is limited apart from
 * the vendor APIs (docs/api/summary.md).
 */
export const SUMMARY_RATE_LIMIT = 50;

/**
 * The account summary API's auth (docs/api/summary.md): `Authorization: Bearer <apiKey>`,
 * where apiKey is configured per tenant beside the vendor's secret (TENANTS_JSON, either
 * family). Missing, malformed or wrong credentials, and apps without a key, all get the
 * same 401: the answer never says which apps exist. An authenticated tenant past
 * SUMMARY_RATE_LIMIT requests in a second gets 429.
 */
@Injectable()
export class SummaryGuard implements CanActivate {
  /** appId → SHA-256 of each key it accepts (compared in constant time). */
  private readonly keys = new Map<string, Buffer[]>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly limiter: RateLimiter,
  ) {
    const add = (app: string, key: string | undefined) => {
      if (key) this.keys.set(app, [...(this.keys.get(app) ?? []), digest(key)]);
    };
    for (const t of config.tenants.tencent) add(t.sdkAppId, t.apiKey);
    for (const t of config.tenants.netease) add(t.appKey, t.apiKey);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const auth = req.headers.authorization;
    const m = auth ? /^Bearer ([^\s]+)$/i.exec(auth) : null;
    if (!m) throw new UnauthorizedException('missing bearer token');
    const given = digest(m[1]!);
    const accepted = this.keys.get(String(req.params.appId));
    const app = String(req.params.appId);
    if (!accepted?.some((k) => timingSafeEqual(k, given))) throw new UnauthorizedException('invalid credentials for this app');
    if (!(await this.limiter.allow('summary', app, 'unread', SUMMARY_RATE_LIMIT))) {
      throw new HttpException(`more than ${SUMMARY_RATE_LIMIT} summary requests per second for this app`, HttpStatus.TOO_MANY_REQUESTS);
    }
    return true;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
