import { registered } from './support/accounts';
import { createHash, randomBytes } from 'node:crypto';
import { type ChannelKeys, Keyspace, padMsgId } from '@app/store';
import { Harness, NETEASE_APP, uniq } from './support/harness';
import { scanAll } from './support/snapshot';
import { drained } from './support/drain';
import { waitFor } from './support/wait';
import { prng } from './support/random';
import { CountModel } from './support/count-model';
import type { UnreadEvent } from '@app/contracts';

const PATH = '/nimserver/qchat/queryChannelUnReadMentionedMsgPage.action';
const APP = NETEASE_APP.appKey;
const FORM = 'application/x-www-form-urlencoded;charset=utf-8';

interface CallOptions {
  appKey?: string;
  secret?: string;
  nonce?: string;
  curTime?: string;
  checkSum?: string;
  /** null: no Content-Type header at all. */
  contentType?: string | null;
  omit?: string[];
}

interface Wire {
  status: number;
  text: string;
  json: {
    code: number;
    desc?: string;
    data?: { pageInfo: { nextTimetag: number; hasMore: boolean }; msgList: WireMessage[] };
  };
}

interface WireMessage {
  msgIdServer: number;
  msgIdClient: string;
  fromAccount: string;
  fromNick: string;
  fromClientType: string;
  time: number;
  updateTime: number;
  status: number;
  mentionedAll: number;
  type: number;
  body: string;
  attach: string;
  ext: string;
}

/** One call with NetEase auth headers; the CheckSum is computed here, independently of the gateway's code. */
async function call(
  h: Harness,
  body: string | Record<string, string>,
  o: CallOptions = {},
): Promise<Wire> {
  const secret = o.secret ?? NETEASE_APP.appSecret;
  const nonce = o.nonce ?? randomBytes(16).toString('hex');
  const curTime = o.curTime ?? String(Math.floor(Date.now() / 1000));
  const headers: Record<string, string> = {
    AppKey: o.appKey ?? APP,
    Nonce: nonce,
    CurTime: curTime,
    CheckSum:
      o.checkSum ??
      createHash('sha1')
        .update(secret + nonce + curTime)
        .digest('hex'),
  };
  if (o.contentType !== null) headers['Content-Type'] = o.contentType ?? FORM;
  for (const k of o.omit ?? []) delete headers[k];
  const text = typeof body === 'string' ? body : new URLSearchParams(body).toString();
  const res = await fetch(`${h.gateway!.url}${PATH}`, {
    method: 'POST',
    headers,
    body: new Uint8Array(Buffer.from(text)),
  });
  const raw = await res.text();
  return { status: res.status, text: raw, json: JSON.parse(raw) as Wire['json'] };
}

function page(
  h: Harness,
  accid: string,
  serverId: string,
  channelId: string,
  extra: Record<string, string> = {},
) {
  return call(h, { accid, serverId, channelId, ...extra });
}

function fail(code: number, desc: string) {
  return { status: 200, json: { code, desc } };
}

/** Each body is answered with its code and desc (the body stands beside the answer, so a failure names it). */
async function expectRefusals(
  h: Harness,
  cases: [body: string | Record<string, string>, code: number, desc: string][],
): Promise<void> {
  for (const [body, code, desc] of cases)
    expect({ body, answer: await call(h, body) }).toMatchObject({ body, answer: fail(code, desc) });
}

describe('QChat queryChannelUnReadMentionedMsgPage', () => {
  let h: Harness;
  let keys: Keyspace;
  let serverSeq = 7_000_000;

  /** Ids of a fresh server and its channel. */
  function ids() {
    const serverId = String(++serverSeq);
    const channelId = String(serverSeq * 10);
    return { serverId, channelId, base: keys.channel(APP, serverId, channelId) };
  }

  /**
   * A server + channel with `members` registered and joined and `roles` granted, sent together
   * with `extra` events of other topics (no order between topics: the projection must not care).
   * Waits for the directory part only. Answers the ids and every event sent (`sent`).
   */
  async function world(
    members: string[],
    roles: Record<string, string[]> = {},
    extra: (w: { serverId: string; channelId: string }) => Record<string, unknown>[] = () => [],
    w = ids(),
  ) {
    const { serverId, channelId } = w;
    const sent: Record<string, unknown>[] = [
      ...extra(w),
      ...members.map((account) => ({ type: 'account-registered', appId: APP, account })),
      ...members.map((account) => ({
        type: 'qchat-server-member-joined',
        appId: APP,
        serverId,
        account,
      })),
      { type: 'qchat-channel-created', appId: APP, serverId, channelId },
      ...Object.entries(roles).flatMap(([account, rs]) =>
        rs.map((roleId) => ({
          type: 'qchat-role-member-added',
          appId: APP,
          serverId,
          roleId,
          account,
        })),
      ),
    ];
    await h.send(...sent);
    const s = keys.server(APP, serverId);
    await waitFor(
      async () => {
        const checks = await Promise.all([
          ...members.map((m) => registered(h.redis, keys, APP, m)),
          ...members.map((m) => h.redis.sismember(s.members, m)),
          h.redis.sismember(s.channels, channelId),
          ...Object.entries(roles).flatMap(([m, rs]) =>
            rs.map((r) => h.redis.sismember(s.roles(m), r)),
          ),
        ]);
        return checks.every((c) => c === 1);
      },
      Boolean,
      { what: 'directory applied' },
    );
    return { ...w, sent };
  }

  function mention(
    serverId: string,
    channelId: string,
    msg: { id: string; from: string; time: number } & Record<string, unknown>,
    targets: { all?: boolean; accids?: string[]; roles?: string[] },
  ) {
    const { id, from, ...rest } = msg;
    return {
      type: 'channel-mention',
      appId: APP,
      serverId,
      channelId,
      message: { msgIdServer: id, fromAccount: from, ...rest },
      mentionAll: targets.all ?? false,
      mentionAccids: targets.accids ?? [],
      mentionRoleIds: targets.roles ?? [],
    };
  }

  /** `account` read the channel `w` up to `ackTime`. */
  function channelAck(
    w: { serverId: string; channelId: string },
    account: string,
    ackTime: number,
  ) {
    return {
      type: 'read-ack',
      scope: 'channel',
      appId: APP,
      account,
      serverId: w.serverId,
      channelId: w.channelId,
      ackTime,
    };
  }

  /** Waits until the channel's index holds message `id` (events before it on the mention topic are applied). */
  function applied(base: ChannelKeys, id: string) {
    return waitFor(
      () => h.redis.zscore(base.ix, padMsgId(id)),
      (v) => v !== null,
      { what: `message ${id} indexed` },
    );
  }

  beforeAll(async () => {
    h = await Harness.start({ env: { QCHAT_RATE_LIMIT: '1000000' } });
    keys = new Keyspace(h.config.redis.keyPrefix);
  });
  afterAll(async () => {
    await h.stop();
  });

  describe('auth', () => {
    const form = { accid: 'nobody', serverId: '1', channelId: '2' };

    it('answers 414 when a header is missing', async () => {
      for (const [name, desc] of [
        ['AppKey', 'bad http header: AppKey is missing'],
        ['Nonce', 'bad http header: Nonce is missing'],
        ['CurTime', 'bad http header: CurTime is missing'],
        ['CheckSum', 'bad http header: CheckSum is missing'],
      ] as const) {
        expect(await call(h, form, { omit: [name] })).toMatchObject(fail(414, desc));
      }
    });

    it('answers 414 for a malformed CurTime or a too long Nonce', async () => {
      expect(await call(h, form, { curTime: 'yesterday' })).toMatchObject(
        fail(414, 'bad http header: CurTime must be Unix seconds'),
      );
      expect(await call(h, form, { nonce: 'n'.repeat(129) })).toMatchObject(
        fail(414, 'bad http header: Nonce is longer than 128 characters'),
      );
    });

    it('answers 414 for an unknown AppKey', async () => {
      expect(await call(h, form, { appKey: 'no-such-app' })).toMatchObject(
        fail(414, 'appkey is not valid'),
      );
    });

    it('answers 414 when CurTime is more than 5 minutes away', async () => {
      const now = Math.floor(Date.now() / 1000);
      expect(await call(h, form, { curTime: String(now - 301) })).toMatchObject(
        fail(414, 'CurTime is expired'),
      );
      // 302: `now` is rounded down to the second, so now + 301 can fall within 300 s of the gateway's clock (ms)
      expect(await call(h, form, { curTime: String(now + 302) })).toMatchObject(
        fail(414, 'CurTime is expired'),
      );
      // inside the window it authenticates (and then finds no such account)
      expect(await call(h, form, { curTime: String(now - 280) })).toMatchObject(
        fail(404, 'account nobody not found'),
      );
      expect(await call(h, form, { curTime: String(now + 280) })).toMatchObject(
        fail(404, 'account nobody not found'),
      );
    });

    it('answers 414 for a wrong CheckSum', async () => {
      expect(await call(h, form, { secret: 'not-the-secret' })).toMatchObject(
        fail(414, 'checksum is not valid'),
      );
      expect(await call(h, form, { checkSum: 'x' })).toMatchObject(
        fail(414, 'checksum is not valid'),
      );
    });

    it('accepts the CheckSum in upper case hex', async () => {
      const nonce = randomBytes(8).toString('hex');
      const curTime = String(Math.floor(Date.now() / 1000));
      const checkSum = createHash('sha1')
        .update(NETEASE_APP.appSecret + nonce + curTime)
        .digest('hex')
        .toUpperCase();
      expect(await call(h, form, { nonce, curTime, checkSum })).toMatchObject(
        fail(404, 'account nobody not found'),
      );
    });

    it('answers 431 when a Nonce is used again within the window, even with another CurTime', async () => {
      const nonce = `n-${uniq()}`;
      expect(await call(h, form, { nonce })).toMatchObject(fail(404, 'account nobody not found'));
      expect(await call(h, form, { nonce })).toMatchObject(
        fail(431, 'repeated request: Nonce already used'),
      );
      const other = String(Math.floor(Date.now() / 1000) - 60);
      expect(await call(h, form, { nonce, curTime: other })).toMatchObject(
        fail(431, 'repeated request: Nonce already used'),
      );
      // the nonce is remembered in Redis (shared by every gateway replica), for about CurTime + 5 minutes
      const ttl = await h.redis.pttl(`${h.config.redis.keyPrefix}:nonce:{${APP}:${nonce}}`);
      expect(ttl).toBeGreaterThan(280_000);
      expect(ttl).toBeLessThanOrEqual(302_000);
    });

    it('does not burn a Nonce on a request that fails authentication', async () => {
      const nonce = `n-${uniq()}`;
      expect(await call(h, form, { nonce, secret: 'wrong' })).toMatchObject(
        fail(414, 'checksum is not valid'),
      );
      expect(await call(h, form, { nonce })).toMatchObject(fail(404, 'account nobody not found'));
    });
  });

  describe('request validation', () => {
    let w: { serverId: string; channelId: string };
    const reader = `v-${uniq()}`;
    beforeAll(async () => {
      w = await world([reader]);
    });

    it('answers 414 for a wrong or missing Content-Type', async () => {
      const body = { accid: reader, serverId: w.serverId, channelId: w.channelId };
      const desc = 'Content-Type must be application/x-www-form-urlencoded';
      expect(await call(h, body, { contentType: 'application/json' })).toMatchObject(
        fail(414, desc),
      );
      expect(
        await call(h, JSON.stringify(body), { contentType: 'application/json' }),
      ).toMatchObject(fail(414, desc));
      expect(await call(h, body, { contentType: null })).toMatchObject(fail(414, desc));
      expect(
        await call(h, body, { contentType: 'application/x-www-form-urlencoded' }),
      ).toMatchObject({ json: { code: 200 } });
    });

    it('answers 414 for a repeated parameter', async () => {
      const body = `accid=${reader}&serverId=${w.serverId}&channelId=${w.channelId}&limit=5&limit=6`;
      expect(await call(h, body)).toMatchObject(fail(414, 'parameter limit is repeated'));
    });

    it('answers 404 for a missing or empty required parameter', async () => {
      await expectRefusals(h, [
        [{ serverId: w.serverId, channelId: w.channelId }, 404, 'accid is empty'],
        [{ accid: reader, serverId: '', channelId: w.channelId }, 404, 'serverId is empty'],
        [{ accid: reader, serverId: w.serverId }, 404, 'channelId is empty'],
        ['', 404, 'accid is empty'],
      ]);
    });

    it('answers 414 for malformed numbers and a limit above 200', async () => {
      const base = { accid: reader, serverId: w.serverId, channelId: w.channelId };
      await expectRefusals(h, [
        [{ ...base, serverId: '12a' }, 414, 'serverId must be a non-negative 64-bit integer'],
        [{ ...base, channelId: '-1' }, 414, 'channelId must be a non-negative 64-bit integer'],
        [{ ...base, timeTag: '1.5' }, 414, 'timeTag must be a non-negative 64-bit integer'],
        [{ ...base, limit: '201' }, 414, 'limit must be an integer from 1 to 200'],
        [{ ...base, limit: '0' }, 414, 'limit must be an integer from 1 to 200'],
        [{ ...base, limit: 'ten' }, 414, 'limit must be an integer from 1 to 200'],
        [{ ...base, accid: 'a'.repeat(257) }, 405, 'accid is longer than 256 characters'],
      ]);
      expect(await call(h, { ...base, limit: '200' })).toMatchObject({ json: { code: 200 } });
    });

    it('answers 404 for an unknown account, server or channel, and for a non-member', async () => {
      const stranger = `s-${uniq()}`;
      await h.send({ type: 'account-registered', appId: APP, account: stranger });
      await waitFor(
        () => page(h, stranger, w.serverId, w.channelId),
        (r) => r.json.code === 404 && r.json.desc !== `account ${stranger} not found`,
      );
      expect(await page(h, `ghost-${uniq()}`, w.serverId, w.channelId)).toMatchObject(
        fail(404, expect.stringMatching(/^account ghost-\w+ not found$/) as unknown as string),
      );
      expect(await page(h, reader, '424242', w.channelId)).toMatchObject(
        fail(404, 'server 424242 not found'),
      );
      expect(await page(h, reader, w.serverId, '999')).toMatchObject(
        fail(404, 'channel 999 not found'),
      );
      expect(await page(h, stranger, w.serverId, w.channelId)).toMatchObject(
        fail(404, `account ${stranger} is not a member of server ${w.serverId}`),
      );
      expect(await page(h, reader, w.serverId, w.channelId)).toMatchObject({ json: { code: 200 } });
    });

    it('answers 404 once the channel is deleted or the account left the server', async () => {
      const x = `l-${uniq()}`;
      const v = await world([x]);
      await h.send({
        type: 'qchat-channel-deleted',
        appId: APP,
        serverId: v.serverId,
        channelId: v.channelId,
      });
      await waitFor(
        () => page(h, x, v.serverId, v.channelId),
        (r) => r.json.code === 404,
      );
      expect(await page(h, x, v.serverId, v.channelId)).toMatchObject(
        fail(404, `channel ${v.channelId} not found`),
      );
      const y = `l-${uniq()}`;
      const u = await world([y, x]);
      await h.send({
        type: 'qchat-server-member-left',
        appId: APP,
        serverId: u.serverId,
        account: y,
      });
      await waitFor(
        () => page(h, y, u.serverId, u.channelId),
        (r) => r.json.code === 404,
      );
      expect(await page(h, y, u.serverId, u.channelId)).toMatchObject(
        fail(404, `account ${y} is not a member of server ${u.serverId}`),
      );
    });

    it('answers unknown QChat routes and other methods with code 404', async () => {
      const res = await fetch(`${h.gateway!.url}${PATH}`, { method: 'GET' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ code: 404, desc: `no such API: ${PATH}` });
    });
  });

  describe('mention rules', () => {
    it('returns every vendor field, exactly, with an empty page after it', async () => {
      const reader = `a-${uniq()}`;
      const sender = `b-${uniq()}`;
      const time = Date.now() - 5_000;
      const w = await world([reader, sender], {}, ({ serverId, channelId }) => [
        mention(
          serverId,
          channelId,
          {
            id: '16846554',
            from: sender,
            time,
            msgIdClient: '100ada1c7bc04b6e9d59051d402203bf',
            fromNick: 'Bee',
            fromClientType: 'REST',
            updateTime: time + 1,
            status: 0,
            type: 0,
            body: 'hello @reader',
            attach: '{"k":1}',
            ext: 'sasa',
          },
          { accids: [reader] },
        ),
      ]);
      await applied(w.base, '16846554');
      const r = await page(h, reader, w.serverId, w.channelId);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        code: 200,
        data: {
          pageInfo: { nextTimetag: time - 1, hasMore: false },
          msgList: [
            {
              msgIdServer: 16846554,
              msgIdClient: '100ada1c7bc04b6e9d59051d402203bf',
              fromAccount: sender,
              fromNick: 'Bee',
              fromClientType: 'REST',
              time,
              updateTime: time + 1,
              status: 0,
              mentionedAll: 0,
              type: 0,
              body: 'hello @reader',
              attach: '{"k":1}',
              ext: 'sasa',
            },
          ],
        },
      });
      expect(r.text).toContain('"msgIdServer":16846554,');
      const next = await page(h, reader, w.serverId, w.channelId, { timeTag: String(time - 1) });
      expect(next.json).toEqual({
        code: 200,
        data: { pageInfo: { nextTimetag: time - 1, hasMore: false }, msgList: [] },
      });
      // the sender is not mentioned by its own message
      expect((await page(h, sender, w.serverId, w.channelId)).json.data!.msgList).toEqual([]);
    });

    it('fills absent optional fields with "" / 0 and writes 64-bit ids with exact digits', async () => {
      const reader = `a-${uniq()}`;
      const time = Date.now() - 1_000;
      const w = await world([reader, 'big-sender'], {}, ({ serverId, channelId }) => [
        mention(
          serverId,
          channelId,
          { id: '18446744073709551615', from: 'big-sender', time },
          { all: true },
        ),
      ]);
      await applied(w.base, '18446744073709551615');
      const r = await page(h, reader, w.serverId, w.channelId);
      expect(r.text).toBe(
        `{"code":200,"data":{"pageInfo":{"nextTimetag":${time - 1},"hasMore":false},"msgList":[{"msgIdServer":18446744073709551615,` +
          `"msgIdClient":"","fromAccount":"big-sender","fromNick":"","fromClientType":"","time":${time},"updateTime":${time},` +
          `"status":0,"mentionedAll":1,"type":0,"body":"","attach":"","ext":""}]}}`,
      );
    });

    it('counts the account itself, its roles (resolved at query time, never roles it lacks) and @all; never its own messages', async () => {
      const reader = `a-${uniq()}`;
      const other = `o-${uniq()}`;
      const t = Date.now() - 60_000;
      const w = await world([reader, other], { [reader]: ['11', '12'] }, (w) => [
        mention(
          w.serverId,
          w.channelId,
          { id: '1', from: other, time: t + 1 },
          { accids: [reader] },
        ),
        mention(w.serverId, w.channelId, { id: '2', from: other, time: t + 2 }, { roles: ['11'] }),
        mention(w.serverId, w.channelId, { id: '3', from: other, time: t + 3 }, { roles: ['13'] }),
        mention(w.serverId, w.channelId, { id: '4', from: other, time: t + 4 }, { all: true }),
        mention(
          w.serverId,
          w.channelId,
          { id: '5', from: other, time: t + 5 },
          { accids: ['someone-else'] },
        ),
        mention(
          w.serverId,
          w.channelId,
          { id: '6', from: reader, time: t + 6 },
          { all: true, accids: [reader], roles: ['11'] },
        ),
        mention(
          w.serverId,
          w.channelId,
          { id: '7', from: other, time: t + 7 },
          { all: true, accids: [reader], roles: ['11', '12'] },
        ),
        mention(w.serverId, w.channelId, { id: '8', from: other, time: t + 8 }, { roles: ['14'] }),
      ]);
      await applied(w.base, '8');
      const ids = async (acc = reader) =>
        (await page(h, acc, w.serverId, w.channelId)).json.data!.msgList.map((m) => m.msgIdServer);
      expect(await ids()).toEqual([7, 4, 2, 1]);
      expect(await ids(other)).toEqual([6]); // 4 and 7 are its own

      // a role granted after the messages counts; a revoked one stops counting
      await h.send(
        {
          type: 'qchat-role-member-added',
          appId: APP,
          serverId: w.serverId,
          roleId: '13',
          account: reader,
        },
        {
          type: 'qchat-role-member-removed',
          appId: APP,
          serverId: w.serverId,
          roleId: '11',
          account: reader,
        },
      );
      await waitFor(ids, (v) => JSON.stringify(v) === JSON.stringify([7, 4, 3, 1]), {
        what: 'roles re-resolved',
      });

      // leaving the server drops its roles: after re-joining, role 13 no longer counts
      await h.send(
        { type: 'qchat-server-member-left', appId: APP, serverId: w.serverId, account: reader },
        { type: 'qchat-server-member-joined', appId: APP, serverId: w.serverId, account: reader },
      );
      await waitFor(ids, (v) => JSON.stringify(v) === JSON.stringify([7, 4, 1]), {
        what: 'roles dropped on leave',
      });
    });

    it("shows only messages after the ack time (read-ack in any order with the mentions), and the sender's own message acks", async () => {
      const reader = `a-${uniq()}`;
      const other = `o-${uniq()}`;
      const t = Date.now() - 60_000;
      // the ack is produced with the mentions it covers (another topic: no order between them)
      const w = await world([reader, other], {}, (w) => [
        channelAck(w, reader, t + 2),
        ...[1, 2, 3, 4, 5].map((i) =>
          mention(
            w.serverId,
            w.channelId,
            { id: String(i), from: other, time: t + i },
            { accids: [reader] },
          ),
        ),
      ]);
      await applied(w.base, '5');
      const ids = async () =>
        (await page(h, reader, w.serverId, w.channelId)).json.data!.msgList.map(
          (m) => m.msgIdServer,
        );
      await waitFor(ids, (v) => JSON.stringify(v) === JSON.stringify([5, 4, 3]), {
        what: 'ack applied',
      });

      // an older ack changes nothing (max); a redelivered ack changes nothing
      await h.send(channelAck(w, reader, t + 1), channelAck(w, reader, t + 2));
      // the reader's own message at t+3 advances its ack to t+3
      await h.send({
        type: 'message-sent',
        scope: 'channel',
        appId: APP,
        msgIdServer: '99',
        serverId: w.serverId,
        channelId: w.channelId,
        from: reader,
        time: t + 3,
      });
      await waitFor(ids, (v) => JSON.stringify(v) === JSON.stringify([5, 4]), {
        what: 'own message acks',
      });
      expect(await h.redis.zscore(w.base.ack, reader)).toBe(String(t + 3));

      // timeTag bounds the range from above (inclusive)
      expect(
        (
          await page(h, reader, w.serverId, w.channelId, { timeTag: String(t + 4) })
        ).json.data!.msgList.map((m) => m.msgIdServer),
      ).toEqual([4]);
      expect(
        (await page(h, reader, w.serverId, w.channelId, { timeTag: String(t + 3) })).json.data!
          .msgList,
      ).toEqual([]);
    });

    it('drops recalled and deleted messages, applies edits (newest updateTime wins) and returns custom statuses, in any order', async () => {
      const reader = `a-${uniq()}`;
      const other = `o-${uniq()}`;
      const w = ids();
      const t = Date.now() - 60_000;
      const upd = (
        id: string,
        status: number,
        updateTime: number,
        extra: Record<string, string> = {},
      ) => ({
        type: 'channel-message-updated',
        appId: APP,
        serverId: w.serverId,
        channelId: w.channelId,
        msgIdServer: id,
        status,
        updateTime,
        ...extra,
      });
      const m = (id: string, i: number) =>
        mention(
          w.serverId,
          w.channelId,
          { id, from: other, time: t + i, body: `b${id}`, ext: `e${id}` },
          { accids: [reader] },
        );
      await world(
        [reader, other],
        {},
        () => [
          m('1', 1),
          upd('1', 1, t + 100), // recalled after the mention
          upd('2', 2, t + 100), // deleted before the mention arrives
          m('2', 2),
          m('3', 3),
          upd('3', 0, t + 200, { body: 'edited twice' }),
          upd('3', 0, t + 100, { body: 'edited once', ext: 'x1' }), // older edit arriving later: body stays, ext applies
          upd('4', 10001, t + 50, { body: 'custom' }), // update before its mention
          m('4', 4),
          m('5', 5),
          upd('5', 0, t + 60, { body: 'ok' }),
          upd('5', 1, t + 40), // a recall is final whatever its updateTime
          upd('5', 0, t + 90, { body: 'too late' }),
          m('6', 6),
          m('6', 6), // redelivered
          upd('6', 0, t + 30, { ext: 'e6b' }),
          upd('6', 0, t + 30, { ext: 'e6b' }),
        ],
        w,
      );
      await applied(w.base, '6');
      const r = await waitFor(
        () => page(h, reader, w.serverId, w.channelId),
        (x) => x.json.data?.msgList.length === 3 && x.json.data.msgList[0]!.ext === 'e6b',
        { what: 'updates applied' },
      );
      expect(
        r.json.data!.msgList.map((x) => [x.msgIdServer, x.status, x.updateTime, x.body, x.ext]),
      ).toEqual([
        [6, 0, t + 30, 'b6', 'e6b'],
        [4, 10001, t + 50, 'custom', 'e4'],
        [3, 0, t + 200, 'edited twice', 'x1'],
      ]);
    });
  });

  it('pages 1 000 messages (50 in one millisecond) with limit 7 exactly as CountModel says', async () => {
    const reader = `m-${uniq()}`;
    const x1 = `x1-${uniq()}`;
    const x2 = `x2-${uniq()}`;
    const w = ids();
    const random = prng(20240501);
    const base = Date.now() - 3_600_000;
    const shared = base + 4_000;
    const ackTime = base + 500;

    /** Each message as the wire shows it after its updates. */
    const messages: WireMessage[] = [];
    const events: Record<string, unknown>[] = [];
    const usedIds = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      let id: number;
      do
        id = 1 + Math.floor(random() * 9_000_000_000_000); // ids up to ~2^43, not monotone in time
      while (usedIds.has(id));
      usedIds.add(id);
      const time = i >= 400 && i < 450 ? shared : base + i * 10 + (i % 3 === 0 ? 5 : 0);
      const r = random();
      const from = r < 0.06 ? reader : r < 0.5 ? x1 : x2;
      const targets = {
        all: random() < 0.15,
        accids: [...(random() < 0.3 ? [reader] : []), ...(random() < 0.2 ? [x1] : [])],
        roles: ['1', '2', '3', '9'].filter(() => random() < 0.12),
      };
      const m: WireMessage = {
        msgIdServer: id,
        msgIdClient: `c${i}`,
        fromAccount: from,
        fromNick: `nick-${from}`,
        fromClientType: i % 2 ? 'AOS' : 'REST',
        time,
        updateTime: time,
        status: 0,
        mentionedAll: targets.all ? 1 : 0,
        type: i % 5,
        body: `body ${i}`,
        attach: i % 7 ? '' : `att ${i}`,
        ext: `ext ${i}`,
      };
      messages.push(m);
      const ev = mention(
        w.serverId,
        w.channelId,
        {
          id: String(id),
          from,
          time,
          msgIdClient: m.msgIdClient,
          fromNick: m.fromNick,
          fromClientType: m.fromClientType,
          type: m.type,
          body: m.body,
          attach: m.attach,
          ext: m.ext,
          status: 0,
        },
        targets,
      );
      const u = random();
      let update: Record<string, unknown> | undefined;
      if (u < 0.05) {
        m.status = 1;
        update = { status: 1, updateTime: time + 1_000 };
      } else if (u < 0.1) {
        m.status = 2;
        update = { status: 2, updateTime: time + 1_000 };
      } else if (u < 0.15) {
        m.body = `edited ${i}`;
        m.updateTime = time + 2_000;
        update = { status: 0, updateTime: time + 2_000, body: m.body };
      } else if (u < 0.18) {
        m.status = 10000 + (i % 3);
        m.updateTime = time + 3_000;
        update = { status: m.status, updateTime: time + 3_000 };
      }
      const updEvent = update && {
        type: 'channel-message-updated',
        appId: APP,
        serverId: w.serverId,
        channelId: w.channelId,
        msgIdServer: String(id),
        ...update,
      };
      if (updEvent && random() < 0.4) events.push(updEvent, ev);
      else events.push(ev, ...(updEvent ? [updEvent] : []));
    }
    const sentinel = mention(
      w.serverId,
      w.channelId,
      { id: '0', from: x1, time: base - 1 },
      { accids: [x2] },
    );
    const { sent } = await world(
      [reader, x1, x2],
      { [reader]: ['1', '2', '3'] },
      () => [channelAck(w, reader, ackTime), ...events, sentinel],
      w,
    );
    await applied(w.base, '0');
    await waitFor(
      () => h.redis.zscore(w.base.ack, reader),
      (v) => v === String(ackTime),
      { what: 'ack applied' },
    );

    // Which messages are the reader's unread mentions: CountModel over every event sent; in
    // the page's order: newest first, at equal times the larger id first.
    const unread = new Set(
      new CountModel({ mentionRetentionMs: h.config.mentionRetentionMs })
        .apply(sent as unknown as UnreadEvent[])
        .mentions(APP, w.serverId, w.channelId, reader),
    );
    const expected = messages
      .filter((m) => unread.has(String(m.msgIdServer)))
      .sort((a, b) => b.time - a.time || b.msgIdServer - a.msgIdServer);
    expect(expected.filter((m) => m.time === shared).length).toBeGreaterThan(14);

    const got: WireMessage[] = [];
    let timeTag: string | undefined;
    let cursors = 0;
    for (let n = 0; n < 1000; n++) {
      const r = await page(h, reader, w.serverId, w.channelId, {
        limit: '7',
        ...(timeTag ? { timeTag } : {}),
      });
      expect(r.json.code).toBe(200);
      const { pageInfo, msgList } = r.json.data!;
      got.push(...msgList);
      if (!pageInfo.hasMore) {
        expect(msgList.length).toBeLessThanOrEqual(7);
        timeTag = String(pageInfo.nextTimetag);
        break;
      }
      expect(msgList.length).toBe(7);
      if (pageInfo.nextTimetag >= 1e15) cursors++;
      timeTag = String(pageInfo.nextTimetag);
    }
    expect(got).toEqual(expected);
    expect(cursors).toBeGreaterThan(0);
    // past the end: an empty page, still no more
    const end = await page(h, reader, w.serverId, w.channelId, { limit: '7', timeTag: timeTag! });
    expect(end.json.data).toEqual({
      pageInfo: { nextTimetag: Number(timeTag), hasMore: false },
      msgList: [],
    });

    // one page of 200 gives the same first 200
    const big = await page(h, reader, w.serverId, w.channelId);
    expect(big.json.data!.msgList).toEqual(expected.slice(0, 200));
    expect(big.json.data!.pageInfo.hasMore).toBe(expected.length > 200);
  });

  it('pages through a millisecond shared by more messages than a cursor can skip (page extended to its end)', async () => {
    const reader = `z-${uniq()}`;
    const other = `zo-${uniq()}`;
    const t = Date.now() - 120_000;
    const w = await world([reader, other], {}, (w) => [
      ...Array.from({ length: 1005 }, (_, i) =>
        mention(
          w.serverId,
          w.channelId,
          { id: String(100_000 + i), from: other, time: t },
          { all: true },
        ),
      ),
      mention(w.serverId, w.channelId, { id: '1', from: other, time: t - 10 }, { all: true }),
    ]);
    await applied(w.base, '1');
    const seen: number[] = [];
    let timeTag: string | undefined;
    const sizes: number[] = [];
    for (let n = 0; n < 10; n++) {
      const r = await page(h, reader, w.serverId, w.channelId, {
        limit: '200',
        ...(timeTag ? { timeTag } : {}),
      });
      const d = r.json.data!;
      sizes.push(d.msgList.length);
      seen.push(...d.msgList.map((m) => m.msgIdServer));
      timeTag = String(d.pageInfo.nextTimetag);
      if (!d.pageInfo.hasMore) break;
    }
    // positions 200, 400, 600, 800 fit nextTimetag's skip; the page starting at 800 finishes the millisecond
    expect(sizes).toEqual([200, 200, 200, 200, 205, 1]);
    expect(seen).toEqual([...Array.from({ length: 1005 }, (_, i) => 100_000 + 1004 - i), 1]);
  });

  it('deleting an account removes every key of that account (SCAN)', async () => {
    const gone = `gone-${uniq()}`;
    const other = `o-${uniq()}`;
    const t = Date.now() - 10_000;
    const w1 = ids();
    const w2 = ids();
    await Promise.all([
      world(
        [gone, other],
        { [gone]: ['5'] },
        () => [
          mention(
            w1.serverId,
            w1.channelId,
            { id: '1', from: other, time: t },
            { accids: [gone, other] },
          ),
          channelAck(w1, gone, t - 5),
        ],
        w1,
      ),
      world(
        [gone, other],
        { [gone]: ['6', '7'] },
        () => [
          mention(
            w2.serverId,
            w2.channelId,
            { id: '1', from: other, time: t },
            { accids: [gone], roles: ['6'] },
          ),
          mention(
            w2.serverId,
            w2.channelId,
            { id: '2', from: gone, time: t + 1 },
            { accids: [other] },
          ),
        ],
        w2,
      ),
    ]);
    await applied(w2.base, '2');
    await waitFor(
      () => h.redis.zscore(w1.base.ack, gone),
      (v) => v !== null,
    );
    // every topic applied (directory role grants and both worlds' mentions), not only the two above
    await drained(h);
    const scan = (pattern: string) => scanAll(h.redis, pattern);
    const before = await scan(`${keys.prefix}:*${gone}*`);
    expect(before.length).toBeGreaterThanOrEqual(6); // 2 direct sets, 2 role sets, 2 index keys
    expect(
      (await page(h, other, w2.serverId, w2.channelId)).json.data!.msgList.map(
        (m) => m.msgIdServer,
      ),
    ).toEqual([2]);

    await h.send({ type: 'account-deleted', appId: APP, account: gone });
    await waitFor(
      () => scan(`${keys.prefix}:*${gone}*`),
      (k) => k.length === 0,
      { what: 'every key of the account gone' },
    );
    expect(await h.redis.zscore(w1.base.ack, gone)).toBeNull();
    for (const w of [w1, w2])
      expect(await h.redis.sismember(keys.server(APP, w.serverId).members, gone)).toBe(0);
    expect(await page(h, gone, w1.serverId, w1.channelId)).toMatchObject(
      fail(404, `account ${gone} not found`),
    );
    // what others were sent stays: the deleted account's message to `other` and other's own mentions
    expect(
      (await page(h, other, w2.serverId, w2.channelId)).json.data!.msgList.map(
        (m) => m.msgIdServer,
      ),
    ).toEqual([2]);
  });
});
