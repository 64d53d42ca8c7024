import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import {
  AccountDeleted,
  AccountRegistered,
  C2cMessageRecalled,
  C2cMessageSent,
  C2cReceiveOptionSet,
  C2cReadAck,
  ChannelMention,
  ChannelMessageSent,
  ChannelMessageUpdated,
  ChannelReadAck,
  EVENT_TYPES,
  GroupCreated,
  GroupDismissed,
  GroupMemberJoined,
  GroupMemberLeft,
  GroupMessageRecalled,
  GroupMessageSent,
  GroupReceiveOptionSet,
  GroupReadAck,
  GroupUnreadSet,
  QchatChannelCreated,
  QchatChannelDeleted,
  QchatRoleMemberAdded,
  QchatRoleMemberRemoved,
  QchatServerMemberJoined,
  QchatServerMemberLeft,
  type EventType,
  type UnreadEvent,
} from './events';
import { fastValidate } from './fast-validate';
import type { ConsumedTopicRole } from './topics';

/** Events larger than this are refused (dead-lettered) before they are parsed. */
export const MAX_EVENT_BYTES = 256 * 1024;

export type ParseResult = { ok: true; event: UnreadEvent } | { ok: false; reason: string };

type Shape = ClassConstructor<UnreadEvent>;

/** Which classes a (type, scope) pair selects, and on which topic the type belongs. */
const SHAPES: Record<EventType, { topic: ConsumedTopicRole; byScope?: Record<string, Shape>; shape?: Shape }> = {
  'message-sent': {
    topic: 'messageSent',
    byScope: { c2c: C2cMessageSent, group: GroupMessageSent, channel: ChannelMessageSent },
  },
  'message-recalled': {
    topic: 'messageSent',
    byScope: { c2c: C2cMessageRecalled, group: GroupMessageRecalled },
  },
  'read-ack': {
    topic: 'readAck',
    byScope: { c2c: C2cReadAck, group: GroupReadAck, channel: ChannelReadAck },
  },
  'group-unread-set': { topic: 'readAck', shape: GroupUnreadSet },
  'channel-mention': { topic: 'mention', shape: ChannelMention },
  'channel-message-updated': { topic: 'mention', shape: ChannelMessageUpdated },
  'account-registered': { topic: 'directory', shape: AccountRegistered },
  'account-deleted': { topic: 'directory', shape: AccountDeleted },
  'group-created': { topic: 'directory', shape: GroupCreated },
  'group-dismissed': { topic: 'directory', shape: GroupDismissed },
  'group-member-joined': { topic: 'directory', shape: GroupMemberJoined },
  'group-member-left': { topic: 'directory', shape: GroupMemberLeft },
  'qchat-server-member-joined': { topic: 'directory', shape: QchatServerMemberJoined },
  'qchat-server-member-left': { topic: 'directory', shape: QchatServerMemberLeft },
  'qchat-channel-created': { topic: 'directory', shape: QchatChannelCreated },
  'qchat-channel-deleted': { topic: 'directory', shape: QchatChannelDeleted },
  'qchat-role-member-added': { topic: 'directory', shape: QchatRoleMemberAdded },
  'qchat-role-member-removed': { topic: 'directory', shape: QchatRoleMemberRemoved },
  'receive-option-set': {
    topic: 'directory',
    byScope: { c2c: C2cReceiveOptionSet, group: GroupReceiveOptionSet },
  },
};

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

function flatten(errors: ValidationError[], prefix = ''): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) out.push(...Object.values(e.constraints).map((m) => (prefix ? `${prefix}.${m}` : m)));
    if (e.children?.length) out.push(...flatten(e.children, path));
  }
  return out;
}

/**
 * Turns a plain object into a typed, validated event, or a precise reason. `topic`, when
 * given, is the role of the topic it was read from: a type read from a topic it does not
 * belong to is refused, because its ordering guarantees come from its own topic's key.
 * Valid events usually take the compiled fast path (fast-validate.ts); anything it cannot
 * accept goes to class-validator, which decides (`authoritativeOnly` skips the fast path).
 */
export function validateEvent(
  plain: unknown,
  topic?: ConsumedTopicRole,
  options: { authoritativeOnly?: boolean } = {},
): ParseResult {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return { ok: false, reason: 'event must be a JSON object' };
  }
  const { type, scope } = plain as { type?: unknown; scope?: unknown };
  if (typeof type !== 'string') return { ok: false, reason: 'type must be a string' };
  if (!KNOWN_TYPES.has(type)) return { ok: false, reason: `unknown type "${type.slice(0, 64)}"` };
  const spec = SHAPES[type as EventType];
  if (topic && spec.topic !== topic) {
    return { ok: false, reason: `type "${type}" does not belong on the ${topic} topic` };
  }
  let shape = spec.shape;
  if (spec.byScope) {
    if (typeof scope !== 'string' || !Object.hasOwn(spec.byScope, scope)) {
      return { ok: false, reason: `scope must be one of ${Object.keys(spec.byScope).join(', ')}` };
    }
    shape = spec.byScope[scope];
  }
  if (!shape) return { ok: false, reason: `no contract for type "${type}"` };
  if (!options.authoritativeOnly) {
    const fast = fastValidate(spec.byScope ? `${type}/${scope as string}` : type, plain as Record<string, unknown>);
    if (fast) {
      fast.type = type;
      if (spec.byScope) fast.scope = scope;
      return { ok: true, event: fast as unknown as UnreadEvent };
    }
  }
  return validateWithClassValidator(shape, plain, type, spec.byScope ? (scope as string) : undefined);
}

/** The authoritative check (class-validator on the contract class): decides, and gives every reason. */
function validateWithClassValidator(shape: Shape, plain: object, type: string, scope: string | undefined): ParseResult {
  const instance = plainToInstance(shape, plain);
  const errors = validateSync(instance, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) return { ok: false, reason: flatten(errors).join('; ') };
  instance.type = type as never;
  if (scope !== undefined) (instance as { scope: string }).scope = scope;
  return { ok: true, event: instance };
}

/** Parses a Kafka record value (UTF-8 JSON) into a typed event, or a precise reason. */
export function parseEvent(value: Buffer | null | undefined, topic?: ConsumedTopicRole): ParseResult {
  if (!value || value.length === 0) return { ok: false, reason: 'empty value' };
  if (value.length > MAX_EVENT_BYTES) {
    return { ok: false, reason: `event is ${value.length} bytes, more than the ${MAX_EVENT_BYTES} allowed` };
  }
  let plain: unknown;
  try {
    plain = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  return validateEvent(plain, topic);
}

/** The topic an event type is produced to. */
export function topicRoleOf(type: EventType): ConsumedTopicRole {
  return SHAPES[type].topic;
}

/**
 * Every event shape: its `type`, `scope` (for the scoped types), class and topic role. For
 * documents generated from the contracts (the gateway's AsyncAPI document).
 */
export function eventShapes(): { type: EventType; scope?: string; topic: ConsumedTopicRole; shape: Shape }[] {
  return EVENT_TYPES.flatMap((type) => {
    const s = SHAPES[type];
    if (s.byScope) return Object.entries(s.byScope).map(([scope, shape]) => ({ type, scope, topic: s.topic, shape }));
    return s.shape ? [{ type, topic: s.topic, shape: s.shape }] : [];
  });
}
