import {
  applyDecorators,
  Controller,
  createParamDecorator,
  HttpCode,
  Post,
  UseGuards,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import type { TencentAppConfig } from '@app/config';
import { TENCENT, TencentError } from './tencent.errors';
import { TencentApiDocs } from './tencent.dto';
import { TencentGuard } from './tencent.guard';

/**
 * What the common layer established about a request once TencentGuard let it through:
 * the app (from `sdkappid`), the admin `identifier` whose UserSig verified, and the API
 * name the rate limit was counted against.
 */
export interface TencentRequestContext {
  app: TencentAppConfig;
  identifier: string;
  /** The route as registered, e.g. `/v4/openim/get_c2c_unread_msg_num`. */
  api: string;
}

export type TencentRequest = Request & { tencent?: TencentRequestContext };

/** A JSON object body, as parsed by `@TencentBody`. */
export type JsonObject = Record<string, unknown>;

/**
 * A controller for one Tencent service (`/v4/<service>/...`), guarded by the common layer:
 * every route under it passes TencentGuard (URL params, UserSig, admin, rate limit) first.
 */
export function TencentController(service: string): ClassDecorator {
  return applyDecorators(Controller(`v4/${service}`), UseGuards(TencentGuard), TencentApiDocs(service));
}

/** A Tencent command: POST, and HTTP 200 whatever the outcome. */
export function TencentCommand(command: string): MethodDecorator {
  return applyDecorators(Post(command), HttpCode(200));
}

/** The request's TencentRequestContext (set by TencentGuard). */
export const TencentCtx = createParamDecorator((_: unknown, ctx: ExecutionContext): TencentRequestContext => {
  const req = ctx.switchToHttp().getRequest<TencentRequest>();
  if (!req.tencent) throw new Error('TencentCtx used on a route without TencentGuard');
  return req.tencent;
});

/**
 * Parses the raw text body as a JSON object. Anything else (empty, not JSON, an array, a
 * scalar) is answered with `malformedCode`: each endpoint names its own (e.g. 90001 for
 * openim commands), since Tencent's endpoints do not agree on one.
 */
export function parseTencentBody(raw: unknown, malformedCode: number): JsonObject {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new TencentError(malformedCode, 'the request body must be a JSON object');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    throw new TencentError(malformedCode, `JSON parse error: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new TencentError(malformedCode, 'the request body must be a JSON object');
  }
  return body as JsonObject;
}

/** The body parsed as a JSON object; `@TencentBody(90001) body: JsonObject`. Runs after the guard. */
export const TencentBody = createParamDecorator((malformedCode: number, ctx: ExecutionContext): JsonObject =>
  parseTencentBody(ctx.switchToHttp().getRequest<Request>().body, malformedCode),
);

/**
 * A required account field. Missing (or null, or empty) → `missingCode`; present but not a
 * string → 60015 (account type error).
 */
export function requiredAccount(body: JsonObject, field: string, missingCode: number): string {
  const v = body[field];
  if (v === undefined || v === null || v === '') throw new TencentError(missingCode, `${field} is missing`);
  if (typeof v !== 'string') throw new TencentError(TENCENT.ACCOUNT_TYPE, `${field} must be a string`);
  return v;
}

/**
 * An optional list of accounts. Absent or null → undefined; not an array of strings → 60015.
 */
export function optionalAccountList(body: JsonObject, field: string): string[] | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((a) => typeof a === 'string')) {
    throw new TencentError(TENCENT.ACCOUNT_TYPE, `${field} must be an array of strings`);
  }
  return v;
}
