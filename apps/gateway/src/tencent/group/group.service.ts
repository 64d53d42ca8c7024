import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@app/config';
import {
  GROUP_TYPES,
  isId,
  validateEvent,
  type GroupType,
  type GroupUnreadSet,
} from '@app/contracts';
import { EventProducer } from '@app/kafka';
import { DEFAULT_RECEIVE_OPTION, GROUP_TYPES_WITHOUT_UNREAD, ProjectionStore, type GroupMemberView, type ReceiveOptions } from '@app/store';
import { requiredAccount, type JsonObject, type TencentRequestContext } from '../tencent-request';
import { TENCENT, TencentError, tencentOk, type TencentBody } from '../tencent.errors';

/** The group_open_http_svc commands' own error codes (vendor table; docs/api/tencent.md). */
export const GROUP_ERRORS = {
  /** Parameters missing or invalid. */
  INVALID_PARAM: 10004,
  /** Insufficient permission: here, Member_Account is not a member of the group. */
  NO_PERMISSION: 10007,
  /** The group does not exist, or was dismissed. */
  GROUP_NOT_FOUND: 10010,
  /** GroupId is not a valid group id. */
  INVALID_GROUP_ID: 10015,
} as const;

/** The vendor's limit on a group id: at most 48 bytes of UTF-8. */
export const MAX_GROUP_ID_BYTES = 48;
/** The vendor's limit on Limit in get_joined_group_list. */
export const MAX_LIMIT = 5000;

/**
 * GroupId: absent (or null) → 10004; anything else that is not a non-empty string of at
 * most 48 UTF-8 bytes without control characters → 10015.
 */
function requiredGroupId(body: JsonObject): string {
  const v = body.GroupId;
  if (v === undefined || v === null)
    throw new TencentError(GROUP_ERRORS.INVALID_PARAM, 'GroupId is missing');
  if (
    typeof v !== 'string' ||
    v.length === 0 ||
    Buffer.byteLength(v, 'utf8') > MAX_GROUP_ID_BYTES ||
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f]/.test(v)
  ) {
    throw new TencentError(
      GROUP_ERRORS.INVALID_GROUP_ID,
      `GroupId is invalid: a group id is a non-empty string of at most ${MAX_GROUP_ID_BYTES} bytes without control characters`,
    );
  }
  return v;
}

/** An optional non-negative integer field, at most `max`; invalid → 10004. */
function optionalCount(
  body: JsonObject,
  field: string,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    throw new TencentError(
      GROUP_ERRORS.INVALID_PARAM,
      `${field} must be an integer from 0 to ${max}`,
    );
  }
  return v;
}

function optionalFlag(body: JsonObject, field: string): boolean {
  const v = body[field];
  if (v === undefined || v === null || v === 0) return false;
  if (v === 1) return true;
  throw new TencentError(GROUP_ERRORS.INVALID_PARAM, `${field} must be 0 or 1`);
}

function optionalStringList(obj: JsonObject, field: string, path: string): string[] {
  const v = obj[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new TencentError(GROUP_ERRORS.INVALID_PARAM, `${path} must be an array of strings`);
  }
  return v;
}

@Injectable()
export class GroupService {
  constructor(
    private readonly store: ProjectionStore,
    private readonly producer: EventProducer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * set_unread_msg_num: reads the group (one HMGET), computes the member's read seq as
   * max(0, maxSeq − UnreadMsgNum) (so a number above the message count clamps to it), and
   * appends a group-unread-set event; OK only once the broker acknowledged it.
   */
  async setUnread(ctx: TencentRequestContext, body: JsonObject): Promise<TencentBody> {
    const app = ctx.app.sdkAppId;
    const groupId = requiredGroupId(body);
    const account = requiredAccount(body, 'Member_Account', GROUP_ERRORS.INVALID_PARAM);
    const n = body.UnreadMsgNum;
    if (n === undefined || n === null)
      throw new TencentError(GROUP_ERRORS.INVALID_PARAM, 'UnreadMsgNum is missing');
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new TencentError(
        GROUP_ERRORS.INVALID_PARAM,
        'UnreadMsgNum must be a non-negative integer',
      );
    }
    // The id rules before Redis: a string that cannot be an account id never becomes a key name.
    if (!isId(account)) throw new TencentError(GROUP_ERRORS.INVALID_PARAM, 'Member_Account is not a valid account id');
    const group = await this.store.group.memberView(app, groupId, account);
    if (!group.exists)
      throw new TencentError(
        GROUP_ERRORS.GROUP_NOT_FOUND,
        `group ${groupId} does not exist or was dismissed`,
      );
    // The vendor: these types keep no unread count; setting one is accepted and changes nothing.
    if (group.type && GROUP_TYPES_WITHOUT_UNREAD.includes(group.type)) return tencentOk();
    if (!group.member) {
      throw new TencentError(
        GROUP_ERRORS.NO_PERMISSION,
        `${account} is not a member of group ${groupId}`,
      );
    }
    const event: GroupUnreadSet = {
      type: 'group-unread-set',
      appId: app,
      eventId: randomUUID(),
      groupId,
      account,
      readSeq: Math.max(0, group.maxSeq - n),
      maxSeq: group.maxSeq,
    };
    const checked = validateEvent(event, 'readAck');
    if (!checked.ok) throw new TencentError(GROUP_ERRORS.INVALID_PARAM, checked.reason);
    await this.producer.send([event], this.config.requestTimeoutMs);
    return tencentOk();
  }

  /**
   * get_joined_group_list: one round trip on the account's slot pages the account's group
   * index, filtered by type class and ordered by (type class, group id) (GroupStore.joinedPage),
   * with TotalCount; then only the page's groups are read (one HMGET each, inside one
   * read-only call on a single Redis), and only when the
   * filters answer a group's Type, Name or UnreadMsgNum; their seqs that do not count are
   * subtracted (one ZCOUNT per group that has any) only when UnreadMsgNum is asked.
   */
  async joinedGroups(ctx: TencentRequestContext, body: JsonObject): Promise<TencentBody> {
    const app = ctx.app.sdkAppId;
    const account = requiredAccount(body, 'Member_Account', GROUP_ERRORS.INVALID_PARAM);
    const limit = optionalCount(body, 'Limit', MAX_LIMIT) || undefined; // 0 = no limit, as absent
    const offset = optionalCount(body, 'Offset') ?? 0;
    const typeField = body.GroupType;
    let type: GroupType | undefined;
    if (typeField !== undefined && typeField !== null && typeField !== '') {
      if (
        typeof typeField !== 'string' ||
        !(GROUP_TYPES as readonly string[]).includes(typeField)
      ) {
        throw new TencentError(
          GROUP_ERRORS.INVALID_PARAM,
          `GroupType must be one of ${GROUP_TYPES.join(', ')}`,
        );
      }
      type = typeField as GroupType;
    }
    const withHuge = optionalFlag(body, 'WithHugeGroups');
    optionalFlag(body, 'WithNoActiveGroups'); // validated; activation is not tracked, every group is active
    const filter = body.ResponseFilter;
    if (
      filter !== undefined &&
      filter !== null &&
      (typeof filter !== 'object' || Array.isArray(filter))
    ) {
      throw new TencentError(GROUP_ERRORS.INVALID_PARAM, 'ResponseFilter must be an object');
    }
    const f = (filter ?? {}) as JsonObject;
    const base = new Set(
      optionalStringList(f, 'GroupBaseInfoFilter', 'ResponseFilter.GroupBaseInfoFilter'),
    );
    const self = new Set(optionalStringList(f, 'SelfInfoFilter', 'ResponseFilter.SelfInfoFilter'));

    if (!isId(account))
      throw new TencentError(TENCENT.ACCOUNT_NOT_FOUND, `Member_Account ${account} does not exist`);
    const unread = self.has('UnreadMsgNum');
    // MsgFlag: the account's receive options, read beside the groups only when asked.
    const [page, options] = await Promise.all([
      this.store.group.joinedPage(app, account, { type, withHuge, offset, limit, read: base.has('Type') || base.has('Name'), unread }),
      self.has('MsgFlag') ? this.store.receiveOptions.read(app, account) : undefined,
    ]);
    if (!page.registered)
      throw new TencentError(TENCENT.ACCOUNT_NOT_FOUND, `Member_Account ${account} does not exist`);
    return tencentOk({
      TotalCount: page.total,
      GroupIdList: page.groups.map((g) => groupInfo(g.groupId, g.view, base, self, options)),
    });
  }
}

function groupInfo(
  groupId: string,
  g: GroupMemberView | undefined,
  base: Set<string>,
  self: Set<string>,
  options: ReceiveOptions | undefined,
): Record<string, unknown> {
  const info: Record<string, unknown> = { GroupId: groupId };
  if (base.has('Type')) info.Type = g?.type;
  if (base.has('Name')) info.Name = g?.name;
  const selfInfo: Record<string, unknown> = {};
  if (options) selfInfo.MsgFlag = options.groups.get(groupId) ?? DEFAULT_RECEIVE_OPTION;
  if (self.has('UnreadMsgNum')) selfInfo.UnreadMsgNum = g?.unread;
  if (Object.keys(selfInfo).length > 0) info.SelfInfo = selfInfo;
  return info;
}
