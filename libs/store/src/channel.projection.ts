import type { ChannelMention, ChannelMessageSent, ChannelMessageUpdated, ChannelReadAck } from '@app/contracts';
import { channelTarget, type ChannelKeys, type Keyspace } from './keyspace';
import { luaJsonString, padMsgId, renderFixedFields, renderMentionAnswer } from './qchat-wire';
import type { StoreOptions } from './store-options';
import { WRITE_SCRIPTS } from './scripts';
import { command, runScript, type Write } from './write';

const MESSAGE = WRITE_SCRIPTS.channelMessage;
const ACK = WRITE_SCRIPTS.channelAck;
const INDEX = WRITE_SCRIPTS.channelIndex;

/** Events per channel-message call at most (the call blocks its node while it runs). */
const MAX_EVENTS_PER_WRITE = 200;

/** The QChat channel events of a batch that the mention projection folds. */
export type ChannelEvent = ChannelMessageSent | ChannelReadAck | ChannelMention | ChannelMessageUpdated;

/** One channel-message call being assembled: its keys (target and sender sets after the seven fixed ones) and events. */
interface MessageCall {
  keys: string[];
  /** A set's key → its position in KEYS (1-based). */
  sets: Map<string, number>;
  args: (string | number)[];
  events: number;
}

/**
 * QChat @-mention projection, the write side (docs/projections.md, "QChat mentions").
 *
 * Per channel (`keys.channel(app, serverId, channelId)`, ChannelKeys, base B, one hash tag):
 * - `B:all`, `B:r:<roleId>`, `B:a:<escaped account>`: zsets of the messages that @-mention
 *   all, a role, an account: member `<time, 16 digits><msgIdServer padded to 20 digits>`,
 *   score time; only ever added to (and pruned by time): whether a member counts is
 *   `B:tgt`'s to say;
 * - `B:ix` every mention message by time (retention and page positions), `B:tgt` its sender,
 *   time and target sets, `B:upd` status/body/ext/updateTime as last-writer-wins registers
 *   and the fixed fields (until the message is recalled or deleted), `B:pend` updates whose
 *   mention has not arrived;
 * - `B:out`: id → the message's answer JSON, rendered by the write script whenever the
 *   message or its record changes (pages are assembled by concatenation); a new mention
 *   brings its answer and record rendered here, byte for byte what the script would render,
 *   so the script stores them as is unless the message has a record already;
 * - `B:ack`: account → ack time (a max);
 * - for the count that reads no member (channel-count.lua; docs/projections.md, "Counting
 *   without reading"): `B:chk` the members that may not count once for every reader of
 *   their set, `B:o:<escaped account>` a sender's own @all and role members, `B:since` the
 *   newest message time held before these were kept.
 * Per account (`keys.qchatAccount(app, account).channels`, `:chn`): the channels where it has keys
 * (its direct mention sets, its acks) by expiry, for account-deleted.
 *
 * Retention is relative to the message time: a mention lives until time + mentionRetentionMs
 * (pruned on every write to the channel, filtered on read, and every key expires with its
 * newest entry), so a channel with no mentions left holds no keys.
 *
 * A batch's events fold into: one channel-ack call per channel (every ack, and every
 * sender's own message, which acks the channel up to it), one channel-message call per
 * channel (its mentions and updates, in order), and one channel-index call per account.
 */
export class ChannelProjection {
  constructor(
    private readonly keys: Keyspace,
    private readonly options: StoreOptions,
  ) {}

  writes(events: readonly ChannelEvent[], now = Date.now()): Write[] {
    const retention = this.options.mentionRetentionMs;
    const acks = new Map<string, { key: string; args: (string | number)[] }>();
    const index = new Map<string, (string | number)[]>();
    const messages = new Map<string, MessageCall>();
    const writes: Write[] = [];
    const indexEntry = (app: string, account: string, serverId: string, channelId: string, expireAt: number) => {
      const key = this.keys.qchatAccount(app, account).channels;
      let args = index.get(key);
      if (!args) index.set(key, (args = [now]));
      args.push(expireAt, `${serverId}:${channelId}`);
    };
    for (const e of events) {
      const ck = this.keys.channel(e.appId, e.serverId, e.channelId);
      const base = ck.base;
      if (e.type === 'message-sent' || e.type === 'read-ack') {
        // The sender's own channel message advances its ack time there (it has seen
        // everything up to what it wrote), like a read-ack at the message time.
        const [account, time] = e.type === 'message-sent' ? [e.from, e.time] : [e.account, e.ackTime];
        let ack = acks.get(base);
        if (!ack) acks.set(base, (ack = { key: ck.ack, args: [now, retention] }));
        ack.args.push(time, account);
        indexEntry(e.appId, account, e.serverId, e.channelId, time + retention);
        continue;
      }
      let call = messages.get(base);
      if (!call || call.events >= MAX_EVENTS_PER_WRITE) {
        if (call) writes.push(runScript(MESSAGE, call.keys, call.args));
        messages.set(base, (call = { keys: messageKeys(ck), sets: new Map(), args: [now, retention], events: 0 }));
      }
      call.events++;
      if (e.type === 'channel-message-updated') {
        call.args.push('update', padMsgId(e.msgIdServer), e.status, e.updateTime, ...register(e.body), ...register(e.ext));
        continue;
      }
      const m = e.message;
      // The sender is never a direct target of its own message; a message with no target
      // left is not stored.
      const direct = [...new Set(e.mentionAccids ?? [])].filter((a) => a !== m.fromAccount);
      const targets = new Set<string>();
      if (e.mentionAll) targets.add(channelTarget.all);
      for (const r of e.mentionRoleIds ?? []) targets.add(channelTarget.role(r));
      for (const a of direct) targets.add(channelTarget.account(a));
      if (targets.size === 0) {
        call.events--;
        continue;
      }
      const position = (key: string): number => {
        let at = call.sets.get(key);
        if (at === undefined) {
          call.keys.push(key);
          call.sets.set(key, (at = call.keys.length));
        }
        return at;
      };
      const positions = [...targets].map((sfx) => position(ck.target(sfx)));
      // the sender's own members of @all and role sets, which the count takes out for it
      const sent = e.mentionAll || (e.mentionRoleIds ?? []).length > 0 ? position(ck.sent(m.fromAccount)) : 0;
      // Stored ready to send: channel-message.lua renders the message's answer from these and
      // its current status, updateTime, body and ext, so no request parses or serialises it.
      const fixed = renderFixedFields({
        fromAccount: m.fromAccount,
        fromNick: m.fromNick ?? '',
        fromClientType: m.fromClientType ?? '',
        time: m.time,
        type: m.type ?? 0,
        attach: m.attach ?? '',
        msgIdClient: m.msgIdClient ?? '',
        mentionedAll: e.mentionAll ? 1 : 0,
      });
      const entry = `${m.fromAccount}\n${String(m.time).padStart(16, '0')}\n${[...targets].map((t) => `${t}\n`).join('')}`;
      const id = padMsgId(m.msgIdServer);
      const status = String(m.status ?? 0);
      const updateTime = String(m.updateTime ?? m.time);
      // a recalled or deleted message is never rendered (channel-message.lua)
      const terminal = m.status === 1 || m.status === 2;
      call.args.push(
        'mention',
        id,
        status,
        updateTime,
        m.time,
        ownRecord(status, updateTime, m.body, m.ext, terminal ? undefined : fixed),
        terminal ? '' : renderMentionAnswer(id, fixed, status, updateTime, m.body ?? '', m.ext ?? ''),
        entry,
        positions.length,
        ...positions,
        sent,
      );
      for (const a of direct) indexEntry(e.appId, a, e.serverId, e.channelId, m.time + retention);
    }
    for (const call of messages.values()) if (call.events > 0) writes.push(runScript(MESSAGE, call.keys, call.args));
    for (const { key, args } of acks.values()) writes.push(runScript(ACK, [key], args));
    for (const [key, args] of index) writes.push(runScript(INDEX, [key], args));
    return writes;
  }

  /** The writes that remove the account's direct mention set and ack in each channel, and its channel index. */
  deleteWrites(app: string, account: string, channels: readonly [string, string][]): Write[] {
    const writes: Write[] = [];
    for (const [serverId, channelId] of channels) {
      const ck = this.keys.channel(app, serverId, channelId);
      writes.push(command('DEL', [ck.target(channelTarget.account(account))]), command('ZREM', [ck.ack], [account]));
    }
    writes.push(command('DEL', [this.keys.qchatAccount(app, account).channels]));
    return writes;
  }
}

/** The seven keys every channel-message call declares first. */
export function messageKeys(k: ChannelKeys): string[] {
  return [k.ix, k.tgt, k.upd, k.pend, k.out, k.chk, k.since];
}

/** A last-writer-wins field of an event: whether it is given, and its value. */
function register(v: string | undefined): [string, string] {
  return v === undefined ? ['0', ''] : ['1', v];
}

/**
 * A mention's own last-writer-wins record, as `B:upd` holds it (channel-message.lua): its
 * status, and its body and ext when given, each written at its updateTime, and its fixed
 * fields (unless its status is terminal). Strings escaped as the script's renderer escapes
 * them, which cjson reads back to the same bytes.
 */
function ownRecord(status: string, updateTime: string, body: string | undefined, ext: string | undefined, fixed: string | undefined): string {
  const ut = luaJsonString(updateTime);
  let rec = `{"s":${luaJsonString(status)},"st":${ut},"ut":${ut}`;
  if (body !== undefined) rec += `,"b":${luaJsonString(body)},"bt":${ut}`;
  if (ext !== undefined) rec += `,"e":${luaJsonString(ext)},"et":${ut}`;
  if (fixed !== undefined) rec += `,"f":${luaJsonString(fixed)}`;
  return `${rec}}`;
}
