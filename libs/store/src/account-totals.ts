import { badgeFrom, readTotalsOf, readUnreadOf, type AccountUnread } from './account-unread';
import type { ProjectionStore } from './projection.store';

/** What the unread count of one QChat channel counts to at most (beyond it, `more`). */
export const CHANNEL_COUNT_CAP = 200;

/**
 * Channels whose mentions one account's totals count, at most (the fan-out: one mention
 * query per channel). An account in more channels gets the first ones in (server id,
 * channel id) order and `channels.capped: true` in the summary (docs/api/summary.md).
 */
export const MAX_SUMMARY_CHANNELS = 100;

/** An account in no QChat server: no channel read. */
const NO_CHANNELS: { items: ChannelCount[]; capped: boolean } = { items: [], capped: false };

/** One account's unread totals, as the account summary counts them (docs/api/summary.md). */
export interface AccountTotals {
  /** The account is registered (its directory marker). */
  registered: boolean;
  /** Unread one-to-one messages over every peer. */
  c2c: number;
  /** Unread group messages over every group the account is in. */
  groups: number;
  /** Unread QChat mentions over the account's first MAX_SUMMARY_CHANNELS channels (each counted up to CHANNEL_COUNT_CAP). */
  channels: number;
  /** The account is in more than MAX_SUMMARY_CHANNELS channels: `channels` counts the first ones. */
  channelsCapped: boolean;
  /** The badge (badgeFrom: only AcceptAndNotify conversations, and the channels). */
  badge: number;
}

/** The unread mentions of one channel of the account (for the summary's items). */
export interface ChannelCount {
  serverId: string;
  channelId: string;
  unread: number;
  /** More than CHANNEL_COUNT_CAP are unread. */
  more: boolean;
}

/** Everything one account has unread, as the summary answers it: readUnreadOf's part and its channels. */
export interface AccountRead {
  unread: AccountUnread;
  /** Its channels' counts (channelCounts); none read for an account in no QChat server. */
  channels: { items: ChannelCount[]; capped: boolean };
}

/**
 * The one reader of accounts' unread totals: the summary (`read`), the batch API and the
 * change feed (`readMany`, the totals and badge of `read`) all go through it, so the feed,
 * the batch and the summary never disagree. One-to-one, groups and receive options come
 * from readUnreadOf (the summary's items and `unread explain`'s) or readTotalsOf (the totals
 * only: no peer's count read but those the badge leaves out), both in
 * libs/store/src/account-unread.ts with one group step and one badge rule (badgeFrom);
 * channels from the count-only mention read (channelCounts).
 */
export class AccountTotalsReader {
  constructor(private readonly store: ProjectionStore) {}

  /**
   * Many accounts at once: readUnreadOf (two round trips per node for all of them), then,
   * only for accounts in a QChat server, channelCounts, all issued together.
   * `registeredOnly` (the summary and the batch API): accounts that are not registered are
   * answered after one read each (readUnreadOf), nothing beyond `registered: false` read.
   */
  async read(accounts: readonly { app: string; account: string }[], now = Date.now(), registeredOnly = false): Promise<AccountRead[]> {
    const read = await readUnreadOf(this.store, accounts, registeredOnly);
    // Only accounts in a QChat server wait for a channel read; the others are answered as read.
    const out: AccountRead[] = new Array<AccountRead>(read.length);
    const channelReads: Promise<void>[] = [];
    read.forEach(({ unread, servers }, i) => {
      if (servers > 0) {
        const a = accounts[i]!;
        channelReads.push(this.channelCounts(a.app, a.account, now).then((channels) => void (out[i] = { unread, channels })));
      } else out[i] = { unread, channels: { items: [], capped: false } };
    });
    if (channelReads.length > 0) await Promise.all(channelReads);
    return out;
  }

  /**
   * The totals and badge of many accounts (the batch API's and the change feed's records),
   * as `read` sums them: readTotalsOf (the same two round trips per node, without each
   * peer's count), then channelCounts only for accounts in a QChat server, all issued
   * together. `registeredOnly` as `read`'s.
   */
  async readMany(accounts: readonly { app: string; account: string }[], now = Date.now(), registeredOnly = false): Promise<AccountTotals[]> {
    const read = await readTotalsOf(this.store, accounts, registeredOnly);
    const channels = await Promise.all(read.map((t, i) => (t.servers > 0 ? this.channelCounts(accounts[i]!.app, accounts[i]!.account, now) : Promise.resolve(NO_CHANNELS))));
    return read.map((t, i) => {
      const counted = channels[i]!;
      let inChannels = 0;
      for (const c of counted.items) inChannels += c.unread;
      let groups = 0;
      for (const g of t.groups) if (g.unread > 0) groups += g.unread;
      return { registered: t.registered, c2c: t.c2c, groups, channels: inChannels, channelsCapped: counted.capped, badge: badgeFrom(t, inChannels) };
    });
  }

  /**
   * Unread mentions per channel of the account's servers, most first (ties in server and
   * channel order): the first MAX_SUMMARY_CHANNELS channels in (server id, channel id) order,
   * `capped` when there are more (docs/api/summary.md); each channel counted up to
   * CHANNEL_COUNT_CAP by the count-only read (MentionStore.countUnreadMentions: no message
   * read, one call per node on a single Redis). The summary's and the feed's.
   */
  async channelCounts(app: string, account: string, now = Date.now()): Promise<{ items: ChannelCount[]; capped: boolean }> {
    const all = await this.store.channel.memberChannels(app, account);
    const first = all.slice(0, MAX_SUMMARY_CHANNELS);
    const counts = await this.store.channel.countUnreadMentions(app, account, first, CHANNEL_COUNT_CAP, now);
    const counted = first.map((c, i) => ({
      serverId: c.serverId,
      channelId: c.channelId,
      unread: Math.min(counts[i]!, CHANNEL_COUNT_CAP),
      more: counts[i]! > CHANNEL_COUNT_CAP,
    }));
    return { items: counted.sort((a, b) => b.unread - a.unread), capped: all.length > MAX_SUMMARY_CHANNELS };
  }
}
