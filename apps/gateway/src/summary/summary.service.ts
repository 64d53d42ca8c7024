import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { isId } from '@app/contracts';
import { ProjectionStore } from '@app/store';

export const DEFAULT_SUMMARY_LIMIT = 20;
export const MAX_SUMMARY_LIMIT = 100;

/** The answer of GET /v1/apps/{appId}/accounts/{account}/unread (docs/api/summary.md). */
export interface AccountSummary {
  appId: string;
  account: string;
  c2c: { total: number; conversations: { peer: string; unread: number }[] };
  groups: { total: number; items: { groupId: string; unread: number }[] };
  channels: { total: number; items: { serverId: string; channelId: string; unread: number; more: boolean }[]; capped?: true };
}

/** What the mention count of one channel reads at most (one page of the QChat query). */
const CHANNEL_COUNT_CAP = 200;

/**
 * Channels whose mentions one summary counts, at most (the fan-out: one mention query per
 * channel). An account in more channels gets the first ones in (server id, channel id)
 * order and `channels.capped: true` (docs/api/summary.md).
 */
export const MAX_SUMMARY_CHANNELS = 100;

function limitOf(text: unknown): number {
  if (text === undefined || text === '') return DEFAULT_SUMMARY_LIMIT;
  if (typeof text !== 'string' || !/^[0-9]{1,4}$/.test(text) || Number(text) < 1 || Number(text) > MAX_SUMMARY_LIMIT) {
    throw new BadRequestException(`limit must be an integer from 1 to ${MAX_SUMMARY_LIMIT}`);
  }
  return Number(text);
}

@Injectable()
export class SummaryService {
  constructor(private readonly store: ProjectionStore) {}

  /**
   * One-to-one (one HGETALL) and groups (one Lua call on a single Redis) are read together
   * in one round trip per node; channels take two more (server index, then each server) and
   * one query per channel, issued together.
   */
  async summary(appId: string, account: string, limitText: unknown): Promise<AccountSummary> {
    const limit = limitOf(limitText);
    if (!isId(account)) throw new NotFoundException(`account ${account} not found`);
    const [c2c, groups, channels] = await Promise.all([
      this.store.c2c.top(appId, account, limit),
      this.store.group.joinedGroups(appId, account),
      this.channels(appId, account),
    ]);
    if (!c2c.registered) {
      throw new NotFoundException(`account ${account} not found`);
    }
    const byUnread = groups.groups
      .filter((g) => g.unread > 0)
      .sort((a, b) => b.unread - a.unread || (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
    const mentioned = channels.items.filter((c) => c.unread > 0);
    return {
      appId,
      account,
      c2c: { total: c2c.total, conversations: c2c.peers },
      groups: { total: byUnread.reduce((s, g) => s + g.unread, 0), items: byUnread.slice(0, limit).map((g) => ({ groupId: g.groupId, unread: g.unread })) },
      channels: {
        total: mentioned.reduce((s, c) => s + c.unread, 0),
        items: mentioned.slice(0, limit),
        ...(channels.capped ? { capped: true as const } : {}),
      },
    };
  }

  /** Unread mentions per channel of the account's servers, most first (ties by ids). */
  private async channels(app: string, account: string): Promise<{ items: AccountSummary['channels']['items']; capped: boolean }> {
    const all = await this.store.channel.memberChannels(app, account);
    const chans = all.slice(0, MAX_SUMMARY_CHANNELS); // in (server id, channel id) order
    const now = Date.now();
    const counted = await Promise.all(
      chans.map(async (c) => {
        const page = await this.store.channel.unreadMentions({ app, account, serverId: c.serverId, channelId: c.channelId, roles: c.roles, position: { time: now, skip: 0 }, limit: CHANNEL_COUNT_CAP, now });
        return { serverId: c.serverId, channelId: c.channelId, unread: page.messages.length, more: page.hasMore };
      }),
    );
    return { items: counted.sort((a, b) => b.unread - a.unread), capped: all.length > MAX_SUMMARY_CHANNELS };
  }
}
