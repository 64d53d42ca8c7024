import { HttpException, HttpStatus, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { FailureBudget } from '@app/auth';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { MAX_SUMMARY_CHANNELS, RateLimiter } from '@app/store';
import { batchAccounts } from './summary.service';

/**
 * The account summary API's auth (docs/api/summary.md): `Authorization: Bearer <apiKey>`,
 * where apiKey is configured per tenant beside the vendor's secret (TENANTS_JSON, either
 * family). Missing, malformed or wrong credentials, and apps without a key, all get the
 * same 401: the answer never says which apps exist.
 *
 * Then the limits, which charge what a call may read, all known from the request alone: an
 * account may fan out to MAX_SUMMARY_CHANNELS channel reads, so a call naming N distinct
 * accounts (a summary 1) may read N × 100 channels. Past SUMMARY_CHANNEL_BUDGET such reads
 * the call is refused whole (429) before any limit is charged or anything read; then it
 * charges N against SUMMARY_RATE_LIMIT accounts and N × 100 against
 * SUMMARY_CHANNEL_RATE_LIMIT channel reads per second per tenant over every replica
 * (RateLimiter: the vendor APIs' leases; per replica while Redis refuses writes); past
 * either, 429.
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
  private readonly channelLimit: number;
  private readonly channelBudget: number;
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
    this.channelLimit = config.rateLimits.summaryChannelsPerSecond;
    this.channelBudget = config.rateLimits.summaryChannelBudget;
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
    const accounts = costOf(req);
    const channels = accounts * MAX_SUMMARY_CHANNELS;
    if (channels > this.channelBudget) {
      throw new HttpException(
        `this call may read ${channels} channels (${MAX_SUMMARY_CHANNELS} per account), more than the ${this.channelBudget} a summary call may read`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    if (!(await this.limiter.allow('summary', app, 'accounts', this.limit, 0, accounts))) {
      throw new HttpException(`more than ${this.limit} accounts per second in summary calls for this app`, HttpStatus.TOO_MANY_REQUESTS);
    }
    if (!(await this.limiter.allow('summary', app, 'channels', this.channelLimit, 0, channels))) {
      throw new HttpException(`more than ${this.channelLimit} channel reads per second in summary calls for this app`, HttpStatus.TOO_MANY_REQUESTS);
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
