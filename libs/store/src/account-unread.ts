import { Cluster } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { parseC2cCounts } from './c2c.store';
import { groupIdOrder, type GroupMemberView } from './group.store';
import type { ProjectionStore } from './projection.store';
import { DEFAULT_RECEIVE_OPTION, parseReceiveOptions, type ReceiveOptions } from './receive-option.store';
import { ACCOUNT_FIELD } from './keyspace';
import { READ_SCRIPTS } from './scripts';
import { callScript } from './write';

/** Everything one-to-one and group an account has unread, with its receive options (summary and batch APIs). */
export interface AccountUnread {
  account: string;
  /** Registered (the marker in the account's one-to-one counts hash). */
  registered: boolean;
  /** The one-to-one total and every peer with unread, most first (ties by peer id). */
  c2c: { total: number; peers: { peer: string; unread: number }[] };
  /** The groups the account is a member of (existing ones), counts as the vendor answers them. */
  groups: GroupMemberView[];
  options: ReceiveOptions;
}

/** Accounts per account-unread.lua call at most (a call blocks its node while it runs). */
const ACCOUNTS_PER_CALL = 200;

const ACCOUNT_UNREAD = READ_SCRIPTS.accountUnread;

/** An account's unread, and how many QChat servers it is in (its channels are read apart: AccountTotalsReader.channelCounts). */
export interface AccountUnreadRead {
  unread: AccountUnread;
  servers: number;
}

/**
 * Reads several accounts at once (the summary, the batch API, `unread explain` and the
 * change feed; the one read of "what an account has unread" they share), in two steps
 * whatever the number of accounts, each one round trip per Redis node: (1) one
 * account-unread.lua call per node (per slot on a Cluster; split every ACCOUNTS_PER_CALL)
 * for every account's c2c counts hash, receive options, group index and number of QChat
 * servers; (2) per group any account is in, one HMGET of its meta fields and every such
 * account's record (GroupStore.memberViews, whose counting rules are joinedGroups'), then
 * one ZCOUNT per (group, distinct read seq) only where the group has seqs that do not count.
 *
 * `registeredOnly` (the summary and the batch API, which answer only registered accounts):
 * an account that is not registered costs its one counts read inside step (1) and nothing
 * more: no options, index or servers read, no group in step (2); its answer keeps
 * `registered: false` and the counts hash's total. The change feed and `unread explain`
 * read every account whole.
 */
export async function readUnreadOf(
  store: ProjectionStore,
  accounts: readonly { app: string; account: string }[],
  registeredOnly = false,
): Promise<AccountUnreadRead[]> {
  const redis = store.redis;
  const cluster = redis instanceof Cluster;
  const calls = new Map<number, { keys: string[]; at: number[] }[]>();
  accounts.forEach((a, i) => {
    const c2c = store.keys.c2c(a.app, a.account);
    const counts = c2c.counts;
    const slot = cluster ? calculateSlot(counts) : 0;
    const list = calls.get(slot) ?? [];
    if (list.length === 0) calls.set(slot, list);
    let call = list[list.length - 1];
    if (!call || call.at.length >= ACCOUNTS_PER_CALL) list.push((call = { keys: [], at: [] }));
    call.keys.push(counts, c2c.options, store.keys.member(a.app, a.account).groups, store.keys.qchatAccount(a.app, a.account).servers);
    call.at.push(i);
  });
  type Reply = [string[], string[], string[], number];
  const heads = new Array<Reply>(accounts.length);
  await Promise.all(
    [...calls.values()].flat().map(async (c) => {
      const replies = (await callScript(redis, ACCOUNT_UNREAD, c.keys, [registeredOnly ? '1' : '0', ACCOUNT_FIELD])) as Reply[];
      c.at.forEach((i, j) => (heads[i] = replies[j]!));
    }),
  );
  // (2) per (app, group): the accounts in it, read together
  const byGroup = new Map<string, { app: string; groupId: string; at: number[] }>();
  accounts.forEach((a, i) => {
    for (const groupId of heads[i]![2]) {
      const id = `${a.app}\n${groupId}`;
      const g = byGroup.get(id);
      if (g) g.at.push(i);
      else byGroup.set(id, { app: a.app, groupId, at: [i] });
    }
  });
  const views = new Map<string, (GroupMemberView | undefined)[]>();
  await Promise.all(
    [...byGroup].map(async ([id, g]) => views.set(id, await store.group.memberViews(g.app, g.groupId, g.at.map((i) => accounts[i]!.account)))),
  );
  const seen = new Map<string, number>();
  return accounts.map((a, i) => {
    const [counts, options, groupIds, servers] = heads[i]!;
    const groups: GroupMemberView[] = [];
    for (const groupId of groupIds) {
      const id = `${a.app}\n${groupId}`;
      const k = seen.get(id) ?? 0; // the k-th account of this group in `accounts` order
      seen.set(id, k + 1);
      const v = views.get(id)![k];
      if (v) groups.push(v);
    }
    groups.sort((x, y) => groupIdOrder(x.groupId, y.groupId)); // the index orders by type class first
    const c2c = parseC2cCounts(counts, Number.POSITIVE_INFINITY);
    return {
      unread: { account: a.account, registered: c2c.registered, c2c: { total: c2c.total, peers: c2c.peers }, groups, options: parseReceiveOptions(options) },
      servers: Number(servers),
    };
  });
}

/** readUnreadOf for accounts of one app. */
export async function readAccountsUnread(store: ProjectionStore, app: string, accounts: readonly string[], registeredOnly = false): Promise<AccountUnread[]> {
  return (await readUnreadOf(store, accounts.map((account) => ({ app, account })), registeredOnly)).map((r) => r.unread);
}

/**
 * The badge (docs/api/summary.md): everything counted, one-to-one, groups and QChat
 * mentions (`channels`, which have no receive option), over conversations whose receive
 * option is AcceptAndNotify (the default).
 */
export function badgeOf(u: AccountUnread, channels: number): number {
  let c2c = u.c2c.total;
  for (const p of u.c2c.peers) if ((u.options.c2c.get(p.peer) ?? DEFAULT_RECEIVE_OPTION) !== 'AcceptAndNotify') c2c -= p.unread;
  let groups = 0;
  for (const g of u.groups) if ((u.options.groups.get(g.groupId) ?? DEFAULT_RECEIVE_OPTION) === 'AcceptAndNotify') groups += g.unread;
  return Math.max(0, c2c) + groups + channels;
}
