import { GROUP_TYPES, RECEIVE_OPTIONS } from './events';
import { MAX_ID_LENGTH, MAX_MENTION_TARGETS, MAX_TEXT_LENGTH, isId } from './validators';

/**
 * The projector's fast path: the same rules as the class-validator contracts in events.ts,
 * compiled to plain checks, because class-validator costs ~35 µs per event (the projector's
 * largest cost per event). It is a filter, never the authority: it accepts only what the
 * contracts accept and builds the same output; everything else, and every reason, comes
 * from class-validator (parser.ts). `fast-validate.spec.ts` checks that agreement on
 * generated inputs.
 */

type Rule =
  | 'id' // IsId
  | 'uint64' // ToIdString + IsUint64String
  | 'count' // IsCount / IsUnixMillis: a non-negative safe integer
  | 'seq' // IsInt + Min(1) + IsCount
  | 'bool'
  | 'nick' // IsString + MaxLength(MAX_ID_LENGTH)
  | 'clientType' // IsString + MaxLength(32)
  | 'text' // IsString + MaxLength(MAX_TEXT_LENGTH)
  | 'groupType' // IsIn(GROUP_TYPES)
  | 'receiveOption' // IsIn(RECEIVE_OPTIONS)
  | 'idOrNumber' // ToIdString + IsId (msgIdClient)
  | 'idList' // IsArray + ArrayMaxSize + IsId each
  | 'uint64List'; // IsArray + ArrayMaxSize + ToIdList + IsUint64String each

interface Field {
  rule: Rule;
  optional?: boolean;
}
type Schema = Record<string, Field>;

const req = (rule: Rule): Field => ({ rule });
const opt = (rule: Rule): Field => ({ rule, optional: true });

const BASE: Schema = { appId: req('id'), eventId: opt('id') };

const MESSAGE: Schema = {
  msgIdServer: req('uint64'),
  msgIdClient: opt('idOrNumber'),
  fromAccount: req('id'),
  fromNick: opt('nick'),
  fromClientType: opt('clientType'),
  time: req('count'),
  updateTime: opt('count'),
  status: opt('count'),
  type: opt('count'),
  body: opt('text'),
  attach: opt('text'),
  ext: opt('text'),
};

/** Schemas by shape key: `type` or `type/scope`. */
export const FAST_SCHEMAS: Record<string, Schema> = {
  'message-sent/c2c': { ...BASE, msgId: req('id'), from: req('id'), to: req('id'), time: req('count'), noUnread: opt('bool') },
  'message-sent/group': { ...BASE, msgId: req('id'), groupId: req('id'), from: req('id'), seq: req('seq'), time: req('count'), noUnread: opt('bool') },
  'message-recalled/c2c': { ...BASE, msgId: req('id'), from: req('id'), to: req('id'), time: req('count') },
  'message-recalled/group': { ...BASE, groupId: req('id'), seq: req('seq'), msgId: opt('id') },
  'message-sent/channel': { ...BASE, msgIdServer: req('uint64'), serverId: req('uint64'), channelId: req('uint64'), from: req('id'), time: req('count') },
  'read-ack/c2c': { ...BASE, account: req('id'), peer: req('id'), readTime: req('count') },
  'read-ack/group': { ...BASE, account: req('id'), groupId: req('id'), readSeq: req('count') },
  'read-ack/channel': { ...BASE, account: req('id'), serverId: req('uint64'), channelId: req('uint64'), ackTime: req('count') },
  'group-unread-set': { ...BASE, groupId: req('id'), account: req('id'), readSeq: req('count'), maxSeq: opt('count') },
  'channel-message-updated': {
    ...BASE,
    serverId: req('uint64'),
    channelId: req('uint64'),
    msgIdServer: req('uint64'),
    status: req('count'),
    updateTime: req('count'),
    body: opt('text'),
    ext: opt('text'),
  },
  'account-registered': { ...BASE, account: req('id') },
  'account-deleted': { ...BASE, account: req('id') },
  'group-created': { ...BASE, groupId: req('id'), groupType: req('groupType'), name: opt('nick') },
  'group-dismissed': { ...BASE, groupId: req('id') },
  'group-member-joined': { ...BASE, groupId: req('id'), account: req('id'), seq: opt('count') },
  'group-member-left': { ...BASE, groupId: req('id'), account: req('id') },
  'qchat-server-member-joined': { ...BASE, serverId: req('uint64'), account: req('id') },
  'qchat-server-member-left': { ...BASE, serverId: req('uint64'), account: req('id') },
  'qchat-channel-created': { ...BASE, serverId: req('uint64'), channelId: req('uint64') },
  'qchat-channel-deleted': { ...BASE, serverId: req('uint64'), channelId: req('uint64') },
  'qchat-role-member-added': { ...BASE, serverId: req('uint64'), roleId: req('uint64'), account: req('id') },
  'qchat-role-member-removed': { ...BASE, serverId: req('uint64'), roleId: req('uint64'), account: req('id') },
  'receive-option-set/c2c': { ...BASE, account: req('id'), peer: req('id'), option: req('receiveOption'), time: req('count') },
  'receive-option-set/group': { ...BASE, account: req('id'), groupId: req('id'), option: req('receiveOption'), time: req('count') },
};

/** channel-mention has a nested message: checked by its own function below. */
const MENTION: Schema = {
  ...BASE,
  serverId: req('uint64'),
  channelId: req('uint64'),
  mentionAll: opt('bool'),
  mentionAccids: opt('idList'),
  mentionRoleIds: opt('uint64List'),
};

const GROUP_TYPE_SET = new Set<string>(GROUP_TYPES);
const RECEIVE_OPTION_SET = new Set<string>(RECEIVE_OPTIONS);
const UINT64 = /^(0|[1-9][0-9]{0,19})$/;
const UINT64_MAX = 18446744073709551615n;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A 64-bit id as the contracts keep it (decimal string), or undefined when not acceptable. */
function uint64(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? String(v) : undefined;
  if (typeof v !== 'string' || !UINT64.test(v)) return undefined;
  return v.length < 20 || BigInt(v) <= UINT64_MAX ? v : undefined;
}

const NO = Symbol('no');

/** The value the contract keeps for `v` under `rule`, or NO when the fast path cannot accept it. */
function convert(rule: Rule, v: unknown): unknown {
  switch (rule) {
    case 'id':
      return isId(v) ? v : NO;
    case 'uint64':
      return uint64(v) ?? NO;
    case 'count':
      return isCount(v) ? v : NO;
    case 'seq':
      return isCount(v) && v >= 1 ? v : NO;
    case 'bool':
      return typeof v === 'boolean' ? v : NO;
    case 'nick':
      return typeof v === 'string' && v.length <= MAX_ID_LENGTH ? v : NO;
    case 'clientType':
      return typeof v === 'string' && v.length <= 32 ? v : NO;
    case 'text':
      return typeof v === 'string' && v.length <= MAX_TEXT_LENGTH ? v : NO;
    case 'groupType':
      return typeof v === 'string' && GROUP_TYPE_SET.has(v) ? v : NO;
    case 'receiveOption':
      return typeof v === 'string' && RECEIVE_OPTION_SET.has(v) ? v : NO;
    case 'idOrNumber': {
      const s = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : v;
      return isId(s) ? s : NO;
    }
    case 'idList':
      return Array.isArray(v) && v.length <= MAX_MENTION_TARGETS && v.every(isId) ? v : NO;
    case 'uint64List': {
      if (!Array.isArray(v) || v.length > MAX_MENTION_TARGETS) return NO;
      const out: string[] = [];
      for (const x of v) {
        const s = uint64(x);
        if (s === undefined) return NO;
        out.push(s);
      }
      return out;
    }
  }
}

/** Copies the schema's fields of `plain` into a new object, or returns undefined when one fails. */
function pick(schema: Schema, plain: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const name in schema) {
    const field = schema[name]!;
    const v = plain[name];
    if (v === undefined && field.optional) continue;
    // null on an optional field is left to class-validator (it keeps the null)
    const c = convert(field.rule, v);
    if (c === NO) return undefined;
    out[name] = c;
  }
  return out;
}

/**
 * The event the contracts would produce for `plain` (whitelisted fields, ids as decimal
 * strings, `type` and `scope` last), or undefined when the fast path cannot tell: the caller
 * then asks class-validator, which decides and gives the reason.
 */
export function fastValidate(shapeKey: string, plain: Record<string, unknown>): Record<string, unknown> | undefined {
  if (shapeKey === 'channel-mention') {
    const message = plain.message;
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
    const out = pick(MENTION, plain);
    const msg = out && pick(MESSAGE, message as Record<string, unknown>);
    if (!out || !msg) return undefined;
    out.message = msg;
    return out;
  }
  const schema = FAST_SCHEMAS[shapeKey];
  return schema ? pick(schema, plain) : undefined;
}
