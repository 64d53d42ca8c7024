import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@app/config';

/**
 * The account summary API's auth (docs/api/summary.md): `Authorization: Bearer <apiKey>`,
 * where apiKey is configured per tenant beside the vendor's secret (TENANTS_JSON, either
 * family). Missing, malformed or wrong credentials, and apps without a key, all get the
 * same 401: the answer never says which apps exist.
 */
@Injectable()
export class SummaryGuard implements CanActivate {
  /** appId → SHA-256 of each key it accepts (compared in constant time). */
  private readonly keys = new Map<string, Buffer[]>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const add = (app: string, key: string | undefined) => {
      if (key) this.keys.set(app, [...(this.keys.get(app) ?? []), digest(key)]);
    };
    for (const t of config.tenants.tencent) add(t.sdkAppId, t.apiKey);
    for (const t of config.tenants.netease) add(t.appKey, t.apiKey);
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const auth = req.headers.authorization;
    const m = auth ? /^Bearer ([^\s]+)$/i.exec(auth) : null;
    if (!m) throw new UnauthorizedException('missing bearer token');
    const given = digest(m[1]!);
    const accepted = this.keys.get(String(req.params.appId));
    if (!accepted?.some((k) => timingSafeEqual(k, given))) throw new UnauthorizedException('invalid credentials for this app');
    return true;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
