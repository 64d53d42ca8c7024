import { randomInt } from 'node:crypto';
import { TENCENT_APP } from './harness';

// The official signer (CommonJS, untyped): `new Api(sdkappid, key).genSig(identifier, expireSeconds)`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const TLSSigAPIv2 = require('tls-sig-api-v2') as {
  Api: new (sdkappid: number | string, key: string) => { genSig(identifier: string, expire: number, userBuf?: Buffer | null): string };
};

/** A UserSig from the official tls-sig-api-v2 package. */
export function genUserSig(identifier: string, expireSeconds = 86_400, sdkAppId: string = TENCENT_APP.sdkAppId, key: string = TENCENT_APP.secretKey): string {
  return new TLSSigAPIv2.Api(Number(sdkAppId), key).genSig(identifier, expireSeconds);
}

export interface TencentUrlOptions {
  sdkappid?: string | null;
  identifier?: string | null;
  usersig?: string | null;
  random?: string | null;
  contenttype?: string | null;
  /** Extra raw query text appended as is (e.g. a repeated parameter). */
  extra?: string;
}

/**
 * A Tencent REST URL `<base>/v4/<service>/<command>?sdkappid=&identifier=&usersig=&random=&contenttype=json`,
 * signed for the test app's admin by default. A field set to null is left out of the URL.
 */
export function tencentUrl(base: string, api: string, opts: TencentUrlOptions = {}): string {
  const identifier = opts.identifier === undefined ? TENCENT_APP.admins[0]! : opts.identifier;
  const params: [string, string | null][] = [
    ['sdkappid', opts.sdkappid === undefined ? TENCENT_APP.sdkAppId : opts.sdkappid],
    ['identifier', identifier],
    ['usersig', opts.usersig === undefined ? genUserSig(identifier ?? 'administrator') : opts.usersig],
    ['random', opts.random === undefined ? String(randomInt(2 ** 32 - 1)) : opts.random],
    ['contenttype', opts.contenttype === undefined ? 'json' : opts.contenttype],
  ];
  const query = params
    .filter((p): p is [string, string] => p[1] !== null)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  return `${base}/v4/${api}?${query}${opts.extra ? `&${opts.extra}` : ''}`;
}

/** POSTs a body (an object is JSON-encoded, a string is sent as is) and returns status and parsed JSON. */
export async function tencentPost(
  base: string,
  api: string,
  body: unknown,
  opts: TencentUrlOptions = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(tencentUrl(base, api, opts), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
