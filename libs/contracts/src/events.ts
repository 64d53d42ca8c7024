import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  IsCount,
  IsId,
  IsUint64String,
  IsUnixMillis,
  MAX_ID_LENGTH,
  MAX_MENTION_TARGETS,
  MAX_TEXT_LENGTH,
  ToIdString,
} from './validators';

/**
 * Event contracts v1 (docs/events.md). One class per event shape; docs/events.md is the
 * producer-facing description and must stay in step with this file.
 */

export const EVENT_TYPES = [
  'message-sent',
  'read-ack',
  'group-unread-set',
  'channel-mention',
  'channel-message-updated',
  'account-registered',
  'account-deleted',
  'group-created',
  'group-dismissed',
  'group-member-joined',
  'group-member-left',
  'qchat-server-member-joined',
  'qchat-server-member-left',
  'qchat-channel-created',
  'qchat-channel-deleted',
  'qchat-role-member-added',
  'qchat-role-member-removed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const SCOPES = ['c2c', 'group', 'channel'] as const;
export type Scope = (typeof SCOPES)[number];

export const GROUP_TYPES = ['Private', 'Work', 'Public', 'ChatRoom', 'Meeting', 'AVChatRoom', 'Community'] as const;
export type GroupType = (typeof GROUP_TYPES)[number];

/** Fields every event carries. */
export abstract class BaseEvent {
  /** The tenant: a Tencent SDKAppID or a NetEase AppKey, as a string. */
  @IsId()
  appId!: string;

  /** Optional producer-assigned id, kept for tracing only (idempotency comes from the projections). */
  @IsOptional()
  @IsId()
  eventId?: string;
}

// ---- im.message-sent -------------------------------------------------------------------

export class C2cMessageSent extends BaseEvent {
  type!: 'message-sent';
  scope!: 'c2c';
  @IsId() msgId!: string;
  @IsId() from!: string;
  @IsId() to!: string;
  @IsUnixMillis() time!: number;
}

export class GroupMessageSent extends BaseEvent {
  type!: 'message-sent';
  scope!: 'group';
  @IsId() msgId!: string;
  @IsId() groupId!: string;
  @IsId() from!: string;
  /** The group's message sequence number, contiguous from 1. */
  @IsInt() @Min(1) @IsCount() seq!: number;
  @IsUnixMillis() time!: number;
}

export class ChannelMessageSent extends BaseEvent {
  type!: 'message-sent';
  scope!: 'channel';
  @ToIdString() @IsUint64String() msgIdServer!: string;
  @ToIdString() @IsUint64String() serverId!: string;
  @ToIdString() @IsUint64String() channelId!: string;
  @IsId() from!: string;
  @IsUnixMillis() time!: number;
}

// ---- im.read-ack -----------------------------------------------------------------------

export class C2cReadAck extends BaseEvent {
  type!: 'read-ack';
  scope!: 'c2c';
  /** The reader. */
  @IsId() account!: string;
  /** Everything from `peer` to `account` at or before `readTime` is read. */
  @IsId() peer!: string;
  @IsUnixMillis() readTime!: number;
}

export class GroupReadAck extends BaseEvent {
  type!: 'read-ack';
  scope!: 'group';
  @IsId() account!: string;
  @IsId() groupId!: string;
  @IsCount() readSeq!: number;
}

export class ChannelReadAck extends BaseEvent {
  type!: 'read-ack';
  scope!: 'channel';
  @IsId() account!: string;
  @ToIdString() @IsUint64String() serverId!: string;
  @ToIdString() @IsUint64String() channelId!: string;
  /** That message and every earlier one is read. */
  @IsUnixMillis() ackTime!: number;
}

/** Admin override written by the gateway for set_unread_msg_num: readSeq replaces the member's read seq. */
export class GroupUnreadSet extends BaseEvent {
  type!: 'group-unread-set';
  @IsId() groupId!: string;
  @IsId() account!: string;
  @IsCount() readSeq!: number;
  /**
   * Extension (optional): the group's max seq the override was computed from. Joins and
   * the member's own messages at or below it happened before the override and are
   * superseded by it; without it they stay floors of the read position (docs/events.md).
   */
  @IsOptional() @IsCount() maxSeq?: number;
}

// ---- im.mention ------------------------------------------------------------------------

/** A QChat message as the vendor returns it from queryChannelUnReadMentionedMsgPage. */
export class ChannelMessage {
  @ToIdString() @IsUint64String() msgIdServer!: string;
  /** The client's message id: the vendor documents a Long but returns a hex string; kept as given. */
  @IsOptional() @ToIdString() @IsId() msgIdClient?: string;
  @IsId() fromAccount!: string;
  @IsOptional() @IsString() @MaxLength(MAX_ID_LENGTH) fromNick?: string;
  /** AOS, IOS, PC, WEB, REST, … */
  @IsOptional() @IsString() @MaxLength(32) fromClientType?: string;
  @IsUnixMillis() time!: number;
  @IsOptional() @IsUnixMillis() updateTime?: number;
  /** 0 normal, 1 recalled, 2 deleted, ≥ 10000 custom. */
  @IsOptional() @IsCount() status?: number;
  @IsOptional() @IsCount() type?: number;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT_LENGTH) body?: string;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT_LENGTH) attach?: string;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT_LENGTH) ext?: string;
}

export class ChannelMention extends BaseEvent {
  type!: 'channel-mention';
  @ToIdString() @IsUint64String() serverId!: string;
  @ToIdString() @IsUint64String() channelId!: string;
  @ValidateNested() @Type(() => ChannelMessage) message!: ChannelMessage;
  @IsOptional() @IsBoolean() mentionAll?: boolean;
  @IsOptional() @IsArray() @ArrayMaxSize(MAX_MENTION_TARGETS) @IsId({ each: true }) mentionAccids?: string[];
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_MENTION_TARGETS)
  @ToIdList()
  @IsUint64String({ each: true })
  mentionRoleIds?: string[];
}

export class ChannelMessageUpdated extends BaseEvent {
  type!: 'channel-message-updated';
  @ToIdString() @IsUint64String() serverId!: string;
  @ToIdString() @IsUint64String() channelId!: string;
  @ToIdString() @IsUint64String() msgIdServer!: string;
  /** 0 normal, 1 recalled, 2 deleted, ≥ 10000 custom. */
  @IsCount() status!: number;
  @IsUnixMillis() updateTime!: number;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT_LENGTH) body?: string;
  @IsOptional() @IsString() @MaxLength(MAX_TEXT_LENGTH) ext?: string;
}

// ---- im.directory ----------------------------------------------------------------------

export class AccountRegistered extends BaseEvent {
  type!: 'account-registered';
  @IsId() account!: string;
}

export class AccountDeleted extends BaseEvent {
  type!: 'account-deleted';
  @IsId() account!: string;
}

export class GroupCreated extends BaseEvent {
  type!: 'group-created';
  @IsId() groupId!: string;
  @IsIn(GROUP_TYPES) groupType!: GroupType;
  @IsOptional() @IsString() @MaxLength(MAX_ID_LENGTH) name?: string;
}

export class GroupDismissed extends BaseEvent {
  type!: 'group-dismissed';
  @IsId() groupId!: string;
}

export class GroupMemberJoined extends BaseEvent {
  type!: 'group-member-joined';
  @IsId() groupId!: string;
  @IsId() account!: string;
  /** The group's sequence at the join; without it, the group's current max. */
  @IsOptional() @IsCount() seq?: number;
}

export class GroupMemberLeft extends BaseEvent {
  type!: 'group-member-left';
  @IsId() groupId!: string;
  @IsId() account!: string;
}

export class QchatServerMemberJoined extends BaseEvent {
  type!: 'qchat-server-member-joined';
  @ToIdString() @IsUint64String() serverId!: string;
  @IsId() account!: string;
}

export class QchatServerMemberLeft extends BaseEvent {
  type!: 'qchat-server-member-left';
  @ToIdString() @IsUint64String() serverId!: string;
  @IsId() account!: string;
}

export class QchatChannelCreated extends BaseEvent {
  type!: 'qchat-channel-created';
  @ToIdString() @IsUint64String() serverId!: string;
  @ToIdString() @IsUint64String() channelId!: string;
}

export class QchatChannelDeleted extends BaseEvent {
  type!: 'qchat-channel-deleted';
  @ToIdString() @IsUint64String() serverId!: string;
  @ToIdString() @IsUint64String() channelId!: string;
}

export class QchatRoleMemberAdded extends BaseEvent {
  type!: 'qchat-role-member-added';
  @ToIdString() @IsUint64String() serverId!: string;
  @ToIdString() @IsUint64String() roleId!: string;
  @IsId() account!: string;
}

export class QchatRoleMemberRemoved extends BaseEvent {
  type!: 'qchat-role-member-removed';
  @ToIdString() @IsUint64String() serverId!: string;
  @ToIdString() @IsUint64String() roleId!: string;
  @IsId() account!: string;
}

export type MessageSentEvent = C2cMessageSent | GroupMessageSent | ChannelMessageSent;
export type ReadAckEvent = C2cReadAck | GroupReadAck | ChannelReadAck;
export type DirectoryEvent =
  | AccountRegistered
  | AccountDeleted
  | GroupCreated
  | GroupDismissed
  | GroupMemberJoined
  | GroupMemberLeft
  | QchatServerMemberJoined
  | QchatServerMemberLeft
  | QchatChannelCreated
  | QchatChannelDeleted
  | QchatRoleMemberAdded
  | QchatRoleMemberRemoved;

/** Every valid event, discriminated by `type` (and `scope` for message-sent and read-ack). */
export type UnreadEvent =
  | MessageSentEvent
  | ReadAckEvent
  | GroupUnreadSet
  | ChannelMention
  | ChannelMessageUpdated
  | DirectoryEvent;

/** Role ids are 64-bit: safe-integer numbers become decimal strings, like every other QChat id. */
function ToIdList(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    Array.isArray(value)
      ? value.map((v: unknown) =>
          typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v,
        )
      : value,
  );
}
