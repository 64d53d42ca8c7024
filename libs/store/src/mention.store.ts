import { Cluster } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { channelTarget, type Keyspace } from './keyspace';
import type { ChannelAccess, QchatMembershipStore } from './qchat-membership.store';
import { MAX_POSITION_SKIP, MIN_POSITION_TIME, padMsgId, type MentionedMessage, type MentionPage, type MentionQuery } from './qchat-wire';
import type { RedisClient } from './redis.factory';
import type { StoreOptions } from './store-options';
import { READ_SCRIPTS } from './scripts';
import { callScript } from './write';

const QUERY = READ_SCRIPTS.channelQuery;
const COUNT = READ_SCRIPTS.channelCount;

/** Channels per channel-count.lua call on a single Redis at most (a call blocks the node while it runs). */
const CHANNELS_PER_COUNT_CALL = 100;

/** A channel of an account's servers, with the roles the account holds there now (QchatMembershipStore.memberChannels). */
export interface AccountChannel {
  serverId: string;
  channelId: string;
  roles: readonly string[];
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

/** The suffixes of a reader's target sets in a channel: @all, its direct set, one per role it holds (each once). */
function readerSets(account: string, roles: readonly string[]): string[] {
  return [channelTarget.all, channelTarget.account(account), ...[...new Set(roles)].map(channelTarget.role)];
}

/** ioredis' hmgetBuffer with its fields as one array (its typings list them spread). */
interface BufferHmget {
  hmgetBuffer(key: string, fields: readonly string[]): Promise<(Buffer | null)[]>;
}

/** The gateway's reads of the QChat mention projection (ChannelProjection writes it). */
export class MentionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    private readonly options: StoreOptions,
    private readonly membership: QchatMembershipStore,
  ) {}

  /** One page of the account's unread mentions in a channel, each message as its answer's JSON text (unreadMentionParts). */
  async unreadMentions(q: MentionQuery): Promise<MentionPage> {
    const { texts, ...page } = await this.unreadMentionParts(q);
    return { ...page, messages: texts.map((t) => t.toString('utf8')) };
  }

  /**
   * One page of the account's unread mentions in a channel, each message as its answer's
   * JSON bytes (UTF-8), as the projection rendered them: channel-query.lua picks the page's
   * ids, then one HMGET of the channel's answers (<base>:out) reads them, as Buffers, which
   * Redis sends straight from the hash and the gateway writes out without decoding them. A
   * message recalled, deleted or pruned between the two reads has no answer any more and is
   * left out, as the page read an instant later would leave it out.
   */
  async unreadMentionParts(q: MentionQuery): Promise<Omit<MentionPage, 'messages'> & { texts: Buffer[] }> {
    const ck = this.keys.channel(q.app, q.serverId, q.channelId);
    const now = q.now ?? Date.now();
    const sets = readerSets(q.account, q.roles);
    const keys = [ck.ix, ck.tgt, ck.ack, ck.out, ...sets.map((s) => ck.target(s))];
    const reply = (await callScript(this.redis, QUERY, keys, [
      q.account,
      q.position.time,
      q.position.skip,
      q.limit,
      now - this.options.mentionRetentionMs,
      MAX_POSITION_SKIP,
      MIN_POSITION_TIME,
      ...sets,
    ])) as string[];
    const ids = reply.slice(3);
    // the ids as one array (ioredis flattens it), not spread: a page extended to the end of a
    // millisecond may hold thousands (callBuffer would do, but loses its command name on an
    // auto-pipeline)
    const answers = ids.length === 0 ? [] : await (this.redis as unknown as BufferHmget).hmgetBuffer(ck.out, ids);
    const texts = answers.filter((t): t is Buffer => t !== null);
    return {
      hasMore: Number(reply[0]) === 1,
      next: { time: Number(reply[1]), skip: Number(reply[2]) },
      texts,
    };
  }

  /**
   * How many unread mentions the account has in each channel, by the rule of unreadMentions'
   * pages (the count of every page from now on), without reading a message or building a
   * page (channel-count.lua): a ZCOUNT per set, corrected by the members the projection lists
   * for checking, so a channel costs its sets and those members, not its unread mentions.
   * With `cap` > 0 a count above it is answered cap + 1 ("more than cap"). One call per
   * CHANNELS_PER_COUNT_CALL channels on a single Redis; on a Cluster one per channel (its
   * own slot), pipelined.
   */
  async countUnreadMentions(app: string, account: string, channels: readonly AccountChannel[], cap = 0, now = Date.now()): Promise<number[]> {
    const cluster = this.redis instanceof Cluster;
    const calls = new Map<number, { keys: string[]; args: (string | number)[]; at: number[] }[]>();
    channels.forEach((c, i) => {
      const ck = this.keys.channel(app, c.serverId, c.channelId);
      const sets = readerSets(account, c.roles);
      const slot = cluster ? calculateSlot(ck.tgt) : 0;
      const list = calls.get(slot) ?? [];
      if (list.length === 0) calls.set(slot, list);
      let call = list[list.length - 1];
      if (!call || call.at.length >= CHANNELS_PER_COUNT_CALL) list.push((call = { keys: [], args: [account, now, now - this.options.mentionRetentionMs, cap], at: [] }));
      call.keys.push(ck.tgt, ck.ack, ck.chk, ck.since, ck.sent(account), ...sets.map((s) => ck.target(s)));
      call.args.push(sets.length, ...sets);
      call.at.push(i);
    });
    const out = new Array<number>(channels.length).fill(0);
    await Promise.all(
      [...calls.values()].flat().map(async (c) => {
        const counts = (await callScript(this.redis, COUNT, c.keys, c.args)) as number[];
        c.at.forEach((i, j) => (out[i] = Number(counts[j])));
      }),
    );
    return out;
  }

  /**
   * The account's unread mentions in a channel, as the query answers them (its roles now,
   * newest first, up to `limit`), each with the sets that matched it, and its ack time.
   */
  async explainMentions(app: string, serverId: string, channelId: string, account: string, limit = 200, now = Date.now()): Promise<MentionExplanation> {
    const ck = this.keys.channel(app, serverId, channelId);
    const [access, ack] = await Promise.all([
      this.membership.access(app, serverId, channelId, account),
      this.redis.zscore(ck.ack, account),
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
    const entries = ids.length ? await this.redis.hmget(ck.tgt, ...ids) : [];
    const mine = new Set(access.roles);
    const messages = parsed.map((message, i) => {
      const matches: MentionMatch[] = [];
      // "<fromAccount>\n<time>\n" then each target suffix followed by "\n"
      for (const t of (entries[i] ?? '').split('\n').slice(2)) {
        if (t === channelTarget.all) matches.push({ kind: 'all' });
        else if (t === channelTarget.account(account)) matches.push({ kind: 'account' });
        else if (t.startsWith(channelTarget.role('')) && mine.has(t.slice(2))) matches.push({ kind: 'role', roleId: t.slice(2) });
      }
      return { message, matches };
    });
    const out: MentionExplanation = { access, messages, more: page.hasMore };
    if (ack !== null) out.ackTime = Number(ack);
    return out;
  }
}
