import { Cluster } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { parseC2cCounts } from './c2c.store';
import { groupIdOrder, type GroupMemberView } from './group.store';
import type { ProjectionStore } from './projection.store';
import { RECEIVE_OPTIONS } from '@app/contracts';
import { DEFAULT_RECEIVE_OPTION, parseReceiveOptions, type ReceiveOptions } from './receive-option.store';
import { ACCOUNT_FIELD, C2C_TOTAL_FIELD } from './keyspace';
import { READ_SCRIPTS, type Script } from './scripts';
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
const ACCOUNT_TOTALS = READ_SCRIPTS.accountTotals;

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
  type Reply = [string[], string[], string[], number];
  const heads = await accountHeads<Reply>(store, accounts, ACCOUNT_UNREAD, [registeredOnly ? '1' : '0', ACCOUNT_FIELD]);
  const groups = await memberGroupsOf(store, accounts, (i) => heads[i]![2]);
  return accounts.map((a, i) => {
    const [counts, options, , servers] = heads[i]!;
    const c2c = parseC2cCounts(counts, Number.POSITIVE_INFINITY);
    return {
      unread: { account: a.account, registered: c2c.registered, c2c: { total: c2c.total, peers: c2c.peers }, groups: groups[i]!, options: parseReceiveOptions(options) },
      servers: Number(servers),
    };
  });
}

/** One account's totals and what its badge leaves out (readTotalsOf). */
export interface AccountTotalsRead {
  registered: boolean;
  /** The one-to-one total. */
  c2c: number;
  /** Of `c2c`, the unread of peers whose receive option is not AcceptAndNotify. */
  c2cQuiet: number;
  /** The groups it is a member of, counts as the vendor answers them (readUnreadOf's). */
  groups: GroupMemberView[];
  /** The groups whose receive option is not AcceptAndNotify. */
  quietGroups: ReadonlySet<string>;
  /** How many QChat servers it is in. */
  servers: number;
}

/** The receive options that keep a conversation out of the badge. */
const QUIET_OPTIONS = RECEIVE_OPTIONS.filter((o) => o !== DEFAULT_RECEIVE_OPTION);

/**
 * readUnreadOf for what totals and a badge need (the batch API and the change feed): step
 * (1) is account-totals.lua, which answers the one-to-one total and the unread of the peers
 * whose option keeps them out of the badge instead of every peer's count and every option;
 * step (2) is the same. The same two round trips per node, replies that do not grow with the
 * account's peers. `registeredOnly` as readUnreadOf's.
 */
export async function readTotalsOf(store: ProjectionStore, accounts: readonly { app: string; account: string }[], registeredOnly = false): Promise<AccountTotalsRead[]> {
  type Reply = [number, string | null, number?, string[]?, string[]?, number?];
  const heads = await accountHeads<Reply>(store, accounts, ACCOUNT_TOTALS, [registeredOnly ? '1' : '0', ACCOUNT_FIELD, C2C_TOTAL_FIELD, ...QUIET_OPTIONS]);
  const groups = await memberGroupsOf(store, accounts, (i) => heads[i]![3] ?? []);
  return heads.map(([registered, total, quiet = 0, , quietGroups = [], servers = 0], i) => ({
    registered: registered === 1,
    c2c: total === null ? 0 : Math.max(0, Number(total)),
    c2cQuiet: Number(quiet),
    groups: groups[i]!,
    quietGroups: new Set(quietGroups),
    servers: Number(servers),
  }));
}

/**
 * Step (1) of readUnreadOf and readTotalsOf: `script` (account-unread.lua or
 * account-totals.lua, the same four keys per account) once per node (per slot on a
 * Cluster; split every ACCOUNTS_PER_CALL accounts), all issued together; each account's reply.
 */
async function accountHeads<R>(store: ProjectionStore, accounts: readonly { app: string; account: string }[], script: Script, argv: readonly string[]): Promise<R[]> {
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
  const heads = new Array<R>(accounts.length);
  await Promise.all(
    [...calls.values()].flat().map(async (c) => {
      const replies = (await callScript(redis, script, c.keys, argv)) as R[];
      c.at.forEach((i, j) => (heads[i] = replies[j]!));
    }),
  );
  return heads;
}

/**
 * Step (2) of readUnreadOf and readTotalsOf: per group any account is in (`groupIdsOf(i)`,
 * account i's index), one HMGET of its meta fields and every such account's record
 * (GroupStore.memberViews, whose counting rules are joinedGroups'), then one ZCOUNT per
 * (group, distinct read seq) only where the group has seqs that do not count. Each
 * account's groups it is a member of, ordered by group id.
 */
async function memberGroupsOf(store: ProjectionStore, accounts: readonly { app: string; account: string }[], groupIdsOf: (i: number) => readonly string[]): Promise<GroupMemberView[][]> {
  const byGroup = new Map<string, { app: string; groupId: string; at: number[] }>();
  accounts.forEach((a, i) => {
    for (const groupId of groupIdsOf(i)) {
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
    const groups: GroupMemberView[] = [];
    for (const groupId of groupIdsOf(i)) {
      const id = `${a.app}\n${groupId}`;
      const k = seen.get(id) ?? 0; // the k-th account of this group in `accounts` order
      seen.set(id, k + 1);
      const v = views.get(id)![k];
      if (v) groups.push(v);
    }
    return groups.sort((x, y) => groupIdOrder(x.groupId, y.groupId)); // the index orders by type class first
  });
}

/** readUnreadOf for accounts of one app. */
export async function readAccountsUnread(store: ProjectionStore, app: string, accounts: readonly string[], registeredOnly = false): Promise<AccountUnread[]> {
  return (await readUnreadOf(store, accounts.map((account) => ({ app, account })), registeredOnly)).map((r) => r.unread);
}

/**
 * The badge (docs/api/summary.md): everything counted, one-to-one, groups and QChat
 * mentions (`channels`, which have no receive option), over conversations whose receive
 * option is AcceptAndNotify (the default). From the whole read (readUnreadOf).
 */
export function badgeOf(u: AccountUnread, channels: number): number {
  let c2cQuiet = 0;
  for (const p of u.c2c.peers) if ((u.options.c2c.get(p.peer) ?? DEFAULT_RECEIVE_OPTION) !== DEFAULT_RECEIVE_OPTION) c2cQuiet += p.unread;
  const quietGroups = new Set<string>();
  for (const [groupId, option] of u.options.groups) if (option !== DEFAULT_RECEIVE_OPTION) quietGroups.add(groupId);
  return badgeFrom({ c2c: u.c2c.total, c2cQuiet, groups: u.groups, quietGroups }, channels);
}

/** The badge's one rule, from the totals (readTotalsOf's, or badgeOf's from the whole read). */
export function badgeFrom(t: Pick<AccountTotalsRead, 'c2c' | 'c2cQuiet' | 'groups' | 'quietGroups'>, channels: number): number {
  let groups = 0;
  for (const g of t.groups) if (!t.quietGroups.has(g.groupId)) groups += g.unread;
  return Math.max(0, t.c2c - t.c2cQuiet) + groups + channels;
}
