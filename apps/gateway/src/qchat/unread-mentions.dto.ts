import { isId } from '@app/contracts';
import type { MentionPage, MentionPosition } from '@app/store';
import { QCHAT, QchatError } from './qchat.errors';

/** The form of queryChannelUnReadMentionedMsgPage, validated. */
export interface UnreadMentionsForm {
  accid: string;
  /** Decimal strings, no leading zeros (as the projection stores them). */
  serverId: string;
  channelId: string;
  /** From `timeTag` (plain ms or a nextTimetag cursor); default now. */
  position: MentionPosition;
  limit: number;
}

export const DEFAULT_LIMIT = 200;
export const MAX_LIMIT = 200;
/** Longer accids cannot be registered (the contracts cap ids at 256 characters). */
export const MAX_ACCID_LENGTH = 256;

/**
 * nextTimetag values at or above this are positions inside a millisecond: `ms * 1000 + skip`
 * (skip 1..999). Below it a timeTag is a plain time in ms (10^15 ms is the year 33658).
 */
export const CURSOR_FLOOR = 1_000_000_000_000_000n;
const INT64_MAX = 9_223_372_036_854_775_807n;
const UINT64_MAX = 18_446_744_073_709_551_615n;

/**
 * Decodes a timeTag: a plain time T (< 10^15) is the position (T, 0) — every message at or
 * before T; a larger value is `ms * 1000 + skip` as produced by `encodeTimeTag`. Undefined
 * when it is not a non-negative 64-bit integer.
 */
export function decodeTimeTag(text: string): MentionPosition | undefined {
  if (!/^[0-9]{1,19}$/.test(text)) return undefined;
  const v = BigInt(text);
  if (v > INT64_MAX) return undefined;
  if (v < CURSOR_FLOOR) return { time: Number(v), skip: 0 };
  const time = v / 1000n;
  // No message is newer than the largest safe integer (the contracts' bound on times).
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) return { time: Number.MAX_SAFE_INTEGER, skip: 0 };
  return { time: Number(time), skip: Number(v % 1000n) };
}

/**
 * The nextTimetag for a position: the plain time when skip is 0, else `ms * 1000 + skip`
 * (exact digits). The store only produces skips of 1..999 at times ≥ 10^12 ms
 * (MAX_POSITION_SKIP, MIN_POSITION_TIME), which is what keeps the two forms apart.
 */
export function encodeTimeTag(p: MentionPosition): string {
  if (p.skip === 0 && BigInt(p.time) < CURSOR_FLOOR) return String(p.time);
  return (BigInt(p.time) * 1000n + BigInt(p.skip)).toString();
}

function uint64(name: string, text: string): string {
  if (!/^[0-9]{1,20}$/.test(text) || BigInt(text) > UINT64_MAX) {
    throw new QchatError(QCHAT.PARAM, `${name} must be a non-negative 64-bit integer`);
  }
  return BigInt(text).toString();
}

/**
 * Parses and validates the request: Content-Type application/x-www-form-urlencoded (else
 * 414), no parameter given twice (414); accid, serverId, channelId present and non-empty
 * (else 404, "a required parameter empty"); serverId/channelId unsigned 64-bit (414); accid
 * at most 256 characters (405) and an account id, without control characters (414); timeTag a non-negative 64-bit integer, absent, empty or 0
 * meaning now (414); limit 1..200, absent or empty meaning 200 (414). Unknown parameters are
 * ignored.
 */
export function parseUnreadMentionsForm(
  contentType: string | undefined,
  body: unknown,
  nowMs: number,
): UnreadMentionsForm {
  if (!contentType || !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType)) {
    throw new QchatError(QCHAT.PARAM, 'Content-Type must be application/x-www-form-urlencoded');
  }
  const params = new URLSearchParams(typeof body === 'string' ? body : '');
  const fields = new Map<string, string>();
  for (const [k, v] of params) {
    if (fields.has(k)) throw new QchatError(QCHAT.PARAM, `parameter ${k} is repeated`);
    fields.set(k, v);
  }
  const required = (name: string): string => {
    const v = fields.get(name);
    if (!v) throw new QchatError(QCHAT.NOT_FOUND, `${name} is empty`);
    return v;
  };
  const accid = required('accid');
  const serverId = uint64('serverId', required('serverId'));
  const channelId = uint64('channelId', required('channelId'));
  if (accid.length > MAX_ACCID_LENGTH)
    throw new QchatError(QCHAT.TOO_LONG, `accid is longer than ${MAX_ACCID_LENGTH} characters`);
  // the rule every account id follows (contracts' isId): what is left to refuse is a control character
  if (!isId(accid)) throw new QchatError(QCHAT.PARAM, 'accid must not contain control characters');

  let position: MentionPosition = { time: nowMs, skip: 0 };
  const timeTag = fields.get('timeTag');
  if (timeTag) {
    const p = decodeTimeTag(timeTag);
    if (!p) throw new QchatError(QCHAT.PARAM, 'timeTag must be a non-negative 64-bit integer');
    if (p.time !== 0 || p.skip !== 0) position = p;
  }

  let limit = DEFAULT_LIMIT;
  const limitText = fields.get('limit');
  if (limitText) {
    if (!/^[0-9]{1,9}$/.test(limitText))
      throw new QchatError(QCHAT.PARAM, 'limit must be an integer from 1 to 200');
    limit = Number(limitText);
    if (limit < 1 || limit > MAX_LIMIT)
      throw new QchatError(QCHAT.PARAM, 'limit must be an integer from 1 to 200');
  }
  return { accid, serverId, channelId, position, limit };
}

/**
 * The success body, as JSON text, assembled by concatenation: each message comes from the
 * store as its JSON text (ChannelStore.unreadMentions), nextTimetag is written as a JSON
 * number with its exact digits (64-bit values survive for clients that parse them as
 * 64-bit integers).
 */
export function renderUnreadMentions(page: MentionPage): string {
  return (
    `{"code":200,"data":{"pageInfo":{"nextTimetag":${encodeTimeTag(page.next)},"hasMore":${page.hasMore}},` +
    `"msgList":[${page.messages.join(',')}]}}`
  );
}

const COMMA = Buffer.from(',');
const TAIL = Buffer.from(']}}');

/**
 * renderUnreadMentions' bytes, from the messages' answers as the store read them (UTF-8,
 * MentionStore.unreadMentionParts): the same text, encoded, without decoding the 200 answers
 * into strings and encoding them back.
 */
export function renderUnreadMentionsBytes(page: Omit<MentionPage, 'messages'> & { texts: readonly Buffer[] }): Buffer {
  const head = Buffer.from(`{"code":200,"data":{"pageInfo":{"nextTimetag":${encodeTimeTag(page.next)},"hasMore":${page.hasMore}},"msgList":[`);
  const parts: Buffer[] = [head];
  let length = head.length + TAIL.length;
  page.texts.forEach((t, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(t);
    length += t.length + (i > 0 ? 1 : 0);
  });
  parts.push(TAIL);
  return Buffer.concat(parts, length);
}
