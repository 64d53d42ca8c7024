import type { Keyspace } from './keyspace';
import { ChannelProjection, type ChannelEvent } from './channel.projection';
import { MentionStore, type AccountChannel, type MentionExplanation } from './mention.store';
import { QchatMembershipStore, type ChannelAccess, type MembershipEvent } from './qchat-membership.store';
import type { MentionPage, MentionQuery } from './qchat-wire';
import type { RedisClient } from './redis.factory';
import type { StoreOptions } from './store-options';
import type { Write, Writer } from './write';

/**
 * The QChat family, by role: the mention projection's writes (channel.projection.ts), the
 * servers' membership (qchat-membership.store.ts), the gateway's mention reads and
 * `unread explain` (mention.store.ts), the wire form (qchat-wire.ts).
 */
export class ChannelStore {
  readonly projection: ChannelProjection;
  readonly membership: QchatMembershipStore;
  readonly mentions: MentionStore;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    options: StoreOptions,
  ) {
    this.projection = new ChannelProjection(keys, options);
    this.membership = new QchatMembershipStore(redis, keys);
    this.mentions = new MentionStore(redis, keys, options, this.membership);
  }

  /** The writes of a batch's mention-projection events (folded, ChannelProjection.writes). */
  writes(events: readonly ChannelEvent[]): Write[] {
    return events.length === 0 ? [] : this.projection.writes(events);
  }

  /** The writes of one directory event (QchatMembershipStore.writes). */
  membershipWrites(e: MembershipEvent): Write[] {
    return this.membership.writes(e);
  }

  /**
   * Removes every QChat key of an account: its direct mention sets and ack entries in every
   * channel, its membership and roles in every server, and its indexes. Two steps (read the
   * indexes, then delete), so an event about the account applied from another partition in
   * between may survive it, as it could in any interleaving of unordered topics.
   */
  async deleteAccount(writer: Writer, app: string, account: string): Promise<void> {
    const [channels, servers] = await Promise.all([this.channelsOf(app, account), this.membership.servers(app, account)]);
    await writer.run([...this.projection.deleteWrites(app, account, channels), ...this.membership.deleteWrites(app, account, servers)]);
  }

  access(app: string, serverId: string, channelId: string, account: string): Promise<ChannelAccess> {
    return this.membership.access(app, serverId, channelId, account);
  }

  memberChannels(app: string, account: string): Promise<{ serverId: string; channelId: string; roles: string[] }[]> {
    return this.membership.memberChannels(app, account);
  }

  unreadMentions(q: MentionQuery): Promise<MentionPage> {
    return this.mentions.unreadMentions(q);
  }

  unreadMentionParts(q: MentionQuery): ReturnType<MentionStore['unreadMentionParts']> {
    return this.mentions.unreadMentionParts(q);
  }

  countUnreadMentions(app: string, account: string, channels: readonly AccountChannel[], cap?: number, now?: number): Promise<number[]> {
    return this.mentions.countUnreadMentions(app, account, channels, cap, now);
  }

  explainMentions(app: string, serverId: string, channelId: string, account: string, limit?: number, now?: number): Promise<MentionExplanation> {
    return this.mentions.explainMentions(app, serverId, channelId, account, limit, now);
  }

  /** The channels where the account has QChat keys (its index: mentions of it, its acks), as [serverId, channelId]. */
  async channelsOf(app: string, account: string): Promise<[string, string][]> {
    const entries = await this.redis.zrange(this.keys.qchatAccount(app, account).channels, 0, -1);
    return entries.map((sc) => sc.split(':')).filter((p): p is [string, string] => p.length === 2 && Boolean(p[0]) && Boolean(p[1]));
  }
}
