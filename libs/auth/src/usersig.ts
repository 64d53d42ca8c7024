import { createHmac, timingSafeEqual } from 'node:crypto';
import { inflateSync } from 'node:zlib';

/** Longest UserSig accepted (characters); real ones are ~200-400, with a TRTC userbuf ~500. */
export const MAX_USERSIG_LENGTH = 4096;
/** Largest inflated UserSig document (bytes): caps the work a hostile sig can cause. */
export const MAX_USERSIG_DOC_BYTES = 8192;

/** Why a UserSig was refused. Maps 1:1 onto Tencent's 70003 / 70014 / 70013 / 70009 / 70001. */
export type UserSigFailure = 'unparsable' | 'sdkappid-mismatch' | 'identifier-mismatch' | 'bad-signature' | 'expired';

export type UserSigCheck = { ok: true; expiresAtMs: number } | { ok: false; reason: UserSigFailure };

/** A decoded (not yet verified) UserSig v2 document. */
export interface UserSigDoc {
  identifier: string;
  /** As a decimal string, whether the signer wrote a number or a string. */
  sdkAppId: string;
  /** Unix seconds at signing. */
  time: string;
  /** Validity in seconds from `time`. */
  expire: string;
  userbuf?: string;
  sig: string;
}

function numeric(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^[0-9]{1,15}$/.test(v)) return v;
  return undefined;
}

/**
 * Reverses the UserSig v2 encoding (`*`→`+`, `-`→`/`, `_`→`=`, base64, zlib inflate with a
 * size cap, JSON) and checks the document's shape. Undefined when any step fails.
 */
export function decodeUserSig(userSig: string): UserSigDoc | undefined {
  if (userSig.length === 0 || userSig.length > MAX_USERSIG_LENGTH) return undefined;
  if (!/^[A-Za-z0-9*\-_]+$/.test(userSig)) return undefined;
  let doc: unknown;
  try {
    const b64 = userSig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
    const raw = inflateSync(Buffer.from(b64, 'base64'), { maxOutputLength: MAX_USERSIG_DOC_BYTES });
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const d = doc as Record<string, unknown>;
  const identifier = d['TLS.identifier'];
  const sdkAppId = numeric(d['TLS.sdkappid']);
  const time = numeric(d['TLS.time']);
  const expire = numeric(d['TLS.expire']);
  const userbuf = d['TLS.userbuf'];
  const sig = d['TLS.sig'];
  if (typeof identifier !== 'string' || sdkAppId === undefined || time === undefined || expire === undefined) return undefined;
  if (typeof sig !== 'string' || sig.length === 0) return undefined;
  if (userbuf !== undefined && typeof userbuf !== 'string') return undefined;
  if (d['TLS.ver'] !== undefined && d['TLS.ver'] !== '2.0') return undefined;
  return { identifier, sdkAppId, time, expire, userbuf, sig };
}

/** The HMAC-SHA256 of a document's signed content, as raw bytes. */
function expectedSig(doc: UserSigDoc, secretKey: string): Buffer {
  let content =
    `TLS.identifier:${doc.identifier}\n` +
    `TLS.sdkappid:${doc.sdkAppId}\n` +
    `TLS.time:${doc.time}\n` +
    `TLS.expire:${doc.expire}\n`;
  if (doc.userbuf !== undefined) content += `TLS.userbuf:${doc.userbuf}\n`;
  return createHmac('sha256', secretKey).update(content, 'utf8').digest();
}

/**
 * Verifies a UserSig v2 against the request's sdkappid and identifier and the app's secret
 * key. Checks, in order: parsable (else `unparsable`), sdkappid (else `sdkappid-mismatch`),
 * identifier (else `identifier-mismatch`), HMAC compared in constant time (else
 * `bad-signature`), then expiry: expired when now > time + expire (else `expired`).
 */
export function verifyUserSig(
  userSig: string,
  expect: { sdkAppId: string; identifier: string; secretKey: string },
  nowMs: number = Date.now(),
): UserSigCheck {
  const doc = decodeUserSig(userSig);
  if (!doc) return { ok: false, reason: 'unparsable' };
  if (doc.sdkAppId !== expect.sdkAppId) return { ok: false, reason: 'sdkappid-mismatch' };
  if (doc.identifier !== expect.identifier) return { ok: false, reason: 'identifier-mismatch' };
  const given = Buffer.from(doc.sig, 'base64');
  const wanted = expectedSig(doc, expect.secretKey);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { ok: false, reason: 'bad-signature' };
  const expiresAtMs = (Number(doc.time) + Number(doc.expire)) * 1000;
  if (nowMs > expiresAtMs) return { ok: false, reason: 'expired' };
  return { ok: true, expiresAtMs };
}

export interface UserSigVerifierOptions {
  /** The secret key of an app, undefined when the app is unknown. */
  secretKeyOf: (sdkAppId: string) => string | undefined;
  /** How long a verified signature is trusted without re-verifying (0 = no cache). */
  cacheMs: number;
  /** Bound on cached signatures (least recently used ones go first). */
  maxEntries?: number;
  now?: () => number;
}

interface CachedSig {
  sdkAppId: string;
  identifier: string;
  /** min(verified + cacheMs, the signature's own expiry). */
  untilMs: number;
  expiresAtMs: number;
}

/**
 * `verifyUserSig` behind a small in-process LRU keyed by the UserSig string, so a caller
 * that reuses its signature (as every backend does) costs one Map lookup per request. Only
 * successful verifications are cached, never past the signature's own expiry; a hit still
 * checks the request's sdkappid and identifier against what the signature says.
 */
export class UserSigVerifier {
  private readonly cache = new Map<string, CachedSig>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly opts: UserSigVerifierOptions) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  verify(userSig: string, sdkAppId: string, identifier: string): UserSigCheck {
    const now = this.now();
    const hit = this.cache.get(userSig);
    if (hit) {
      if (hit.untilMs >= now) {
        if (hit.sdkAppId !== sdkAppId) return { ok: false, reason: 'sdkappid-mismatch' };
        if (hit.identifier !== identifier) return { ok: false, reason: 'identifier-mismatch' };
        // refresh recency (Map keeps insertion order)
        this.cache.delete(userSig);
        this.cache.set(userSig, hit);
        return { ok: true, expiresAtMs: hit.expiresAtMs };
      }
      this.cache.delete(userSig);
    }
    const secretKey = this.opts.secretKeyOf(sdkAppId);
    if (secretKey === undefined) return { ok: false, reason: 'sdkappid-mismatch' };
    const check = verifyUserSig(userSig, { sdkAppId, identifier, secretKey }, now);
    if (check.ok && this.opts.cacheMs > 0) {
      this.cache.set(userSig, {
        sdkAppId,
        identifier,
        untilMs: Math.min(now + this.opts.cacheMs, check.expiresAtMs),
        expiresAtMs: check.expiresAtMs,
      });
      if (this.cache.size > this.maxEntries) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
    }
    return check;
  }

  /** True when `userSig` verified recently and is trusted without re-verifying (a Map lookup). */
  cached(userSig: string): boolean {
    const hit = this.cache.get(userSig);
    return hit !== undefined && hit.untilMs >= this.now();
  }

  /** Number of cached signatures (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }
}
