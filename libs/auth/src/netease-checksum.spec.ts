import {
  neteaseCheckSum,
  verifyNeteaseRequest,
  NETEASE_CHECKSUM_WINDOW_MS,
} from './netease-checksum';

const SECRET = 'c1f2b8e5a3d4';
const secretOf = (k: string) => (k === 'app1' ? SECRET : undefined);
const CUR = '1443592222';
const NOW = 1443592222 * 1000;

function headers(
  over: Partial<Record<'appKey' | 'nonce' | 'curTime' | 'checkSum', string | undefined>> = {},
) {
  const nonce = over.nonce ?? 'nonce-4tggge3t23';
  const curTime = over.curTime ?? CUR;
  return {
    appKey: 'app1',
    nonce,
    curTime,
    checkSum: neteaseCheckSum(SECRET, nonce, curTime),
    ...over,
  };
}

describe('neteaseCheckSum', () => {
  it('is lowercase hex SHA1(AppSecret + Nonce + CurTime)', () => {
    // printf 'c1f2b8e5a3d4nonce-4tggge3t231443592222' | sha1sum
    expect(neteaseCheckSum(SECRET, 'nonce-4tggge3t23', CUR)).toBe(
      '93451f965a8a2dc39efe84865d43c2174651b2ff',
    );
  });
});

describe('verifyNeteaseRequest', () => {
  it('accepts a correct request, with the CheckSum in either case', () => {
    expect(verifyNeteaseRequest(headers(), secretOf, NOW)).toEqual({
      ok: true,
      appKey: 'app1',
      nonce: 'nonce-4tggge3t23',
      curTimeMs: NOW,
    });
    const h = headers();
    expect(
      verifyNeteaseRequest({ ...h, checkSum: h.checkSum.toUpperCase() }, secretOf, NOW).ok,
    ).toBe(true);
  });

  it.each(['appKey', 'nonce', 'curTime', 'checkSum'] as const)(
    'refuses a missing or empty %s as a bad header',
    (k) => {
      expect(verifyNeteaseRequest({ ...headers(), [k]: undefined }, secretOf, NOW)).toMatchObject({
        ok: false,
        reason: 'bad-header',
      });
      expect(verifyNeteaseRequest({ ...headers(), [k]: '' }, secretOf, NOW)).toMatchObject({
        ok: false,
        reason: 'bad-header',
      });
    },
  );

  it('refuses a Nonce over 128 characters and a CurTime that is not Unix seconds', () => {
    expect(verifyNeteaseRequest(headers({ nonce: 'n'.repeat(129) }), secretOf, NOW)).toEqual({
      ok: false,
      reason: 'bad-header',
      desc: 'bad http header: Nonce is longer than 128 characters',
    });
    expect(verifyNeteaseRequest(headers({ nonce: 'n'.repeat(128) }), secretOf, NOW).ok).toBe(true);
    for (const curTime of ['-1', '1.5', '0x10', ' 1443592222', '1443592222000000']) {
      expect(verifyNeteaseRequest(headers({ curTime }), secretOf, NOW)).toMatchObject({
        ok: false,
        reason: 'bad-header',
      });
    }
  });

  it('refuses an unknown AppKey', () => {
    expect(verifyNeteaseRequest({ ...headers(), appKey: 'other' }, secretOf, NOW)).toEqual({
      ok: false,
      reason: 'unknown-appkey',
      desc: 'appkey is not valid',
    });
  });

  it('accepts CurTime up to 5 minutes either side of now, not beyond', () => {
    expect(verifyNeteaseRequest(headers(), secretOf, NOW + NETEASE_CHECKSUM_WINDOW_MS).ok).toBe(
      true,
    );
    expect(verifyNeteaseRequest(headers(), secretOf, NOW - NETEASE_CHECKSUM_WINDOW_MS).ok).toBe(
      true,
    );
    expect(verifyNeteaseRequest(headers(), secretOf, NOW + NETEASE_CHECKSUM_WINDOW_MS + 1)).toEqual(
      {
        ok: false,
        reason: 'expired',
        desc: 'CurTime is expired',
      },
    );
    expect(
      verifyNeteaseRequest(headers(), secretOf, NOW - NETEASE_CHECKSUM_WINDOW_MS - 1),
    ).toMatchObject({ reason: 'expired' });
  });

  it('refuses a CheckSum made with another secret, nonce or time, or of another length', () => {
    const wrong = [
      neteaseCheckSum('other', 'nonce-4tggge3t23', CUR),
      neteaseCheckSum(SECRET, 'nonce-other', CUR),
      neteaseCheckSum(SECRET, 'nonce-4tggge3t23', '1443592223'),
      neteaseCheckSum(SECRET, 'nonce-4tggge3t23', CUR).slice(1),
      neteaseCheckSum(SECRET, 'nonce-4tggge3t23', CUR) + '0',
    ];
    for (const checkSum of wrong) {
      expect(verifyNeteaseRequest({ ...headers(), checkSum }, secretOf, NOW)).toEqual({
        ok: false,
        reason: 'bad-checksum',
        desc: 'checksum is not valid',
      });
    }
  });
});
