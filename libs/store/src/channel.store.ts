import type {
  ChannelMention,
  ChannelMessageSent,
  ChannelMessageUpdated,
  ChannelReadAck,
  QchatChannelCreated,
  QchatChannelDeleted,
  QchatRoleMemberAdded,
  QchatRoleMemberRemoved,
  QchatServerMemberJoined,
  QchatServerMemberLeft,
} from '@app/contracts';
import type { Result } from 'ioredis';
import { esc, type Keyspace } from './keyspace';
import type { StoreOptions } from './projection.store';
import type { RedisClient } from './redis.factory';
import { defineScript } from './scripts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    qchatChannelMessage(
      ix: string,
      msg: string,
      from: string,
      tgt: string,
      upd: string,
      pend: string,
      ack: string,
      ...args: (string | number)[]
    ): Result<number, Context>;
    qchatChannelAck(
      ack: string,
      account: string,
      ackTime: number,
      now: number,
      retentionMs: number,
    ): Result<number, Context>;
    qchatAccountIndex(
      index: string,
      member: string,
      expireAt: number,
      now: number,
    ): Result<number, Context>;
    qchatChannelQuery(
      ix: string,
      from: string,
      msg: string,
      upd: string,
      ack: string,
      ...args: (string | number)[]
    ): Result<(string | number)[], Context>;
  }
}

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

/** What the gateway needs to decide 404s and which role sets to read. */
export interface ChannelAccess {
  /** The server has members or channels. */
  serverKnown: boolean;
  /** qchat-channel-created seen (and not deleted). */
  channelKnown: boolean;
  /** The account is a member of the server. */
  member: boolean;
  /** Role ids granted to the account in the server (the everyone role is never granted by events). */
  roles: string[];
}

/** Why a mention counts for an account: the sets of the channel it was found in. */
export type MentionMatch = { kind: 'all' } | { kind: 'account' } | { kind: 'role'; roleId: string };

/** An account's unread mentions in one channel with what matched each (`unread explain`). */
export interface MentionExplanation {
  access: ChannelAccess;
  /** The account's ack time in the channel (mentions at or before it are read); absent = none. */
  ackTime?: number;
  /** Newest first, at most the limit asked for. */
  messages: { message: MentionedMessage; matches: MentionMatch[] }[];
  /** More unread mentions lie beyond `messages`. */
  more: boolean;
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

/** The last-writer-wins record of channel-message.lua (numbers as strings). */
interface UpdateRecord {
  s: string;
  ut: string;
  b?: string;
  e?: string;
}

/**
 * QChat @-mention projection (DESIGN.md, docs/projections.md "QChat mentions").
 *
 * Per channel (`keys.channel(app, serverId, channelId)` = B, one hash tag):
 * - `B:all`, `B:r:<roleId>`, `B:a:<account>`: zsets of the messages that @-mention all, a
 *   role, an account: member `<time, 16 digits><msgIdServer padded to 20 digits>`, score time;
 * - `B:ix` every mention message by time (retention and page positions), `B:msg` fixed fields,
 *   `B:from` sender, `B:tgt` the sets a message is in, `B:upd` status/body/ext/updateTime as
 *   last-writer-wins registers, `B:pend` updates whose mention has not arrived;
 * - `B:out`: id → the message's answer JSON, rendered by the write script whenever the
 *   message or its record changes (pages are assembled by concatenation);
 * - `B:ack`: account → ack time (a max).
 * Per server (`keys.server(app, serverId)` = S): `S:members`, `S:roles:<account>`, `S:channels`.
 * Per account (`keys.qchatAccount(app, account)`): `<prefix>:qacc:{app:account}:chn` (channels where it has keys, by expiry) and
 * `:srv` (servers where it has keys), for account-deleted.
 *
 * Retention is relative to the message time: a mention lives until time + mentionRetentionMs
 * (pruned on every write to the channel, filtered on read, and every key expires with its
 * newest entry), so a channel with no mentions left holds no keys.
 */
export class ChannelStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    private readonly options: StoreOptions,
  ) {
    defineScript(redis, 'qchatChannelMessage', 'channel-message', 7);
    defineScript(redis, 'qchatChannelAck', 'channel-ack', 1);
    defineScript(redis, 'qchatAccountIndex', 'channel-index', 1);
    defineScript(redis, 'qchatChannelQuery', 'channel-query', 5);
  }

  /**
   * The sender's own channel message advances the sender's ack time in that channel (it has
   * seen everything up to what it wrote), like a read-ack at the message time.
   */
  messageSent(e: ChannelMessageSent): Promise<unknown> {
    return this.ack(e.appId, e.serverId, e.channelId, e.from, e.time);
  }

  readAck(e: ChannelReadAck): Promise<unknown> {
    return this.ack(e.appId, e.serverId, e.channelId, e.account, e.ackTime);
  }

  /**
   * Indexes a mention under each of its targets. The sender is never a direct target of its
   * own message; a message with no target left is not stored.
   */
  mention(e: ChannelMention): Promise<unknown> {
    const m = e.message;
    const direct = [...new Set(e.mentionAccids ?? [])].filter((a) => a !== m.fromAccount);
    const targets = new Set<string>();
    if (e.mentionAll) targets.add('all');
    for (const r of e.mentionRoleIds ?? []) targets.add(`r:${r}`);
    for (const a of direct) targets.add(`a:${esc(a)}`);
    if (targets.size === 0) return Promise.resolve(0);

    const fixed: FixedFields = {
      fromAccount: m.fromAccount,
      fromNick: m.fromNick ?? '',
      fromClientType: m.fromClientType ?? '',
      time: m.time,
      type: m.type ?? 0,
      attach: m.attach ?? '',
      msgIdClient: m.msgIdClient ?? '',
      mentionedAll: e.mentionAll ? 1 : 0,
    };
    // Stored ready to send: channel-message.lua renders the message's answer from these and
    // its current status, updateTime, body and ext, so no request parses or serialises it.
    const now = Date.now();
    const base = this.keys.channel(e.appId, e.serverId, e.channelId);
    const writes: Promise<unknown>[] = [
      this.redis.qchatChannelMessage(
        ...this.messageKeys(base),
        base,
        'mention',
        padMsgId(m.msgIdServer),
        now,
        this.options.mentionRetentionMs,
        m.status ?? 0,
        m.updateTime ?? m.time,
        m.body === undefined ? '0' : '1',
        m.body ?? '',
        m.ext === undefined ? '0' : '1',
        m.ext ?? '',
        m.time,
        renderFixedFields(fixed),
        m.fromAccount,
        [...targets].join('\n'),
      ),
    ];
    const expireAt = m.time + this.options.mentionRetentionMs;
    for (const a of direct)
      writes.push(this.indexChannel(e.appId, a, e.serverId, e.channelId, expireAt, now));
    return Promise.all(writes);
  }

  /**
   * Recall (1) and delete (2) take the message out for good; edits and custom statuses update
   * it (newest updateTime wins per field). An update may arrive before its mention: it is kept
   * and merged when the mention comes (channel-message.lua).
   */
  messageUpdated(e: ChannelMessageUpdated): Promise<unknown> {
    const base = this.keys.channel(e.appId, e.serverId, e.channelId);
    return this.redis.qchatChannelMessage(
      ...this.messageKeys(base),
      base,
      'update',
      padMsgId(e.msgIdServer),
      Date.now(),
      this.options.mentionRetentionMs,
      e.status,
      e.updateTime,
      e.body === undefined ? '0' : '1',
      e.body ?? '',
      e.ext === undefined ? '0' : '1',
      e.ext ?? '',
    );
  }

  serverMemberJoined(e: QchatServerMemberJoined): Promise<unknown> {
    const s = this.keys.server(e.appId, e.serverId);
    return Promise.all([
      this.redis.sadd(`${s}:members`, e.account),
      this.redis.sadd(this.accountKeys(e.appId, e.account).servers, e.serverId),
    ]);
  }

  /** Leaving a server drops the member's roles there too (directory events of a server are ordered). */
  serverMemberLeft(e: QchatServerMemberLeft): Promise<unknown> {
    const s = this.keys.server(e.appId, e.serverId);
    return Promise.all([
      this.redis.srem(`${s}:members`, e.account),
      this.redis.del(this.rolesKey(s, e.account)),
      this.redis.srem(this.accountKeys(e.appId, e.account).servers, e.serverId),
    ]);
  }

  channelCreated(e: QchatChannelCreated): Promise<unknown> {
    return this.redis.sadd(`${this.keys.server(e.appId, e.serverId)}:channels`, e.channelId);
  }

  /**
   * The channel stops answering (404). Its mention keys are left to expire with the
   * retention: mentions may still arrive after this event (another topic), and deleting a
   * channel's data would be one unbounded call.
   */
  channelDeleted(e: QchatChannelDeleted): Promise<unknown> {
    return this.redis.srem(`${this.keys.server(e.appId, e.serverId)}:channels`, e.channelId);
  }

  roleMemberAdded(e: QchatRoleMemberAdded): Promise<unknown> {
    const s = this.keys.server(e.appId, e.serverId);
    return Promise.all([
      this.redis.sadd(this.rolesKey(s, e.account), e.roleId),
      this.redis.sadd(this.accountKeys(e.appId, e.account).servers, e.serverId),
    ]);
  }

  roleMemberRemoved(e: QchatRoleMemberRemoved): Promise<unknown> {
    return this.redis.srem(
      this.rolesKey(this.keys.server(e.appId, e.serverId), e.account),
      e.roleId,
    );
  }

  /**
   * Removes every QChat key of an account: its direct mention sets and ack entries in every
   * channel, its membership and roles in every server, and its index. Two steps (read the
   * index, then delete), so unlike the other writes it is not one call; an event about the
   * account applied from another partition in between may survive it, as it could in any
   * interleaving of unordered topics.
   */
  async deleteAccount(app: string, account: string): Promise<unknown> {
    const idx = this.accountKeys(app, account);
    const [channels, servers] = await Promise.all([
      this.redis.zrange(idx.channels, 0, -1),
      this.redis.smembers(idx.servers),
    ]);
    const writes: Promise<unknown>[] = [];
    for (const sc of channels) {
      const [serverId, channelId] = sc.split(':');
      if (!serverId || !channelId) continue;
      const base = this.keys.channel(app, serverId, channelId);
      writes.push(
        this.redis.del(`${base}:a:${esc(account)}`),
        this.redis.zrem(`${base}:ack`, account),
      );
    }
    for (const serverId of servers) {
      const s = this.keys.server(app, serverId);
      writes.push(
        this.redis.srem(`${s}:members`, account),
        this.redis.del(this.rolesKey(s, account)),
      );
    }
    writes.push(this.redis.del(idx.channels, idx.servers));
    return Promise.all(writes);
  }

  /** Membership, roles and existence for a query: one round trip (one slot). */
  async access(
    app: string,
    serverId: string,
    channelId: string,
    account: string,
  ): Promise<ChannelAccess> {
    const s = this.keys.server(app, serverId);
    const [member, roles, channel, known] = await Promise.all([
      this.redis.sismember(`${s}:members`, account),
      this.redis.smembers(this.rolesKey(s, account)),
      this.redis.sismember(`${s}:channels`, channelId),
      this.redis.exists(`${s}:members`, `${s}:channels`),
    ]);
    return { serverKnown: known > 0, channelKnown: channel === 1, member: member === 1, roles };
  }

  /**
   * The channels of every server the account is a member of, with its roles there (for the
   * account summary): its server index, then each server's members, roles and channels, in
   * two round trips.
   */
  async memberChannels(app: string, account: string): Promise<{ serverId: string; channelId: string; roles: string[] }[]> {
    const servers = (await this.redis.smembers(this.accountKeys(app, account).servers)).sort(compareIds);
    const rows = await Promise.all(
      servers.map(async (serverId) => {
        const s = this.keys.server(app, serverId);
        const [member, roles, channels] = await Promise.all([
          this.redis.sismember(`${s}:members`, account),
          this.redis.smembers(this.rolesKey(s, account)),
          this.redis.smembers(`${s}:channels`),
        ]);
        return member === 1 ? channels.sort(compareIds).map((channelId) => ({ serverId, channelId, roles })) : [];
      }),
    );
    return rows.flat();
  }

  /** One page of the account's unread mentions in a channel: one Lua call (channel-query.lua). */
  async unreadMentions(q: MentionQuery): Promise<MentionPage> {
    const base = this.keys.channel(q.app, q.serverId, q.channelId);
    const now = q.now ?? Date.now();
    const sets = ['all', `a:${esc(q.account)}`, ...[...new Set(q.roles)].map((r) => `r:${r}`)];
    const reply = await this.redis.qchatChannelQuery(
      `${base}:ix`,
      `${base}:from`,
      `${base}:msg`,
      `${base}:upd`,
      `${base}:ack`,
      base,
      q.account,
      q.position.time,
      q.position.skip,
      q.limit,
      now - this.options.mentionRetentionMs,
      MAX_POSITION_SKIP,
      MIN_POSITION_TIME,
      ...sets,
    );
    const messages: string[] = [];
    for (let i = 3; i + 2 < reply.length; i += 3) {
      const id = String(reply[i]);
      if (id === '') {
        messages.push(String(reply[i + 1]));
        continue;
      }
      // Stored before fixed fields were kept pre-rendered: composed and serialised here.
      const m = composeMessage(id, String(reply[i + 1]), String(reply[i + 2]));
      if (m) messages.push(renderMentionedMessage(m));
    }
    return {
      hasMore: Number(reply[0]) === 1,
      next: { time: Number(reply[1]), skip: Number(reply[2]) },
      messages,
    };
  }

  /**
   * The account's unread mentions in a channel, as the query answers them (its roles now,
   * newest first, up to `limit`), each with the sets that matched it, and its ack time.
   */
  async explainMentions(
    app: string,
    serverId: string,
    channelId: string,
    account: string,
    limit = 200,
    now = Date.now(),
  ): Promise<MentionExplanation> {
    const base = this.keys.channel(app, serverId, channelId);
    const [access, ack] = await Promise.all([
      this.access(app, serverId, channelId, account),
      this.redis.zscore(`${base}:ack`, account),
    ]);
    const page = await this.unreadMentions({
      app,
      serverId,
      channelId,
      account,
      roles: access.roles,
      position: { time: now, skip: 0 },
      limit: Math.min(200, limit),
      now,
    });
    // the page's messages are their answers' JSON, ready to send; explain reads them back
    const parsed = page.messages.map((text) => JSON.parse(text) as MentionedMessage);
    const ids = parsed.map((m) => padMsgId(String(m.msgIdServer))); // a number on the wire
    const targets = ids.length ? await this.redis.hmget(`${base}:tgt`, ...ids) : [];
    const mine = new Set(access.roles);
    const messages = parsed.map((message, i) => {
      const matches: MentionMatch[] = [];
      for (const t of (targets[i] ?? '').split('\n')) {
        if (t === 'all') matches.push({ kind: 'all' });
        else if (t === `a:${esc(account)}`) matches.push({ kind: 'account' });
        else if (t.startsWith('r:') && mine.has(t.slice(2))) matches.push({ kind: 'role', roleId: t.slice(2) });
      }
      return { message, matches };
    });
    const out: MentionExplanation = { access, messages, more: page.hasMore };
    if (ack !== null) out.ackTime = Number(ack);
    return out;
  }

  /** The channels where the account has QChat keys (its index: mentions of it, its acks), as [serverId, channelId]. */
  async channelsOf(app: string, account: string): Promise<[string, string][]> {
    const entries = await this.redis.zrange(this.accountKeys(app, account).channels, 0, -1);
    return entries
      .map((sc) => sc.split(':'))
      .filter((p): p is [string, string] => p.length === 2 && Boolean(p[0]) && Boolean(p[1]));
  }

  private ack(
    app: string,
    serverId: string,
    channelId: string,
    account: string,
    ackTime: number,
  ): Promise<unknown> {
    const base = this.keys.channel(app, serverId, channelId);
    const now = Date.now();
    return Promise.all([
      this.redis.qchatChannelAck(
        `${base}:ack`,
        account,
        ackTime,
        now,
        this.options.mentionRetentionMs,
      ),
      this.indexChannel(
        app,
        account,
        serverId,
        channelId,
        ackTime + this.options.mentionRetentionMs,
        now,
      ),
    ]);
  }

  private indexChannel(
    app: string,
    account: string,
    serverId: string,
    channelId: string,
    expireAt: number,
    now: number,
  ) {
    return this.redis.qchatAccountIndex(
      this.accountKeys(app, account).channels,
      `${serverId}:${channelId}`,
      expireAt,
      now,
    );
  }

  private messageKeys(base: string): [string, string, string, string, string, string, string] {
    return [
      `${base}:ix`,
      `${base}:msg`,
      `${base}:from`,
      `${base}:tgt`,
      `${base}:upd`,
      `${base}:pend`,
      `${base}:ack`,
    ];
  }

  private rolesKey(serverBase: string, account: string): string {
    return `${serverBase}:roles:${esc(account)}`;
  }

  /** The account's own QChat index keys (one hash tag per account). */
  private accountKeys(app: string, account: string): { channels: string; servers: string } {
    const base = this.keys.qchatAccount(app, account);
    return { channels: `${base}:chn`, servers: `${base}:srv` };
  }
}

/**
 * The fixed fields of a mention as stored in `B:msg`, ready to send: three JSON member
 * lists, joined by "\n" (JSON text never holds a raw newline), around which the write
 * script puts the message's current values (mention-render.lua) into `B:out`:
 * `{"msgIdServer":<id>,` seg1 `"updateTime":…,"status":…,` seg2 `"body":…,` seg3 `"ext":…}`.
 * The member order is the vendor's, as renderMentionedMessage writes it. A value starting
 * with `{` is the earlier format (the fields as one JSON object), still read.
 */
export function renderFixedFields(f: FixedFields): string {
  return (
    `"msgIdClient":${JSON.stringify(f.msgIdClient)},"fromAccount":${JSON.stringify(f.fromAccount)},` +
    `"fromNick":${JSON.stringify(f.fromNick)},"fromClientType":${JSON.stringify(f.fromClientType)},"time":${JSON.stringify(f.time)},` +
    `\n"mentionedAll":${f.mentionedAll},"type":${JSON.stringify(f.type)},` +
    `\n"attach":${JSON.stringify(f.attach)},`
  );
}

/**
 * A message as the vendor's JSON object: msgIdServer as a JSON number with its exact digits
 * (64-bit values survive for clients that parse them as 64-bit integers), every other field
 * as the vendor types it.
 */
export function renderMentionedMessage({ msgIdServer, ...rest }: MentionedMessage): string {
  return `{"msgIdServer":${msgIdServer},${JSON.stringify(rest).slice(1)}`;
}

/** Decimal ids in numeric order. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Fixed fields + last-writer-wins record → the wire message (null if the data is gone). */
function composeMessage(
  id: string,
  fixedJson: string,
  recordJson: string,
): MentionedMessage | null {
  if (!fixedJson || !recordJson) return null;
  // One JSON object (earlier versions), or renderFixedFields' pieces.
  const f = JSON.parse(fixedJson.startsWith('{') ? fixedJson : `{${fixedJson.split('\n').join('').slice(0, -1)}}`) as FixedFields;
  const r = JSON.parse(recordJson) as UpdateRecord;
  return {
    msgIdServer: unpadMsgId(id),
    msgIdClient: f.msgIdClient,
    fromAccount: f.fromAccount,
    fromNick: f.fromNick,
    fromClientType: f.fromClientType,
    time: f.time,
    updateTime: Number(r.ut),
    status: Number(r.s),
    mentionedAll: f.mentionedAll,
    type: f.type,
    body: r.b ?? '',
    attach: f.attach,
    ext: r.e ?? '',
  };
}
