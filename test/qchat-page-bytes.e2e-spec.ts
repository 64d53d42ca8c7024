import { Harness, NETEASE_APP } from './support/harness';
import { drained } from './support/drain';
import { qchatHeaders } from './support/qchat-client';

/**
 * The exact bytes of queryChannelUnReadMentionedMsgPage for a fixed event stream. The
 * snapshot (__snapshots__/qchat-page-bytes.e2e-spec.ts.snap) was captured from the gateway
 * that parsed and re-serialised every message per request; pages assembled from fragments
 * rendered at projection time must answer byte for byte the same.
 */
const APP = NETEASE_APP.appKey;
const SERVER = '9007199254740993';
const CHANNEL = '18446744073709551615';
/** Fixed times (Nov 2023), kept inside the retention by a retention of 100 years. */
const T0 = 1_700_000_000_000;

function mention(id: string, from: string, time: number, message: Record<string, unknown>, targets: { all?: boolean; accids?: string[]; roles?: string[] }) {
  return {
    type: 'channel-mention',
    appId: APP,
    serverId: SERVER,
    channelId: CHANNEL,
    message: { msgIdServer: id, fromAccount: from, time, ...message },
    mentionAll: targets.all ?? false,
    mentionAccids: targets.accids ?? [],
    mentionRoleIds: targets.roles ?? [],
  };
}

/** Bodies that exercise every escaping rule of JSON.stringify and multi-byte UTF-8. */
const AWKWARD = [
  'plain',
  'quote " and backslash \\ and slash /',
  'controls \u0000\u0001\b\f\n\r\t\u001f\u007f end',
  'unicode é 中文 😀 \u2028\u2029',
  '{"json":"inside","n":[1,2]}',
  '',
];

describe('QChat page bytes', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ env: { QCHAT_RATE_LIMIT: '1000000', MENTION_RETENTION_MS: String(100 * 365 * 24 * 3600 * 1000) } });
    const members = ['alice', 'bob', 'carol', 'dave'];
    const events: Record<string, unknown>[] = [
      ...members.map((account) => ({ type: 'account-registered', appId: APP, account })),
      ...members.map((account) => ({ type: 'qchat-server-member-joined', appId: APP, serverId: SERVER, account })),
      { type: 'qchat-channel-created', appId: APP, serverId: SERVER, channelId: CHANNEL },
      { type: 'qchat-role-member-added', appId: APP, serverId: SERVER, roleId: '301', account: 'alice' },
      { type: 'qchat-role-member-added', appId: APP, serverId: SERVER, roleId: '302', account: 'alice' },
    ];
    const id = 18446744073709551000n;
    for (let i = 0; i < 60; i++) {
      const from = ['bob', 'carol', 'dave', 'alice'][i % 4]!;
      // Several messages share a millisecond, so pages end inside one.
      const time = T0 + Math.floor(i / 3) * 1000;
      const message: Record<string, unknown> = {
        msgIdClient: `c-${i}`,
        fromNick: i % 5 === 0 ? `Nick "${i}"` : `nick-${i}`,
        fromClientType: ['REST', 'IOS', 'AOS', 'WEB'][i % 4],
        type: i % 7 === 0 ? 100 : 0,
        body: AWKWARD[i % AWKWARD.length],
        attach: i % 6 === 0 ? '{"url":"https://x.example/a?b=1&c=\\u00e9"}' : '',
        ext: i % 4 === 0 ? `{"k":"v${i}"}` : '',
      };
      if (i % 8 === 0) message.updateTime = time + 5;
      if (i % 9 === 0) delete message.fromNick;
      if (i % 11 === 0) delete message.ext;
      const targets =
        i % 3 === 0 ? { all: true } : i % 3 === 1 ? { roles: [i % 2 ? '301' : '302'] } : { accids: ['alice', 'carol'] };
      events.push(mention(String(id + BigInt(i)), from, time, message, targets));
    }
    // Edits, custom statuses, a recall and a delete (some before, some after their mention).
    const upd = (i: number, fields: Record<string, unknown>) => ({
      type: 'channel-message-updated',
      appId: APP,
      serverId: SERVER,
      channelId: CHANNEL,
      msgIdServer: String(id + BigInt(i)),
      ...fields,
    });
    events.push(
      upd(1, { status: 0, updateTime: T0 + 100_000, body: 'edited "body" \\ \n' }),
      upd(2, { status: 10001, updateTime: T0 + 100_001, ext: '{"edited":true}' }),
      upd(4, { status: 1, updateTime: T0 + 100_002 }),
      upd(5, { status: 2, updateTime: T0 + 100_003 }),
      upd(7, { status: 10002, updateTime: T0 + 100_004, body: '😀 edited', ext: '' }),
    );
    events.splice(2, 0, upd(10, { status: 0, updateTime: T0 + 100_005, body: 'edit before the mention' }));
    // alice has read up to a point in the channel
    events.push({ type: 'read-ack', scope: 'channel', appId: APP, account: 'alice', serverId: SERVER, channelId: CHANNEL, ackTime: T0 + 2_000 });
    await h.send(...events);
    await drained(h);
  });
  afterAll(async () => {
    await h.stop();
  });

  async function pages(accid: string, limit: number): Promise<string[]> {
    const out: string[] = [];
    let timeTag = String(T0 + 10_000_000);
    for (let n = 0; n < 40; n++) {
      const res = await fetch(`${h.gateway!.url}/nimserver/qchat/queryChannelUnReadMentionedMsgPage.action`, {
        method: 'POST',
        headers: qchatHeaders(),
        body: new URLSearchParams({ accid, serverId: SERVER, channelId: CHANNEL, timeTag, limit: String(limit) }).toString(),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const text = await res.text();
      out.push(text);
      const page = JSON.parse(text) as { data: { pageInfo: { hasMore: boolean } } };
      if (!page.data.pageInfo.hasMore) break;
      // nextTimetag may exceed 2^53: take its digits from the text
      timeTag = /"nextTimetag":(\d+)/.exec(text)![1]!;
    }
    return out;
  }

  it('answers byte for byte what the re-serialising gateway answered', async () => {
    expect(await pages('alice', 7)).toMatchSnapshot('alice, pages of 7');
    expect(await pages('carol', 200)).toMatchSnapshot('carol, one page');
    expect(await pages('dave', 4)).toMatchSnapshot('dave, pages of 4');
  });
});
