import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { isId } from '@app/contracts';
import { AccountTotalsReader, ProjectionStore, badgeOf, type AccountRead } from '@app/store';

export const DEFAULT_SUMMARY_LIMIT = 20;
export const MAX_SUMMARY_LIMIT = 100;
/** Accounts per call of the batch form. */
export const MAX_BATCH_ACCOUNTS = 100;

/** The answer of GET /v1/apps/{appId}/accounts/{account}/unread (docs/api/summary.md). */
export interface AccountSummary {
  appId: string;
  account: string;
  c2c: { total: number; conversations: { peer: string; unread: number }[] };
  groups: { total: number; items: { groupId: string; unread: number }[] };
  channels: { total: number; items: { serverId: string; channelId: string; unread: number; more: boolean }[]; capped?: true };
  /** Everything above over conversations whose receive option is AcceptAndNotify (docs/api/summary.md). */
  badge: number;
}

/** One registered account in the answer of POST /v1/apps/{appId}/unread. */
export interface AccountTotals {
  account: string;
  c2c: number;
  groups: number;
  channels: number;
  /** Present when the account is in more than MAX_SUMMARY_CHANNELS channels (libs/store/src/account-totals.ts): `channels` counts the first ones. */
  channelsCapped?: true;
  badge: number;
}

/** The answer of POST /v1/apps/{appId}/unread (docs/api/summary.md). */
export interface BatchUnread {
  appId: string;
  accounts: AccountTotals[];
  /** Accounts that are not registered, in the order asked (like Tencent's ErrorList, apart from the answers). */
  notFound: string[];
}

const BATCH_SHAPE = `the body must be a JSON object {"accounts": [...]} with 1 to ${MAX_BATCH_ACCOUNTS} account ids (strings)`;

/** The distinct accounts of a batch body, in the order given; anything else is a 400. */
export function batchAccounts(text: unknown): string[] {
  let body: unknown;
  try {
    body = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    throw new BadRequestException(BATCH_SHAPE);
  }
  const accounts = (body as { accounts?: unknown } | null)?.accounts;
  if (
    typeof body !== 'object' || body === null || Array.isArray(body) ||
    !Array.isArray(accounts) || accounts.length < 1 || accounts.length > MAX_BATCH_ACCOUNTS ||
    !accounts.every((a): a is string => typeof a === 'string')
  ) {
    throw new BadRequestException(BATCH_SHAPE);
  }
  return [...new Set(accounts)];
}

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
   * Read by AccountTotalsReader.read, the reader of the batch form and the change feed:
   * one-to-one and receive options (one HGETALL each, the account's slot), groups (the
   * index, one HMGET per group, one ZCOUNT per (group, read seq) with seqs that do not
   * count) and the number of QChat servers, each step one round trip per node; then, only
   * for an account in a QChat server, its channels (server index, each server, then the
   * count-only mention read of at most MAX_SUMMARY_CHANNELS channels). An account that is
   * not registered costs the first read only.
   */
  async summary(appId: string, account: string, limitText: unknown): Promise<AccountSummary> {
    const limit = limitOf(limitText);
    if (!isId(account)) throw new NotFoundException(`account ${account} not found`);
    const [{ unread: u, channels }] = (await new AccountTotalsReader(this.store).read([{ app: appId, account }], Date.now(), true)) as [AccountRead];
    if (!u.registered) throw new NotFoundException(`account ${account} not found`);
    const byUnread = u.groups
      .filter((g) => g.unread > 0)
      .sort((a, b) => b.unread - a.unread || (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
    const mentioned = channels.items.filter((c) => c.unread > 0);
    const channelTotal = mentioned.reduce((s, c) => s + c.unread, 0);
    return {
      appId,
      account,
      c2c: { total: u.c2c.total, conversations: u.c2c.peers.slice(0, limit) },
      groups: { total: byUnread.reduce((s, g) => s + g.unread, 0), items: byUnread.slice(0, limit).map((g) => ({ groupId: g.groupId, unread: g.unread })) },
      channels: {
        total: channelTotal,
        items: mentioned.slice(0, limit),
        ...(channels.capped ? { capped: true as const } : {}),
      },
      badge: badgeOf(u, channelTotal),
    };
  }

  /**
   * The batch form for push services: totals and badge of 1–100 accounts, read as the change
   * feed reads them (AccountTotalsReader.readMany: the one-to-one and group parts of every
   * account together, two round trips per Redis node; then channels as in the summary, only
   * for accounts in a QChat server, every such account's issued together). Accounts that
   * are not ids or not registered are listed in `notFound`; a repeated account is answered once.
   */
  async batch(appId: string, bodyText: unknown): Promise<BatchUnread> {
    const accounts = batchAccounts(bodyText);
    const known = accounts.filter((a) => isId(a));
    const rows = await new AccountTotalsReader(this.store).readMany(known.map((account) => ({ app: appId, account })), Date.now(), true);
    const byAccount = new Map<string, AccountTotals>();
    rows.forEach((t, i) => {
      if (!t.registered) return;
      const account = known[i]!;
      byAccount.set(account, {
        account,
        c2c: t.c2c,
        groups: t.groups,
        channels: t.channels,
        ...(t.channelsCapped ? { channelsCapped: true as const } : {}),
        badge: t.badge,
      });
    });
    return { appId, accounts: [...byAccount.values()], notFound: accounts.filter((a) => !byAccount.has(a)) };
  }
}
