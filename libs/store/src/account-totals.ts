import { Cluster } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { C2C_TOTAL_FIELD } from './c2c.store';
import { ACCOUNT_FIELD } from './keyspace';
import type { ProjectionStore } from './projection.store';
import { evalScript, script } from './write';

const ACCOUNT_HEADS = script('account-heads');

/** Accounts per account-heads call at most (a call blocks its node while it runs). */
const HEADS_PER_CALL = 200;

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

  /**
   * The totals of many accounts, equal to `read` of each (the same stores' reads), for the
   * cost of a batch: first one account-heads.lua call per Redis node (per slot on a Cluster;
   * all issued in one tick, so auto-pipelined) reads every account's registration, c2c total
   * and whether it is in any group or QChat server; then, only for accounts in a group or a
   * server, the stores' own group and channel reads, all issued together.
   */
  async readMany(accounts: readonly { app: string; account: string }[], now = Date.now()): Promise<AccountTotals[]> {
    const redis = this.store.redis;
    const cluster = redis instanceof Cluster;
    const calls = new Map<number, { keys: string[]; at: number[] }[]>();
    accounts.forEach((a, i) => {
      const keys = [this.store.keys.c2cCounts(a.app, a.account), this.store.group.indexKey(a.app, a.account), this.store.channel.membership.serversKey(a.app, a.account)];
      const slot = cluster ? calculateSlot(keys[0]!) : 0;
      const list = calls.get(slot) ?? [];
      if (list.length === 0) calls.set(slot, list);
      let call = list[list.length - 1];
      if (!call || call.at.length >= HEADS_PER_CALL) list.push((call = { keys: [], at: [] }));
      call.keys.push(...keys);
      call.at.push(i);
    });
    const heads = new Array<[string | null, string | null, number, number]>(accounts.length);
    await Promise.all(
      [...calls.values()].flat().map(async (c) => {
        // EVALSHA: ioredis routes it by its first key also on a Cluster (the number of keys varies)
        const replies = (await evalScript(redis, ACCOUNT_HEADS, c.keys, [ACCOUNT_FIELD, C2C_TOTAL_FIELD])) as [string | null, string | null, number, number][];
        c.at.forEach((i, j) => (heads[i] = replies[j]!));
      }),
    );
    return Promise.all(
      accounts.map(async (a, i) => {
        const [marker, total, groupCount, serverCount] = heads[i]!;
        const [groups, channels] = await Promise.all([
          groupCount > 0 ? this.store.group.joinedGroups(a.app, a.account).then((g) => sumGroups(g.groups)) : 0,
          serverCount > 0 ? this.channelCounts(a.app, a.account, now).then((cs) => cs.reduce((s, c) => s + c.unread, 0)) : 0,
        ]);
        return { registered: marker !== null && marker !== undefined, c2c: total === null || total === undefined ? 0 : Math.max(0, Number(total)), groups, channels };
      }),
    );
  }

  async read(app: string, account: string, now = Date.now()): Promise<AccountTotals> {
    const [c2c, groups, channels] = await Promise.all([
      this.store.c2c.total(app, account),
      this.store.group.joinedGroups(app, account),
      this.channelCounts(app, account, now),
    ]);
    return {
      registered: c2c.registered,
      c2c: c2c.total,
      groups: sumGroups(groups.groups),
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

/** Unread over the groups an account is in. */
function sumGroups(groups: readonly { unread: number }[]): number {
  return groups.reduce((s, g) => s + (g.unread > 0 ? g.unread : 0), 0);
}
