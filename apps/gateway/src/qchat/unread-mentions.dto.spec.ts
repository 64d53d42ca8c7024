import { QchatError } from './qchat.errors';
import {
  decodeTimeTag,
  encodeTimeTag,
  parseUnreadMentionsForm,
  renderUnreadMentions,
  renderUnreadMentionsBytes,
} from './unread-mentions.dto';
import { renderMentionedMessage } from '@app/store';

const FORM = 'application/x-www-form-urlencoded;charset=utf-8';
const NOW = 1_700_000_000_000;

function error(fn: () => unknown): { code: number; desc: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof QchatError) return { code: e.code, desc: e.desc };
    throw e;
  }
  throw new Error('did not throw');
}

describe('timeTag cursor codec', () => {
  it('reads plain times as (T, 0) and cursors as ms * 1000 + skip', () => {
    expect(decodeTimeTag('1669794854264')).toEqual({ time: 1669794854264, skip: 0 });
    expect(decodeTimeTag('0')).toEqual({ time: 0, skip: 0 });
    expect(decodeTimeTag('999999999999999')).toEqual({ time: 999999999999999, skip: 0 });
    expect(decodeTimeTag('1669794854264007')).toEqual({ time: 1669794854264, skip: 7 });
    expect(decodeTimeTag('1000000000000000')).toEqual({ time: 1000000000000, skip: 0 });
  });

  it('round-trips every position it produces', () => {
    const positions = [
      { time: 1669794854264, skip: 0 },
      { time: 1669794854264, skip: 1 },
      { time: 1669794854264, skip: 999 },
      { time: 0, skip: 0 },
      { time: Number.MAX_SAFE_INTEGER, skip: 0 },
      { time: Number.MAX_SAFE_INTEGER, skip: 42 },
      { time: 2_000_000_000_000_000, skip: 0 },
    ];
    for (const p of positions) expect(decodeTimeTag(encodeTimeTag(p))).toEqual(p);
    expect(encodeTimeTag({ time: 1669794854264, skip: 0 })).toBe('1669794854264');
    expect(encodeTimeTag({ time: 1669794854264, skip: 12 })).toBe('1669794854264012');
    expect(encodeTimeTag({ time: Number.MAX_SAFE_INTEGER, skip: 42 })).toBe('9007199254740991042');
  });

  it('orders cursors like the positions they encode', () => {
    // a later position in the list (older, or further inside one millisecond) never encodes larger
    // than the plain time of its millisecond, and positions in one millisecond grow with skip
    const t = 1669794854264;
    const a = BigInt(encodeTimeTag({ time: t, skip: 1 }));
    const b = BigInt(encodeTimeTag({ time: t, skip: 2 }));
    expect(b).toBeGreaterThan(a);
    expect(decodeTimeTag(String(a))!.time).toBe(t);
  });

  it('clamps times beyond the largest safe integer and refuses what is not an int64', () => {
    expect(decodeTimeTag('9223372036854775807')).toEqual({
      time: Number.MAX_SAFE_INTEGER,
      skip: 0,
    });
    for (const bad of [
      '',
      '-1',
      '1.5',
      '1e3',
      ' 1',
      '0x1f',
      '9223372036854775808',
      '99999999999999999999',
    ]) {
      expect(decodeTimeTag(bad)).toBeUndefined();
    }
  });
});

describe('parseUnreadMentionsForm', () => {
  const ok = 'accid=alice&serverId=87834762&channelId=25372323';

  it('applies defaults: timeTag now, limit 200', () => {
    expect(parseUnreadMentionsForm(FORM, ok, NOW)).toEqual({
      accid: 'alice',
      serverId: '87834762',
      channelId: '25372323',
      position: { time: NOW, skip: 0 },
      limit: 200,
    });
    expect(
      parseUnreadMentionsForm('application/x-www-form-urlencoded', `${ok}&timeTag=&limit=`, NOW)
        .limit,
    ).toBe(200);
    expect(parseUnreadMentionsForm(FORM, `${ok}&timeTag=0`, NOW).position).toEqual({
      time: NOW,
      skip: 0,
    });
  });

  it('decodes form encoding, normalizes ids and reads timeTag and limit', () => {
    expect(
      parseUnreadMentionsForm(
        FORM,
        'accid=a%20b%2Bc&serverId=007&channelId=18446744073709551615&timeTag=1669794854264003&limit=7&x=1',
        NOW,
      ),
    ).toEqual({
      accid: 'a b+c',
      serverId: '7',
      channelId: '18446744073709551615',
      position: { time: 1669794854264, skip: 3 },
      limit: 7,
    });
  });

  it('refuses a wrong or missing Content-Type with 414', () => {
    for (const ct of [
      undefined,
      'application/json',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencodedx',
    ]) {
      expect(error(() => parseUnreadMentionsForm(ct, ok, NOW))).toEqual({
        code: 414,
        desc: 'Content-Type must be application/x-www-form-urlencoded',
      });
    }
  });

  it('refuses repeated parameters with 414', () => {
    expect(error(() => parseUnreadMentionsForm(FORM, `${ok}&accid=bob`, NOW))).toEqual({
      code: 414,
      desc: 'parameter accid is repeated',
    });
  });

  it('answers 404 for a missing or empty required parameter', () => {
    expect(error(() => parseUnreadMentionsForm(FORM, 'serverId=1&channelId=2', NOW))).toEqual({
      code: 404,
      desc: 'accid is empty',
    });
    expect(
      error(() => parseUnreadMentionsForm(FORM, 'accid=a&serverId=&channelId=2', NOW)),
    ).toEqual({ code: 404, desc: 'serverId is empty' });
    expect(error(() => parseUnreadMentionsForm(FORM, 'accid=a&serverId=1', NOW))).toEqual({
      code: 404,
      desc: 'channelId is empty',
    });
    expect(error(() => parseUnreadMentionsForm(FORM, undefined, NOW))).toEqual({
      code: 404,
      desc: 'accid is empty',
    });
  });

  it('answers 414 for malformed numbers and limit out of 1..200, 405 for a too long accid', () => {
    const cases: [string, number, string][] = [
      ['accid=a&serverId=x&channelId=2', 414, 'serverId must be a non-negative 64-bit integer'],
      ['accid=a&serverId=1&channelId=-2', 414, 'channelId must be a non-negative 64-bit integer'],
      [
        'accid=a&serverId=18446744073709551616&channelId=2',
        414,
        'serverId must be a non-negative 64-bit integer',
      ],
      [`${ok}&timeTag=abc`, 414, 'timeTag must be a non-negative 64-bit integer'],
      [`${ok}&timeTag=-5`, 414, 'timeTag must be a non-negative 64-bit integer'],
      [`${ok}&limit=201`, 414, 'limit must be an integer from 1 to 200'],
      [`${ok}&limit=0`, 414, 'limit must be an integer from 1 to 200'],
      [`${ok}&limit=1.5`, 414, 'limit must be an integer from 1 to 200'],
      [
        `accid=${'a'.repeat(257)}&serverId=1&channelId=2`,
        405,
        'accid is longer than 256 characters',
      ],
      // the account-id rule every other API applies (contracts' isId): no control characters
      ['accid=al%00ice&serverId=1&channelId=2', 414, 'accid must not contain control characters'],
      ['accid=%1B%5B31m&serverId=1&channelId=2', 414, 'accid must not contain control characters'],
      ['accid=bob%7F&serverId=1&channelId=2', 414, 'accid must not contain control characters'],
    ];
    for (const [body, code, desc] of cases)
      expect(error(() => parseUnreadMentionsForm(FORM, body, NOW))).toEqual({ code, desc });
    expect(parseUnreadMentionsForm(FORM, `${ok}&limit=200`, NOW).limit).toBe(200);
    expect(parseUnreadMentionsForm(FORM, `${ok}&limit=1`, NOW).limit).toBe(1);
  });
});

describe('renderUnreadMentions', () => {
  it('writes msgIdServer and nextTimetag as JSON numbers with their exact digits', () => {
    const text = renderUnreadMentions({
      hasMore: true,
      next: { time: 1669794854264, skip: 2 },
      messages: [
        renderMentionedMessage({
          msgIdServer: '18446744073709551615',
          msgIdClient: 'c1',
          fromAccount: 'bob',
          fromNick: 'Bob',
          fromClientType: 'REST',
          time: 1669794854264,
          updateTime: 1669794854264,
          status: 0,
          mentionedAll: 1,
          type: 0,
          body: '"msgIdServer":"1"',
          attach: '',
          ext: '',
        }),
      ],
    });
    expect(text).toBe(
      '{"code":200,"data":{"pageInfo":{"nextTimetag":1669794854264002,"hasMore":true},"msgList":[{"msgIdServer":18446744073709551615,' +
        '"msgIdClient":"c1","fromAccount":"bob","fromNick":"Bob","fromClientType":"REST","time":1669794854264,"updateTime":1669794854264,' +
        '"status":0,"mentionedAll":1,"type":0,"body":"\\"msgIdServer\\":\\"1\\"","attach":"","ext":""}]}}',
    );
    expect(renderUnreadMentions({ hasMore: false, next: { time: 5, skip: 0 }, messages: [] })).toBe(
      '{"code":200,"data":{"pageInfo":{"nextTimetag":5,"hasMore":false},"msgList":[]}}',
    );
  });
});

describe('renderUnreadMentionsBytes', () => {
  it('is renderUnreadMentions encoded as UTF-8, for any number of messages', () => {
    const messages = ['{"body":"é 中文 😀"}', '{"body":"\\u2028"}', '{}'];
    for (const n of [0, 1, 2, 3]) {
      const page = { hasMore: n % 2 === 0, next: { time: 1669794854264, skip: n }, messages: messages.slice(0, n) };
      const bytes = renderUnreadMentionsBytes({ hasMore: page.hasMore, next: page.next, texts: page.messages.map((m) => Buffer.from(m)) });
      expect(bytes.equals(Buffer.from(renderUnreadMentions(page), 'utf8'))).toBe(true);
    }
  });
});
