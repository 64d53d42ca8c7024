import type { GroupMemberView } from './group.store';
import type { ProjectionStore } from './projection.store';
import { DEFAULT_RECEIVE_OPTION, type ReceiveOptions } from './receive-option.store';

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

/**
 * Reads several accounts at once: for each, the c2c counts hash and the receive options
 * (both on the account's slot) and its groups (GroupStore.joinedGroups), every account's
 * commands issued in the same tick, so ioredis' auto-pipelining sends each step in one
 * round trip per Redis node, whatever the number of accounts: (1) every account's counts
 * hash, options hash, marker and group index; (2) one HMGET per group; (3) only when a
 * group has seqs that do not count, one ZCOUNT per such group (GroupStore.settle). On a
 * Cluster each step is one round trip per node that holds any of its keys (the accounts'
 * and groups' slots spread over the masters), issued in parallel.
 */
export async function readAccountsUnread(store: ProjectionStore, app: string, accounts: readonly string[]): Promise<AccountUnread[]> {
  const read = await Promise.all(
    accounts.map((account) =>
      Promise.all([store.c2c.top(app, account, Number.POSITIVE_INFINITY), store.receiveOptions.read(app, account), store.group.joinedGroups(app, account)]),
    ),
  );
  return read.map(([c2c, options, groups], i) => ({
    account: accounts[i]!,
    registered: c2c.registered || groups.registered,
    c2c: { total: c2c.total, peers: c2c.peers },
    groups: groups.groups,
    options,
  }));
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
