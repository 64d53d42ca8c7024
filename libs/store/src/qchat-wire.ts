/**
 * QChat's wire form of a mentioned message (queryChannelUnReadMentionedMsgPage), shared by
 * the projection (which stores each message's answer pre-rendered, channel-message.lua) and
 * the gateway: the message fields, their rendering, and page positions.
 */

/**
 * A position in an account's unread-mention list (newest first): the messages older than
 * `time`, and those at `time` after the first `skip` of the channel's mention messages at
 * that millisecond (ordered by msgIdServer, descending). A plain time T is `{ time: T, skip: 0 }`.
 */
export interface MentionPosition {
  time: number;
  skip: number;
}

/** A message as queryChannelUnReadMentionedMsgPage returns it. */
export interface MentionedMessage {
  /** Decimal string (64-bit). */
  msgIdServer: string;
  msgIdClient: string;
  fromAccount: string;
  fromNick: string;
  fromClientType: string;
  time: number;
  updateTime: number;
  /** 0 normal, ≥ 10000 custom (recalled and deleted messages never appear). */
  status: number;
  mentionedAll: 0 | 1;
  type: number;
  body: string;
  attach: string;
  ext: string;
}

export interface MentionPage {
  /** Each message as its answer's JSON text, in page order (see renderMentionedMessage). */
  messages: string[];
  /** Where the next page starts. When `messages` is empty, the position asked for. */
  next: MentionPosition;
  /** True when at least one more qualifying message lies beyond `next`. */
  hasMore: boolean;
}

export interface MentionQuery {
  app: string;
  serverId: string;
  channelId: string;
  account: string;
  /** The account's roles in the server (resolved at query time, see `access`). */
  roles: readonly string[];
  position: MentionPosition;
  limit: number;
  /** Unix ms; defaults to the clock. */
  now?: number;
}

/**
 * A page boundary may fall inside a millisecond only at a skip below MAX_POSITION_SKIP and a
 * time at or after MIN_POSITION_TIME (2001-09-09): what nextTimetag encodes as
 * `ms * 1000 + skip` (docs/api/qchat.md). A page that would end inside a millisecond
 * elsewhere is extended to the end of that millisecond instead (channel-query.lua).
 */
export const MAX_POSITION_SKIP = 1000;
export const MIN_POSITION_TIME = 1_000_000_000_000;

/** msgIdServer padded to 20 digits: inside one score Redis orders members lexicographically. */
export function padMsgId(id: string): string {
  return id.padStart(20, '0');
}

export function unpadMsgId(id: string): string {
  return id.replace(/^0+(?=\d)/, '');
}

export interface FixedFields {
  fromAccount: string;
  fromNick: string;
  fromClientType: string;
  time: number;
  type: number;
  attach: string;
  msgIdClient: string;
  mentionedAll: 0 | 1;
}

/**
 * The fixed fields of a mention as stored in its `B:upd` record, ready to send: three JSON member
 * lists, joined by "\n" (JSON text never holds a raw newline), around which the write
 * script puts the message's current values (mention-render.lua) into `B:out`:
 * `{"msgIdServer":<id>,` seg1 `"updateTime":…,"status":…,` seg2 `"body":…,` seg3 `"ext":…}`.
 * The member order is the vendor's, as renderMentionedMessage writes it.
 */
export function renderFixedFields(f: FixedFields): string {
  return (
    `"msgIdClient":${JSON.stringify(f.msgIdClient)},"fromAccount":${JSON.stringify(f.fromAccount)},` +
    `"fromNick":${JSON.stringify(f.fromNick)},"fromClientType":${JSON.stringify(f.fromClientType)},"time":${JSON.stringify(f.time)},` +
    `\n"mentionedAll":${f.mentionedAll},"type":${JSON.stringify(f.type)},` +
    `\n"attach":${JSON.stringify(f.attach)},`
  );
}

const LUA_ESC: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A string as JSON, escaped exactly as mention-render.lua's jsonString escapes it: '"', '\\'
 * and control characters below 0x20 (\b \f \n \r \t, else \u00xx), everything else as is
 * (unlike JSON.stringify, a lone surrogate is not escaped: it reaches Redis as the UTF-8 of
 * U+FFFD, as the raw string would). Its UTF-8 is byte for byte what the script renders.
 */
export function luaJsonString(s: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/[\u0000-\u001f"\\]/g, (c) => LUA_ESC[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/**
 * A mention's answer JSON with its own status, updateTime, body and ext, byte for byte what
 * mention-render.lua renders from `fixed` (renderFixedFields) and the record a mention with no
 * earlier update gets: channel-message.lua stores it as is in that case (most mentions), so it
 * renders only when an update came first or comes later. `status` and `updateTime` as sent.
 */
export function renderMentionAnswer(paddedId: string, fixed: string, status: string, updateTime: string, body: string, ext: string): string {
  const [s1, s2, s3] = fixed.split('\n') as [string, string, string];
  const nz = paddedId.search(/[^0]/);
  const mid = nz < 0 ? '0' : paddedId.slice(nz);
  return `{"msgIdServer":${mid},${s1}"updateTime":${updateTime},"status":${status},${s2}"body":${luaJsonString(body)},${s3}"ext":${luaJsonString(ext)}}`;
}

/**
 * A message as the vendor's JSON object: msgIdServer as a JSON number with its exact digits
 * (64-bit values survive for clients that parse them as 64-bit integers), every other field
 * as the vendor types it.
 */
export function renderMentionedMessage({ msgIdServer, ...rest }: MentionedMessage): string {
  return `{"msgIdServer":${msgIdServer},${JSON.stringify(rest).slice(1)}`;
}

