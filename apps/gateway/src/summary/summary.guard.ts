import { HttpException, HttpStatus, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { FailureBudget } from '@app/auth';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { RateLimiter } from '@app/store';
import { batchAccounts } from './summary.service';

/**
 * The account summary API's auth (docs/api/summary.md): `Authorization: Bearer <apiKey>`,
 * where apiKey is configured per tenant beside the vendor's secret (TENANTS_JSON, either
 * family). Missing, malformed or wrong credentials, and apps without a key, all get the
 * same 401: the answer never says which apps exist.
 *
 * Then the limit, which charges what a call reads: SUMMARY_RATE_LIMIT accounts per second
 * per tenant over every replica (RateLimiter: the vendor APIs' leases; per replica while
 * Redis refuses writes). A summary charges 1, a batch each distinct account it names, so a
 * batch of 100 accounts takes 100 of the limit; past it, 429.
 *
 * Before any hashing: an app (any app id given, known or not) with AUTH_FAILURE_LIMIT failed
 * keys in this second on this replica gets 429 unchecked, so a flood of wrong keys costs a
 * Map lookup each.
 */
@Injectable()
export class SummaryGuard implements CanActivate {
  /** appId → SHA-256 of each key it accepts (compared in constant time). */
  private readonly keys = new Map<string, Buffer[]>();
  private readonly limit: number;
  private readonly failures: FailureBudget;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly limiter: RateLimiter,
  ) {
    const add = (app: string, key: string | undefined) => {
      if (key) this.keys.set(app, [...(this.keys.get(app) ?? []), digest(key)]);
    };
    for (const t of config.tenants.tencent) add(t.sdkAppId, t.apiKey);
    for (const t of config.tenants.netease) add(t.appKey, t.apiKey);
    this.limit = config.rateLimits.summaryAccountsPerSecond;
    this.failures = new FailureBudget(config.rateLimits.authFailuresPerSecond);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const auth = req.headers.authorization;
    const m = auth ? /^Bearer ([^\s]+)$/i.exec(auth) : null;
    if (!m) throw new UnauthorizedException('missing bearer token');
    const app = String(req.params.appId);
    if (this.failures.exhausted(app)) {
      throw new HttpException('too many failed authentications for this app in this second', HttpStatus.TOO_MANY_REQUESTS);
    }
    const given = digest(m[1]!);
    const accepted = this.keys.get(app);
    if (!accepted?.some((k) => timingSafeEqual(k, given))) {
      this.failures.fail(app);
      throw new UnauthorizedException('invalid credentials for this app');
    }
    if (!(await this.limiter.allow('summary', app, 'accounts', this.limit, 0, costOf(req)))) {
      throw new HttpException(`more than ${this.limit} accounts per second in summary calls for this app`, HttpStatus.TOO_MANY_REQUESTS);
    }
    return true;
  }
}

/** What a call charges: a batch its distinct accounts (a malformed body 1: the service answers it 400), a summary 1. */
function costOf(req: Request): number {
  if (req.method !== 'POST') return 1;
  try {
    return batchAccounts(req.body).length;
  } catch {
    return 1;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
