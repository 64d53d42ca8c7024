import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type TencentAppConfig } from '@app/config';
import { FailureBudget, UserSigVerifier, type UserSigFailure } from '@app/auth';
import { RateLimiter } from '@app/store';
import type { TencentRequest, TencentRequestContext } from './tencent-request';
import { TENCENT, TencentError } from './tencent.errors';

const SIG_FAILURES: Record<UserSigFailure, [number, string]> = {
  unparsable: [TENCENT.USERSIG_UNPARSABLE, 'usersig could not be parsed'],
  'sdkappid-mismatch': [TENCENT.SDKAPPID_MISMATCH, 'sdkappid in the URL does not match the usersig'],
  'identifier-mismatch': [TENCENT.IDENTIFIER_MISMATCH, 'identifier in the URL does not match the usersig'],
  'bad-signature': [TENCENT.USERSIG_BAD, 'usersig verification failed'],
  expired: [TENCENT.USERSIG_EXPIRED, 'usersig expired'],
};

const MAX_RANDOM = 4294967295;

/** Injection token of the Tencent UserSigVerifier (one per gateway process, holding the cache). */
export const TENCENT_USERSIG = Symbol('TENCENT_USERSIG');

/**
 * The common Tencent REST layer, run before every /v4 route, in this order (the first
 * failure answers):
 *   1. `sdkappid`: missing → 60012; not a decimal SDKAppID → 60006; unknown → 70020
 *   2. the other URL parameters: `identifier` and `usersig` present and non-empty, `random`
 *      a 32-bit unsigned integer, `contenttype` = `json`, none repeated → 60002
 *   3. UserSig v2: 70003 unparsable, 70014 sdkappid mismatch, 70013 identifier mismatch,
 *      70009 bad signature, 70001 expired (verified signatures are cached briefly); once
 *      the app had AUTH_FAILURE_LIMIT failures in this second (this replica), an uncached
 *      UserSig is refused unchecked → 60007
 *   4. `identifier` is one of the app's admins → else 60010
 *   5. the per-app, per-API rate limit shared through Redis (spent from a local lease,
 *      RateLimiter) → 60007 past it
 * The body is parsed afterwards by the endpoint itself (`@TencentBody(code)`), so an
 * unauthenticated or throttled caller never learns anything from its body.
 */
@Injectable()
export class TencentGuard implements CanActivate {
  private readonly apps: Map<string, { app: TencentAppConfig; admins: Set<string> }>;
  private readonly limit: number;
  private readonly failures: FailureBudget;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(TENCENT_USERSIG) private readonly verifier: UserSigVerifier,
    private readonly limiter: RateLimiter,
  ) {
    this.apps = new Map(config.tenants.tencent.map((app) => [app.sdkAppId, { app, admins: new Set(app.admins) }]));
    this.limit = config.rateLimits.tencentPerSecond;
    this.failures = new FailureBudget(config.rateLimits.authFailuresPerSecond);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const req = context.switchToHttp().getRequest<TencentRequest>();
    const q = req.query as Record<string, string | string[] | undefined>;

    const sdkAppId = param(q, 'sdkappid');
    if (sdkAppId === undefined || sdkAppId === '') throw new TencentError(TENCENT.SDKAPPID_MISSING, 'sdkappid is missing');
    if (!/^[1-9][0-9]{0,9}$/.test(sdkAppId)) throw new TencentError(TENCENT.SDKAPPID_INVALID, 'sdkappid is invalid');
    const tenant = this.apps.get(sdkAppId);
    if (!tenant) throw new TencentError(TENCENT.SDKAPPID_UNKNOWN, `sdkappid ${sdkAppId} does not exist`);

    const identifier = param(q, 'identifier');
    if (!identifier) throw new TencentError(TENCENT.HTTP_PARSE, 'identifier is missing');
    const userSig = param(q, 'usersig');
    if (!userSig) throw new TencentError(TENCENT.HTTP_PARSE, 'usersig is missing');
    const random = param(q, 'random');
    if (random === undefined || !/^[0-9]{1,10}$/.test(random) || Number(random) > MAX_RANDOM) {
      throw new TencentError(TENCENT.HTTP_PARSE, 'random must be a 32-bit unsigned integer');
    }
    if (param(q, 'contenttype') !== 'json') throw new TencentError(TENCENT.HTTP_PARSE, 'contenttype must be json');

    // The cheap check before the expensive one: once the app had AUTH_FAILURE_LIMIT failed
    // UserSigs this second, a UserSig not verified recently is refused without inflating it
    // or computing its HMAC (a proven, cached one still passes).
    if (this.failures.exhausted(sdkAppId) && !this.verifier.cached(userSig)) {
      throw new TencentError(TENCENT.RATE_LIMIT, 'too many failed UserSig checks for this app in this second; retry');
    }
    const check = this.verifier.verify(userSig, sdkAppId, identifier);
    if (!check.ok) {
      this.failures.fail(sdkAppId);
      const [code, info] = SIG_FAILURES[check.reason];
      throw new TencentError(code, info);
    }
    if (!tenant.admins.has(identifier)) {
      throw new TencentError(TENCENT.NOT_ADMIN, `identifier ${identifier} is not an app admin`);
    }

    const api = (req.route as { path?: string } | undefined)?.path ?? req.path;
    const granted: TencentRequestContext = { app: tenant.app, identifier, api };
    // Synchronous while the replica's lease lasts (no Redis command on the request path).
    const allowed = this.limiter.allow('tencent', sdkAppId, api, this.limit);
    if (allowed === true) return this.admit(req, granted);
    if (allowed === false) throw this.refusal(api);
    return allowed.then((ok) => {
      if (!ok) throw this.refusal(api);
      return this.admit(req, granted);
    });
  }

  private admit(req: TencentRequest, ctx: TencentRequestContext): true {
    req.tencent = ctx;
    return true;
  }

  private refusal(api: string): TencentError {
    return new TencentError(TENCENT.RATE_LIMIT, `over the limit of ${this.limit} calls per second for ${api}`);
  }
}

/** A URL parameter; a repeated one is a URL format error. */
function param(q: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw new TencentError(TENCENT.HTTP_PARSE, `${name} appears more than once`);
  return v;
}
