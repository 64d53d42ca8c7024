import type { ProjectionStore } from './projection.store';

/** What the unread count of one QChat channel reads at most (one page of the QChat query). */
export const CHANNEL_COUNT_CAP = 200;

/** One account's unread totals, as the account summary counts them (docs/api/summary.md). */
export interface AccountTotals {
  /** The account is registered (its directory marker). */
  registered: boolean;
  /** Unread one-to-one messages over every peer. */
  c2c: number;
  /** Unread group messages over every group the account is in. */
  groups: number;
  /** Unread QChat mentions over every channel of the account's servers (each channel counted up to CHANNEL_COUNT_CAP). */
  channels: number;
}

/** The unread mentions of one channel of the account (for the summary's items). */
export interface ChannelCount {
  serverId: string;
  channelId: string;
  unread: number;
  /** More than CHANNEL_COUNT_CAP are unread. */
  more: boolean;
}

/**
 * The badge of an account: what a push notification shows. One function, so the rule can
 * change in one place (muted conversations leaving the badge, for one); for now the sum
 * of the three totals.
 */
export function badgeOf(totals: Pick<AccountTotals, 'c2c' | 'groups' | 'channels'>): number {
  return totals.c2c + totals.groups + totals.channels;
}

/**
 * Reads an account's unread totals through a ProjectionStore's real client, with the
 * stores' own read methods: the one definition of "the totals" shared by the account
 * summary and the change feed, so the two never disagree.
 *
 * Cost: one HMGET on the account's slot, the group list (one Lua call on a single Redis,
 * two round trips on a cluster), and for QChat the server index, each server, then one
 * query per channel, issued together.
 */
export class AccountTotalsReader {
  constructor(private readonly store: ProjectionStore) {}

  async read(app: string, account: string, now = Date.now()): Promise<AccountTotals> {
    const [c2c, groups, channels] = await Promise.all([
      this.store.c2c.total(app, account),
      this.store.group.joinedGroups(app, account),
      this.channelCounts(app, account, now),
    ]);
    return {
      registered: c2c.registered,
      c2c: c2c.total,
      groups: groups.groups.reduce((s, g) => s + (g.unread > 0 ? g.unread : 0), 0),
      channels: channels.reduce((s, c) => s + c.unread, 0),
    };
  }

  /** Unread mentions per channel of the account's servers, most first (ties in server and channel order). */
  async channelCounts(app: string, account: string, now = Date.now()): Promise<ChannelCount[]> {
    const chans = await this.store.channel.memberChannels(app, account);
    const counted = await Promise.all(
      chans.map(async (c) => {
        const page = await this.store.channel.unreadMentions({
          app,
          account,
          serverId: c.serverId,
          channelId: c.channelId,
          roles: c.roles,
          position: { time: now, skip: 0 },
          limit: CHANNEL_COUNT_CAP,
          now,
        });
        return { serverId: c.serverId, channelId: c.channelId, unread: page.messages.length, more: page.hasMore };
      }),
    );
    return counted.sort((a, b) => b.unread - a.unread);
  }
}
