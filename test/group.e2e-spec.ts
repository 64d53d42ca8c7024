import type { AppConfig } from '@app/config';
import type { UnreadEvent } from '@app/contracts';
import { Keyspace, ProjectionStore, type GroupMemberView } from '@app/store';
import { startProjector, type RunningProjector } from '../apps/projector/src/projector';
import { drained } from './support/drain';
import { tencent } from './support/events';
import { Harness, TENCENT_APP, uniq } from './support/harness';
import { tencentPost, type TencentUrlOptions } from './support/tencent';
import { waitFor } from './support/wait';

/**
 * Tencent group unread through the broker and HTTP: events produced to Kafka, applied by
 * the projector, queried with signed set_unread_msg_num / get_joined_group_list calls.
 */
const APP = TENCENT_APP.sdkAppId;
const SET = 'group_open_http_svc/set_unread_msg_num';
const LIST = 'group_open_http_svc/get_joined_group_list';
const WITH_UNREAD = { GroupBaseInfoFilter: ['Type', 'Name'], SelfInfoFilter: ['UnreadMsgNum'] };
const OK = { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' };
/**
 * get_joined_group_list's order as docs/api/tencent.md states it: by type class (Private and
 * Work, Public, ChatRoom and Meeting, Community, AVChatRoom), then by group id.
 */
const CLASS_OF: Record<string, number> = { Private: 0, Work: 0, Public: 1, ChatRoom: 2, Meeting: 2, Community: 3, AVChatRoom: 4 };

/** A FAIL answer; `info` is the exact ErrorInfo or a matcher. */
const fail = (code: number, info: unknown) => ({
  status: 200,
  body: { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info },
});

describe('tencent group unread (broker + HTTP)', () => {
  let h: Harness;
  let store: ProjectionStore;
  let replay: RunningProjector | undefined;
  /** Every (group, account) a test looked at, compared again after the replay. */
  const watched: [string, string][] = [];

  beforeAll(async () => {
    h = await Harness.start();
    store = new ProjectionStore(h.redis, new Keyspace(h.config.redis.keyPrefix), {
      mentionRetentionMs: 60_000,
    });
  });
  afterAll(async () => {
    await replay?.close().catch(() => undefined);
    await h.stop();
  });

  const post = (api: string, body: unknown, opts?: TencentUrlOptions) =>
    tencentPost(h.gateway!.url, api, body, opts);

  // ---- event builders (test/support/events.ts; joins are remembered for the replay check) ----
  const { registered, groupCreated: created, groupDismissed: dismissed, memberLeft: left, groupMessage: msg, groupAck: ack } = tencent;
  const joined = (groupId: string, account: string, seq?: number): UnreadEvent => {
    watched.push([groupId, account]);
    return tencent.memberJoined(groupId, account, seq);
  };
  const msgs = (groupId: string, from: string, first: number, last: number): UnreadEvent[] =>
    Array.from({ length: last - first + 1 }, (_, i) => msg(groupId, from, first + i));

  /** The projection as the gateway reads it. */
  const view = (groupId: string, account: string): Promise<GroupMemberView> =>
    store.group.memberView(APP, groupId, account);
  const until = (
    groupId: string,
    account: string,
    done: (v: GroupMemberView) => boolean,
    what: string,
  ) => waitFor(() => view(groupId, account), done, { what });

  /** A member's group unread as get_joined_group_list answers it (undefined: the group is not listed). */
  async function listedUnread(account: string, groupId: string): Promise<number | undefined> {
    const r = await post(LIST, {
      Member_Account: account,
      ResponseFilter: { SelfInfoFilter: ['UnreadMsgNum'] },
    });
    const list = (r.body.GroupIdList ?? []) as {
      GroupId: string;
      SelfInfo: { UnreadMsgNum: number };
    }[];
    return list.find((g) => g.GroupId === groupId)?.SelfInfo.UnreadMsgNum;
  }
  const unreadBecomes = (account: string, groupId: string, n: number | undefined) =>
    waitFor(
      () => listedUnread(account, groupId),
      (v) => v === n,
      { what: `${account} unread in ${groupId} = ${n}` },
    );

  /** A group of the given type with members joined at seq 0 and `messages` messages from `sender`. */
  async function group(
    type: string,
    members: string[],
    messages: number,
    sender = `s-${uniq()}`,
  ): Promise<string> {
    const g = `g-${uniq()}`;
    await h.send(
      ...members.map(registered),
      created(g, type, `name ${g}`),
      ...members.map((m) => joined(g, m, 0)),
    );
    await h.send(...msgs(g, sender, 1, messages));
    await until(
      g,
      members[members.length - 1]!,
      (v) => v.exists && v.member && v.maxSeq === messages,
      `${g} ready`,
    );
    return g;
  }

  // ---- set_unread_msg_num ----------------------------------------------------------------

  describe('set_unread_msg_num', () => {
    it('refuses malformed bodies and parameters with the documented codes', async () => {
      const g = await group('Public', ['pm-ann'], 1);
      expect(await post(SET, '{not json')).toEqual(
        fail(60003, expect.stringMatching(/^JSON parse error: /)),
      );
      expect(await post(SET, '[1]')).toEqual(fail(60003, 'the request body must be a JSON object'));
      const valid = { GroupId: g, Member_Account: 'pm-ann', UnreadMsgNum: 1 };
      const badGroupId =
        'GroupId is invalid: a group id is a non-empty string of at most 48 bytes without control characters';
      const cases: [Record<string, unknown>, number, string][] = [
        [{ ...valid, GroupId: undefined }, 10004, 'GroupId is missing'],
        [{ ...valid, GroupId: null }, 10004, 'GroupId is missing'],
        [{ ...valid, GroupId: 42 }, 10015, badGroupId],
        [{ ...valid, GroupId: '' }, 10015, badGroupId],
        [{ ...valid, GroupId: 'x'.repeat(49) }, 10015, badGroupId],
        [{ ...valid, GroupId: 'é'.repeat(25) }, 10015, badGroupId],
        [{ ...valid, GroupId: 'a\nb' }, 10015, badGroupId],
        [{ ...valid, Member_Account: undefined }, 10004, 'Member_Account is missing'],
        [{ ...valid, Member_Account: 7 }, 60015, 'Member_Account must be a string'],
        [{ ...valid, UnreadMsgNum: undefined }, 10004, 'UnreadMsgNum is missing'],
        [{ ...valid, UnreadMsgNum: -1 }, 10004, 'UnreadMsgNum must be a non-negative integer'],
        [{ ...valid, UnreadMsgNum: 1.5 }, 10004, 'UnreadMsgNum must be a non-negative integer'],
        [{ ...valid, UnreadMsgNum: '1' }, 10004, 'UnreadMsgNum must be a non-negative integer'],
        [{ ...valid, UnreadMsgNum: 2 ** 53 }, 10004, 'UnreadMsgNum must be a non-negative integer'],
      ];
      for (const [body, code, info] of cases) {
        expect({ body, r: await post(SET, body) }).toEqual({ body, r: fail(code, info) });
      }
      // A 48-byte id is well formed (and unknown here).
      expect(await post(SET, { ...valid, GroupId: 'x'.repeat(48) })).toEqual(
        fail(10010, `group ${'x'.repeat(48)} does not exist or was dismissed`),
      );
      // Nothing was applied: the member still has its 1 unread.
      await unreadBecomes('pm-ann', g, 1);
      expect(await view(g, 'pm-ann')).toMatchObject({ readSeq: 0, unread: 1 });
    });

    it('passes the common layer first (admin only)', async () => {
      expect(await post(SET, {}, { identifier: 'pm-not-admin' })).toEqual(
        fail(60010, 'identifier pm-not-admin is not an app admin'),
      );
    });

    it('answers 10010 for an unknown or dismissed group and 10007 for a non-member', async () => {
      const g = await group('Private', ['nf-ann'], 2);
      expect(
        await post(SET, { GroupId: `none-${uniq()}`, Member_Account: 'nf-ann', UnreadMsgNum: 1 }),
      ).toEqual(
        fail(10010, expect.stringMatching(/^group none-\w+ does not exist or was dismissed$/)),
      );
      expect(
        await post(SET, { GroupId: g, Member_Account: 'nf-stranger', UnreadMsgNum: 1 }),
      ).toEqual(fail(10007, `nf-stranger is not a member of group ${g}`));
      await h.send(dismissed(g));
      await until(g, 'nf-ann', (v) => !v.exists, 'dismissed');
      expect(await post(SET, { GroupId: g, Member_Account: 'nf-ann', UnreadMsgNum: 1 })).toEqual(
        fail(10010, `group ${g} does not exist or was dismissed`),
      );
      expect(await listedUnread('nf-ann', g)).toBeUndefined();
    });

    it('sets the unread count, clamps it to the group message count, and counts new messages from there', async () => {
      const g = await group('Public', ['cl-ann', 'cl-bob'], 5);
      expect(await post(SET, { GroupId: g, Member_Account: 'cl-ann', UnreadMsgNum: 100 })).toEqual({
        status: 200,
        body: OK,
      });
      expect(await post(SET, { GroupId: g, Member_Account: 'cl-bob', UnreadMsgNum: 2 })).toEqual({
        status: 200,
        body: OK,
      });
      await unreadBecomes('cl-bob', g, 2);
      expect(await listedUnread('cl-ann', g)).toBe(5);
      await h.send(ack(g, 'cl-ann', 4));
      await unreadBecomes('cl-ann', g, 1);
      // set, then more messages: unread grows from the set value
      await h.send(...msgs(g, 'cl-carl', 6, 8));
      await unreadBecomes('cl-bob', g, 5);
      expect(await listedUnread('cl-ann', g)).toBe(4);
      expect(await post(SET, { GroupId: g, Member_Account: 'cl-bob', UnreadMsgNum: 0 })).toEqual({
        status: 200,
        body: OK,
      });
      await unreadBecomes('cl-bob', g, 0);
    });

    it("sets exactly the value for a member who wrote before the override, and counts its later messages as read", async () => {
      const g = await group('Work', ['ow-ann', 'ow-bob'], 3);
      await h.send(msg(g, 'ow-ann', 4), msg(g, 'ow-bob', 5));
      await until(g, 'ow-ann', (v) => v.maxSeq === 5 && v.readSeq === 4, `${g} own message applied`);
      expect(await listedUnread('ow-ann', g)).toBe(1);
      // ann wrote seq 4 before the override: the override (carrying maxSeq 5) supersedes it
      expect(await post(SET, { GroupId: g, Member_Account: 'ow-ann', UnreadMsgNum: 3 })).toEqual({
        status: 200,
        body: OK,
      });
      await unreadBecomes('ow-ann', g, 3);
      // a message ann writes after the override reads the group up to it, as usual
      await h.send(msg(g, 'ow-bob', 6), msg(g, 'ow-ann', 7), msg(g, 'ow-bob', 8));
      await unreadBecomes('ow-ann', g, 1);
    });

    it('answers OK and changes nothing for ChatRoom, Meeting and AVChatRoom groups', async () => {
      for (const type of ['ChatRoom', 'Meeting', 'AVChatRoom']) {
        const g = await group(type, ['cr-ann'], 3);
        expect(await post(SET, { GroupId: g, Member_Account: 'cr-ann', UnreadMsgNum: 0 })).toEqual({
          status: 200,
          body: OK,
        });
        expect(
          await post(SET, { GroupId: g, Member_Account: 'cr-stranger', UnreadMsgNum: 0 }),
        ).toEqual({ status: 200, body: OK });
        // Had an override been appended (UnreadMsgNum 0 → readSeq 3), it would precede this ack
        // on the same partition and keep the read seq at 3; without it the ack's 1 stands.
        await h.send(ack(g, 'cr-ann', 1));
        const v = await until(g, 'cr-ann', (x) => x.readSeq > 0, `${type} ack applied`);
        expect({ type, readSeq: v.readSeq, unread: v.unread }).toEqual({
          type,
          readSeq: 1,
          unread: 0,
        });
      }
    });
  });

  // ---- semantics -------------------------------------------------------------------------

  describe('group unread semantics', () => {
    it('does not count messages from before a member joined', async () => {
      const g = await group('Public', ['lj-ann'], 4);
      await h.send(registered('lj-bob'), joined(g, 'lj-bob', 4));
      await unreadBecomes('lj-bob', g, 0);
      await h.send(msg(g, 'lj-ann', 5));
      await unreadBecomes('lj-bob', g, 1);
      // ann wrote message 5: it and everything before it count as read for her.
      expect(await listedUnread('lj-ann', g)).toBe(0);
    });

    it('stops counting a group once the member left', async () => {
      const g = await group('Community', ['lv-ann', 'lv-bob'], 3);
      await unreadBecomes('lv-bob', g, 3);
      await h.send(left(g, 'lv-bob'));
      await unreadBecomes('lv-bob', g, undefined);
      await h.send(msg(g, 'lv-carl', 4));
      await unreadBecomes('lv-ann', g, 4);
      expect(await post(LIST, { Member_Account: 'lv-bob' })).toEqual({
        status: 200,
        body: { ...OK, TotalCount: 0, GroupIdList: [] },
      });
      expect(await post(SET, { GroupId: g, Member_Account: 'lv-bob', UnreadMsgNum: 1 })).toEqual(
        fail(10007, `lv-bob is not a member of group ${g}`),
      );
    });

    it('is unchanged by duplicated and reordered events across topics', async () => {
      const g = `g-${uniq()}`;
      const other = `g-${uniq()}`;
      // Messages and acks first (out of order, duplicated), the directory last.
      await h.send(
        msg(g, 'do-x', 4),
        msg(g, 'do-x', 2),
        msg(g, 'do-x', 4),
        msg(g, 'do-x', 1),
        msg(g, 'do-x', 3),
      );
      await h.send(
        ack(g, 'do-ann', 2),
        ack(g, 'do-ann', 1),
        ack(g, 'do-ann', 2),
        msg(g, 'do-bob', 5),
        msg(g, 'do-bob', 5),
      );
      await h.send(
        registered('do-ann'),
        registered('do-bob'),
        created(g, 'Public'),
        created(other, 'Public'),
      );
      await h.send(
        joined(g, 'do-ann', 0),
        joined(g, 'do-bob', 1),
        joined(g, 'do-ann', 0),
        joined(other, 'do-ann', 0),
      );
      await drained(h);
      expect(await listedUnread('do-ann', g)).toBe(3);
      expect(await listedUnread('do-bob', g)).toBe(0);
      // A whole redelivery of what came before changes nothing: checked once the group has
      // committed every record, so the redelivered events have been applied.
      await h.send(
        msg(g, 'do-x', 2),
        ack(g, 'do-ann', 1),
        joined(g, 'do-ann', 0),
        msg(other, 'do-x', 1),
      );
      await drained(h);
      expect(await listedUnread('do-ann', other)).toBe(1);
      expect(await listedUnread('do-ann', g)).toBe(3);
      expect(await listedUnread('do-bob', g)).toBe(0);
    });
  });

  // ---- get_joined_group_list ---------------------------------------------------------------

  describe('get_joined_group_list', () => {
    it('pages, filters by type and returns the requested fields with TotalCount', async () => {
      const ann = `jl-${uniq()}`;
      const p = `jl-${uniq()}`;
      const ids = { a: `${p}-a`, b: `${p}-b`, c: `${p}-c`, d: `${p}-d`, e: `${p}-e`, f: `${p}-f` };
      await h.send(
        registered(ann),
        created(ids.a, 'Private', 'Alpha'),
        created(ids.b, 'Work'),
        created(ids.c, 'Public', 'Gamma'),
        created(ids.d, 'AVChatRoom', 'Live'),
        created(ids.e, 'ChatRoom', 'Room'),
        created(ids.f, 'Public', 'Gone'),
        ...Object.values(ids).map((g) => joined(g, ann, 0)),
      );
      await h.send(
        ...msgs(ids.a, 'x', 1, 2),
        ...msgs(ids.c, 'x', 1, 3),
        ...msgs(ids.d, 'x', 1, 4),
        ...msgs(ids.e, 'x', 1, 1),
      );
      // f must exist before it is dismissed, or "not existing" would be seen before creation
      await until(ids.f, ann, (v) => v.exists && v.member, 'f created');
      await h.send(dismissed(ids.f));
      await until(ids.f, ann, (v) => !v.exists, 'f dismissed');
      await until(ids.d, ann, (v) => v.maxSeq === 4, 'd messages');
      await until(ids.e, ann, (v) => v.maxSeq === 1, 'e messages');
      await unreadBecomes(ann, ids.c, 3);
      await unreadBecomes(ann, ids.a, 2);

      expect(await post(LIST, { Member_Account: ann })).toEqual({
        status: 200,
        body: {
          ...OK,
          TotalCount: 4,
          GroupIdList: [
            { GroupId: ids.a },
            { GroupId: ids.b },
            { GroupId: ids.c },
            { GroupId: ids.e },
          ],
        },
      });
      expect(
        await post(LIST, { Member_Account: ann, WithHugeGroups: 1, ResponseFilter: WITH_UNREAD }),
      ).toEqual({
        status: 200,
        body: {
          ...OK,
          TotalCount: 5,
          GroupIdList: [
            { GroupId: ids.a, Type: 'Private', Name: 'Alpha', SelfInfo: { UnreadMsgNum: 2 } },
            { GroupId: ids.b, Type: 'Work', Name: '', SelfInfo: { UnreadMsgNum: 0 } },
            { GroupId: ids.c, Type: 'Public', Name: 'Gamma', SelfInfo: { UnreadMsgNum: 3 } },
            { GroupId: ids.e, Type: 'ChatRoom', Name: 'Room', SelfInfo: { UnreadMsgNum: 0 } },
            { GroupId: ids.d, Type: 'AVChatRoom', Name: 'Live', SelfInfo: { UnreadMsgNum: 0 } },
          ],
        },
      });
      expect(
        await post(LIST, {
          Member_Account: ann,
          Limit: 2,
          Offset: 1,
          ResponseFilter: { GroupBaseInfoFilter: ['Name', 'FaceUrl'], SelfInfoFilter: ['Role'] },
        }),
      ).toEqual({
        status: 200,
        body: {
          ...OK,
          TotalCount: 4,
          GroupIdList: [
            { GroupId: ids.b, Name: '' },
            { GroupId: ids.c, Name: 'Gamma' },
          ],
        },
      });
      expect(await post(LIST, { Member_Account: ann, Limit: 0, Offset: 3 })).toEqual({
        status: 200,
        body: { ...OK, TotalCount: 4, GroupIdList: [{ GroupId: ids.e }] },
      });
      expect(await post(LIST, { Member_Account: ann, Offset: 10 })).toEqual({
        status: 200,
        body: { ...OK, TotalCount: 4, GroupIdList: [] },
      });
      expect(
        await post(LIST, {
          Member_Account: ann,
          GroupType: 'Private',
          ResponseFilter: WITH_UNREAD,
        }),
      ).toEqual({
        status: 200,
        body: {
          ...OK,
          TotalCount: 2,
          GroupIdList: [
            { GroupId: ids.a, Type: 'Private', Name: 'Alpha', SelfInfo: { UnreadMsgNum: 2 } },
            { GroupId: ids.b, Type: 'Work', Name: '', SelfInfo: { UnreadMsgNum: 0 } },
          ],
        },
      });
      expect(await post(LIST, { Member_Account: ann, GroupType: 'AVChatRoom' })).toEqual({
        status: 200,
        body: { ...OK, TotalCount: 1, GroupIdList: [{ GroupId: ids.d }] },
      });
      expect(
        await post(LIST, { Member_Account: ann, GroupType: 'Meeting', WithNoActiveGroups: 1 }),
      ).toEqual({
        status: 200,
        body: { ...OK, TotalCount: 1, GroupIdList: [{ GroupId: ids.e }] },
      });
    });

    it('pages and filters after leaving out left and dismissed groups, with the unread of the groups answered', async () => {
      const ann = `pg-${uniq()}`;
      const p = `pg-${uniq()}`;
      const g = (i: number) => `${p}-${i}`;
      const recall = (groupId: string, seq: number): UnreadEvent => ({ type: 'message-recalled', scope: 'group', appId: APP, groupId, seq });
      const types = ['Private', 'Public', 'Work', 'Public', 'Private', 'ChatRoom', 'Public', 'AVChatRoom', 'Work'];
      await h.send(registered(ann), ...types.map((t, i) => created(g(i), t, `n${i}`)), ...types.map((_, i) => joined(g(i), ann, 0)));
      await h.send(
        ...msgs(g(0), 'x', 1, 5), recall(g(0), 2), // 4 unread
        ...msgs(g(1), 'x', 1, 3), // left below
        ...msgs(g(2), 'x', 1, 2), // dismissed below
        // g(3): no message, unread-free
        ...msgs(g(4), 'x', 1, 6), recall(g(4), 3), ack(g(4), ann, 6), // read: unread-free with a seq that does not count
        ...msgs(g(5), 'x', 1, 3), // ChatRoom: keeps no count
        ...msgs(g(6), 'x', 1, 4), recall(g(6), 1), recall(g(6), 4), // 2 unread
        ...msgs(g(7), 'x', 1, 2), // AVChatRoom: listed only WithHugeGroups or by type
        ...msgs(g(8), 'x', 1, 3), recall(g(8), 3), ack(g(8), ann, 1), // 1 unread
      );
      await until(g(2), ann, (v) => v.exists && v.member, 'g2 created');
      await h.send(left(g(1), ann), dismissed(g(2)));
      await until(g(1), ann, (v) => !v.member, 'g1 left');
      await until(g(2), ann, (v) => !v.exists, 'g2 dismissed');
      await unreadBecomes(ann, g(0), 4);
      await unreadBecomes(ann, g(4), 0);
      await unreadBecomes(ann, g(6), 2);
      await unreadBecomes(ann, g(8), 1);
      await until(g(5), ann, (v) => v.maxSeq === 3, 'g5 messages');
      await until(g(7), ann, (v) => v.maxSeq === 2, 'g7 messages');

      // The model: the groups the account is still in, existing, in the documented order (type
      // class, then group id), with their unread.
      const live: { id: string; type: string; unread: number }[] = [
        { id: g(0), type: 'Private', unread: 4 },
        { id: g(3), type: 'Public', unread: 0 },
        { id: g(4), type: 'Private', unread: 0 },
        { id: g(5), type: 'ChatRoom', unread: 0 },
        { id: g(6), type: 'Public', unread: 2 },
        { id: g(7), type: 'AVChatRoom', unread: 0 },
        { id: g(8), type: 'Work', unread: 1 },
      ].sort((x, y) => CLASS_OF[x.type]! - CLASS_OF[y.type]! || (x.id < y.id ? -1 : 1));
      const same: Record<string, string[]> = { Private: ['Private', 'Work'], Public: ['Public'], ChatRoom: ['ChatRoom', 'Meeting'], AVChatRoom: ['AVChatRoom'] };
      // Every (type, Offset, Limit), with and without unread in turn: under the API's 200 calls a second.
      for (const type of [undefined, 'Private', 'Public', 'ChatRoom', 'AVChatRoom']) {
        const matching = live.filter((x) => (type === undefined ? x.type !== 'AVChatRoom' : same[type]!.includes(x.type)));
        for (let offset = 0; offset <= matching.length + 1; offset++) {
          for (const limit of [0, 1, 2, 10]) {
            {
              const withUnread = (offset + limit) % 2 === 0;
              const page = matching.slice(offset, limit === 0 ? undefined : offset + limit);
              const body: Record<string, unknown> = { Member_Account: ann, Offset: offset, Limit: limit };
              if (type !== undefined) body.GroupType = type;
              if (withUnread) body.ResponseFilter = { GroupBaseInfoFilter: ['Type'], SelfInfoFilter: ['UnreadMsgNum'] };
              expect({ type, offset, limit, withUnread, answer: await post(LIST, body) }).toEqual({
                type,
                offset,
                limit,
                withUnread,
                answer: {
                  status: 200,
                  body: {
                    ...OK,
                    TotalCount: matching.length,
                    GroupIdList: page.map((x) => (withUnread ? { GroupId: x.id, Type: x.type, SelfInfo: { UnreadMsgNum: x.unread } } : { GroupId: x.id })),
                  },
                },
              });
            }
          }
        }
      }
    });

    it('refuses malformed requests and unknown accounts with the documented codes', async () => {
      const ann = `je-${uniq()}`;
      await h.send(registered(ann));
      await waitFor(
        () => post(LIST, { Member_Account: ann }),
        (r) => r.body.ErrorCode === 0,
        { what: `${ann} registered` },
      );
      expect(await post(LIST, 'nope')).toEqual(
        fail(60003, expect.stringMatching(/^JSON parse error: /)),
      );
      const cases: [Record<string, unknown>, number, string][] = [
        [{}, 10004, 'Member_Account is missing'],
        [{ Member_Account: ['a'] }, 60015, 'Member_Account must be a string'],
        [{ Member_Account: ann, Limit: 5001 }, 10004, 'Limit must be an integer from 0 to 5000'],
        [{ Member_Account: ann, Limit: '10' }, 10004, 'Limit must be an integer from 0 to 5000'],
        [
          { Member_Account: ann, Offset: -1 },
          10004,
          `Offset must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}`,
        ],
        [
          { Member_Account: ann, GroupType: 'BChatRoom' },
          10004,
          'GroupType must be one of Private, Work, Public, ChatRoom, Meeting, AVChatRoom, Community',
        ],
        [{ Member_Account: ann, WithHugeGroups: 2 }, 10004, 'WithHugeGroups must be 0 or 1'],
        [
          { Member_Account: ann, WithNoActiveGroups: true },
          10004,
          'WithNoActiveGroups must be 0 or 1',
        ],
        [{ Member_Account: ann, ResponseFilter: [] }, 10004, 'ResponseFilter must be an object'],
        [
          { Member_Account: ann, ResponseFilter: { SelfInfoFilter: 'UnreadMsgNum' } },
          10004,
          'ResponseFilter.SelfInfoFilter must be an array of strings',
        ],
        [
          { Member_Account: ann, ResponseFilter: { GroupBaseInfoFilter: [1] } },
          10004,
          'ResponseFilter.GroupBaseInfoFilter must be an array of strings',
        ],
        [{ Member_Account: `nobody-${ann}` }, 70107, `Member_Account nobody-${ann} does not exist`],
      ];
      for (const [body, code, info] of cases) {
        expect({ body, r: await post(LIST, body) }).toEqual({ body, r: fail(code, info) });
      }
    });
  });

  // ---- replay ------------------------------------------------------------------------------

  /** True once `groupId` committed offsets at the end of every partition of the consumed topics. */
  async function caughtUp(groupId: string): Promise<boolean> {
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      const topics = [h.topics.messageSent, h.topics.readAck, h.topics.mention, h.topics.directory];
      const committed = await admin.fetchOffsets({ groupId, topics });
      for (const topic of topics) {
        const high = await admin.fetchTopicOffsets(topic);
        const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
        for (const p of high) {
          const c = mine.find((x) => x.partition === p.partition);
          if (Number(p.high) > 0 && (!c || Number(c.offset) < Number(p.high))) return false;
        }
      }
      return true;
    } finally {
      await admin.disconnect();
    }
  }

  describe('replay', () => {
    it('replays the same events into an empty keyspace with identical group unread for every member', async () => {
      const g = await group('Public', ['rp-ann', 'rp-bob', 'rp-cat'], 6);
      expect(await post(SET, { GroupId: g, Member_Account: 'rp-ann', UnreadMsgNum: 50 })).toEqual({
        status: 200,
        body: OK,
      });
      expect(await post(SET, { GroupId: g, Member_Account: 'rp-bob', UnreadMsgNum: 2 })).toEqual({
        status: 200,
        body: OK,
      });
      await h.send(ack(g, 'rp-cat', 5), registered('rp-dan'), joined(g, 'rp-dan', 6));
      await h.send(...msgs(g, 'rp-cat', 7, 8));
      await unreadBecomes('rp-bob', g, 4);
      await unreadBecomes('rp-ann', g, 8);
      await unreadBecomes('rp-cat', g, 0);
      await unreadBecomes('rp-dan', g, 2);
      await waitFor(() => caughtUp(h.config.kafka.consumerGroup), Boolean, {
        what: 'live projector caught up',
        timeoutMs: 30_000,
      });

      const prefix = `r${uniq()}`;
      const config: AppConfig = {
        ...h.config,
        kafka: { ...h.config.kafka, consumerGroup: `replay-${uniq()}` },
        redis: { ...h.config.redis, keyPrefix: prefix },
      };
      expect(await h.redis.keys(`${prefix}:*`)).toEqual([]);
      replay = await startProjector(config, { logger: false });
      await waitFor(() => caughtUp(config.kafka.consumerGroup), Boolean, {
        what: 'replay caught up',
        timeoutMs: 30_000,
      });
      const rebuilt = new ProjectionStore(h.redis, new Keyspace(prefix), {
        mentionRetentionMs: 60_000,
      });

      const pairs = [
        ...new Map(
          watched.map(([grp, acct]) => [`${grp}\u0000${acct}`, [grp, acct] as const]),
        ).values(),
      ];
      expect(pairs.length).toBeGreaterThan(20);
      const live = await Promise.all(
        pairs.map(([grp, acct]) => store.group.memberView(APP, grp, acct)),
      );
      const again = await Promise.all(
        pairs.map(([grp, acct]) => rebuilt.group.memberView(APP, grp, acct)),
      );
      expect(again).toEqual(live);
      const accounts = [...new Set(pairs.map(([, acct]) => acct))];
      const liveLists = await Promise.all(accounts.map((a) => store.group.joinedGroups(APP, a)));
      const againLists = await Promise.all(accounts.map((a) => rebuilt.group.joinedGroups(APP, a)));
      expect(againLists).toEqual(liveLists);
      expect(again.filter((v) => v.groupId === g).map((v) => v.unread)).toEqual([8, 4, 0, 2]);
    });
  });
});
