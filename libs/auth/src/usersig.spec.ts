import { createHmac } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { decodeUserSig, MAX_USERSIG_LENGTH, UserSigVerifier, verifyUserSig } from './usersig';

// The official signer (CommonJS, untyped).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const TLSSigAPIv2 = require('tls-sig-api-v2') as {
  Api: new (sdkappid: number, key: string) => {
    genSig(identifier: string, expire: number): string;
    genPrivateMapKey(identifier: string, expire: number, roomid: number, privilegeMap: number): string;
  };
};

const APP = '1400000001';
const KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
const api = new TLSSigAPIv2.Api(Number(APP), KEY);
const expect_ = { sdkAppId: APP, identifier: 'admin', secretKey: KEY };

function encode(json: string, level = 6): string {
  return deflateSync(Buffer.from(json), { level }).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}
function decodeDoc(sig: string): Record<string, unknown> {
  const doc = decodeUserSig(sig);
  if (!doc) throw new Error('undecodable');
  return { 'TLS.ver': '2.0', 'TLS.identifier': doc.identifier, 'TLS.sdkappid': Number(doc.sdkAppId), 'TLS.time': Number(doc.time), 'TLS.expire': Number(doc.expire), 'TLS.sig': doc.sig };
}

describe('verifyUserSig', () => {
  it('accepts a signature from tls-sig-api-v2 and reports its expiry', () => {
    const before = Math.floor(Date.now() / 1000);
    const check = verifyUserSig(api.genSig('admin', 3600), expect_);
    expect(check.ok).toBe(true);
    if (check.ok) {
      expect(check.expiresAtMs).toBeGreaterThanOrEqual((before + 3600) * 1000);
      expect(check.expiresAtMs).toBeLessThanOrEqual((before + 3601) * 1000);
    }
  });

  it('accepts a PrivateMapKey-style signature carrying TLS.userbuf', () => {
    expect(verifyUserSig(api.genPrivateMapKey('admin', 3600, 1234, 255), expect_)).toEqual({ ok: true, expiresAtMs: expect.any(Number) });
  });

  it('accepts the Go SDK encoding: no compression, trailing newline, other key order', () => {
    const time = Math.floor(Date.now() / 1000);
    const content = `TLS.identifier:admin\nTLS.sdkappid:${APP}\nTLS.time:${time}\nTLS.expire:600\n`;
    const sig = createHmac('sha256', KEY).update(content).digest('base64');
    const json = `{"TLS.sig":"${sig}","TLS.expire":600,"TLS.time":${time},"TLS.sdkappid":${APP},"TLS.identifier":"admin","TLS.ver":"2.0"}\n`;
    expect(verifyUserSig(encode(json, 0), expect_)).toEqual({ ok: true, expiresAtMs: (time + 600) * 1000 });
  });

  it('refuses a signature made with another key (bad-signature)', () => {
    const other = new TLSSigAPIv2.Api(Number(APP), 'another-key').genSig('admin', 3600);
    expect(verifyUserSig(other, expect_)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a tampered document (expire extended, signature kept) as bad-signature', () => {
    const doc = decodeDoc(api.genSig('admin', 60));
    doc['TLS.expire'] = 86_400 * 365;
    expect(verifyUserSig(encode(JSON.stringify(doc)), expect_)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a tampered HMAC (one byte flipped, and truncated) as bad-signature', () => {
    const doc = decodeDoc(api.genSig('admin', 60));
    const raw = Buffer.from(doc['TLS.sig'] as string, 'base64');
    raw[0] = raw[0]! ^ 1;
    expect(verifyUserSig(encode(JSON.stringify({ ...doc, 'TLS.sig': raw.toString('base64') })), expect_)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyUserSig(encode(JSON.stringify({ ...doc, 'TLS.sig': raw.subarray(0, 16).toString('base64') })), expect_)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses an expired signature (now > time + expire), accepts it up to that second', () => {
    const sig = api.genSig('admin', 10);
    const time = Number(decodeUserSig(sig)!.time);
    expect(verifyUserSig(sig, expect_, (time + 10) * 1000)).toEqual({ ok: true, expiresAtMs: (time + 10) * 1000 });
    expect(verifyUserSig(sig, expect_, (time + 10) * 1000 + 1)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a signature of another app (sdkappid-mismatch) and of another identifier', () => {
    const otherApp = new TLSSigAPIv2.Api(1400000002, KEY).genSig('admin', 3600);
    expect(verifyUserSig(otherApp, expect_)).toEqual({ ok: false, reason: 'sdkappid-mismatch' });
    expect(verifyUserSig(api.genSig('someone', 3600), expect_)).toEqual({ ok: false, reason: 'identifier-mismatch' });
  });

  it.each([
    ['empty', ''],
    ['not base64 at all', '!!!!'],
    ['base64 but not zlib', Buffer.from('hello world').toString('base64')],
    ['zlib of text that is not JSON', encode('not json')],
    ['JSON that is not an object', encode('[1,2]')],
    ['a document without TLS.sig', encode(JSON.stringify({ 'TLS.ver': '2.0', 'TLS.identifier': 'admin', 'TLS.sdkappid': 1400000001, 'TLS.time': 1, 'TLS.expire': 1 }))],
    ['a document with a non-numeric time', encode(JSON.stringify({ 'TLS.ver': '2.0', 'TLS.identifier': 'admin', 'TLS.sdkappid': 1400000001, 'TLS.time': 'x', 'TLS.expire': 1, 'TLS.sig': 'AAAA' }))],
    ['a document of another version', encode(JSON.stringify({ 'TLS.ver': '1.0', 'TLS.identifier': 'admin', 'TLS.sdkappid': 1400000001, 'TLS.time': 1, 'TLS.expire': 1, 'TLS.sig': 'AAAA' }))],
    ['a decompression bomb', encode(' '.repeat(1_000_000), 9)],
    ['an over-long string', 'A'.repeat(MAX_USERSIG_LENGTH + 1)],
  ])('refuses %s as unparsable', (_what, sig) => {
    expect(verifyUserSig(sig, expect_)).toEqual({ ok: false, reason: 'unparsable' });
  });
});

describe('UserSigVerifier (cache)', () => {
  function setup(cacheMs: number, maxEntries?: number) {
    let now = Date.now();
    let lookups = 0;
    const verifier = new UserSigVerifier({
      secretKeyOf: (id) => {
        lookups++;
        return id === APP ? KEY : undefined;
      },
      cacheMs,
      maxEntries,
      now: () => now,
    });
    return { verifier, lookups: () => lookups, advance: (ms: number) => (now += ms) };
  }

  it('verifies once, then answers from the cache until cacheMs passes', () => {
    const { verifier, lookups, advance } = setup(60_000);
    const sig = api.genSig('admin', 3600);
    expect(verifier.verify(sig, APP, 'admin').ok).toBe(true);
    expect(verifier.verify(sig, APP, 'admin').ok).toBe(true);
    expect(lookups()).toBe(1);
    advance(60_001);
    expect(verifier.verify(sig, APP, 'admin').ok).toBe(true);
    expect(lookups()).toBe(2);
  });

  it('never trusts a cached signature past its own expiry', () => {
    const { verifier, advance } = setup(3_600_000);
    const sig = api.genSig('admin', 2);
    expect(verifier.verify(sig, APP, 'admin').ok).toBe(true);
    advance(3_001);
    expect(verifier.verify(sig, APP, 'admin')).toEqual({ ok: false, reason: 'expired' });
  });

  it('still checks sdkappid and identifier on a cache hit', () => {
    const { verifier } = setup(60_000);
    const sig = api.genSig('admin', 3600);
    expect(verifier.verify(sig, APP, 'admin').ok).toBe(true);
    expect(verifier.verify(sig, APP, 'other')).toEqual({ ok: false, reason: 'identifier-mismatch' });
    expect(verifier.verify(sig, '1400000009', 'admin')).toEqual({ ok: false, reason: 'sdkappid-mismatch' });
  });

  it('caches only successes, is bounded, and can be turned off', () => {
    const bounded = setup(60_000, 2);
    expect(bounded.verifier.verify(new TLSSigAPIv2.Api(Number(APP), 'x').genSig('admin', 60), APP, 'admin').ok).toBe(false);
    expect(bounded.verifier.size).toBe(0);
    for (const id of ['a', 'b', 'c']) expect(bounded.verifier.verify(api.genSig(id, 60), APP, id).ok).toBe(true);
    expect(bounded.verifier.size).toBe(2);
    const off = setup(0);
    const sig = api.genSig('admin', 60);
    off.verifier.verify(sig, APP, 'admin');
    off.verifier.verify(sig, APP, 'admin');
    expect(off.lookups()).toBe(2);
    expect(off.verifier.size).toBe(0);
  });
});
