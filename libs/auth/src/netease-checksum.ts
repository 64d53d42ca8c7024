import { createHash, timingSafeEqual } from 'node:crypto';

/** A CheckSum is valid while CurTime is within this distance of the server's clock (either way). */
export const NETEASE_CHECKSUM_WINDOW_MS = 5 * 60_000;
/** Longest Nonce accepted (the vendor's limit). */
export const MAX_NONCE_LENGTH = 128;

/** The NetEase server API CheckSum: lowercase hex SHA1(AppSecret + Nonce + CurTime). */
export function neteaseCheckSum(appSecret: string, nonce: string, curTime: string): string {
  return createHash('sha1')
    .update(appSecret + nonce + curTime, 'utf8')
    .digest('hex');
}

/** The four auth headers as received (undefined when absent). */
export interface NeteaseAuthHeaders {
  appKey?: string;
  nonce?: string;
  curTime?: string;
  checkSum?: string;
}

/** Why a request was refused; every one answers code 414. */
export type NeteaseAuthFailure = 'bad-header' | 'unknown-appkey' | 'expired' | 'bad-checksum';

export type NeteaseAuthCheck =
  | { ok: true; appKey: string; nonce: string; /** CurTime in ms. */ curTimeMs: number }
  | { ok: false; reason: NeteaseAuthFailure; desc: string };

/**
 * Verifies a NetEase server API request's headers, in order: all four present and well
 * formed (Nonce at most 128 characters, CurTime Unix seconds) → `bad-header`; AppKey known
 * → `unknown-appkey`; CurTime within ±5 minutes of `nowMs` → `expired`; CheckSum equal to
 * SHA1(AppSecret + Nonce + CurTime), compared in constant time (hex case-insensitive) →
 * `bad-checksum`. Nonce reuse is the caller's business (it needs shared state).
 */
export function verifyNeteaseRequest(
  h: NeteaseAuthHeaders,
  secretOf: (appKey: string) => string | undefined,
  nowMs: number,
): NeteaseAuthCheck {
  const missing = (['appKey', 'nonce', 'curTime', 'checkSum'] as const).find((k) => !h[k]);
  if (missing) return fail('bad-header', `bad http header: ${HEADER_NAMES[missing]} is missing`);
  const { appKey, nonce, curTime, checkSum } = h as Required<NeteaseAuthHeaders>;
  if (nonce.length > MAX_NONCE_LENGTH)
    return fail(
      'bad-header',
      `bad http header: Nonce is longer than ${MAX_NONCE_LENGTH} characters`,
    );
  if (!/^[0-9]{1,12}$/.test(curTime))
    return fail('bad-header', 'bad http header: CurTime must be Unix seconds');
  const secret = secretOf(appKey);
  if (secret === undefined) return fail('unknown-appkey', 'appkey is not valid');
  const curTimeMs = Number(curTime) * 1000;
  if (Math.abs(nowMs - curTimeMs) > NETEASE_CHECKSUM_WINDOW_MS)
    return fail('expired', 'CurTime is expired');
  const expected = Buffer.from(neteaseCheckSum(secret, nonce, curTime), 'utf8');
  const given = Buffer.from(checkSum.toLowerCase(), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return fail('bad-checksum', 'checksum is not valid');
  return { ok: true, appKey, nonce, curTimeMs };
}

const HEADER_NAMES = {
  appKey: 'AppKey',
  nonce: 'Nonce',
  curTime: 'CurTime',
  checkSum: 'CheckSum',
} as const;

function fail(reason: NeteaseAuthFailure, desc: string): NeteaseAuthCheck {
  return { ok: false, reason, desc };
}
