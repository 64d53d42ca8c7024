import type { UnreadEvent } from '@app/contracts';
import { Keyspace, ProjectionStore, type RedisClient } from '@app/store';

/**
 * An independent in-memory model of the unread counts (docs/projections.md), written from the
 * rules, not from the store: the oracle of the reliability tests. It covers the event kinds
 * test/support/workload.ts produces and throws on any other, so a workload that grows a kind
 * the model does not know fails loudly instead of being compared loosely (and account-deleted,
 * which the rebuild test sends).
 *
 * - one-to-one: per (owner, peer), the distinct message ids from peer to owner later than the
 *   owner's read time for peer (the maximum ack);
 * - group: per (account, group), max(0, the group's highest seq − readSeq), readSeq =
 *   max(ackSeq, joinSeq, ownSeq) with ackSeq raised by acks and replaced by
 *   group-unread-set (no maxSeq: no fence), in log order (both on the group's key);
 * - QChat channel: per (account, channel), the mentions reaching the account (@all, direct,
 *   or a role it holds), not sent by it, never recalled/deleted, later than its ack time
 *   (the maximum of its acks and its own channel messages' times).
 *
 * `Counts` is what both the model and `readCounts` (the projections, read through the store
 * as the gateway reads them) give, so a test compares them with one `toEqual`.
 */
export interface Counts {
  /** `<app> <owner> <peer>` → unread, for every owner/peer pair the events name. */
  c2c: Record<string, number>;
  /** `<app> <owner>` → the owner's total. */
  c2cTotal: Record<string, number>;
  /** `<app> <groupId> <account>` → unread, for every member. */
  group: Record<string, number>;
  /** `<app> <serverId> <channelId> <account>` → unread mention ids (msgIdServer), sorted. */
  mentions: Record<string, string[]>;
}

interface MemberState {
  joinSeq: number;
  ackSeq: number;
  ownSeq: number;
}

interface Mention {
  time: number;
  from: string;
  all: boolean;
  accounts: string[];
  roles: string[];
}

export class CountModel {
  /** app → registered accounts (now), and every account it ever registered. */
  private readonly accounts = new Map<string, Set<string>>();
  private readonly everRegistered = new Map<string, Set<string>>();
  private readonly c2cRead = new Map<string, number>();
  private readonly c2cMessages = new Map<string, Map<string, number>>();
  private readonly groupMax = new Map<string, number>();
  private readonly groupMembers = new Map<string, Map<string, MemberState>>();
  /** `<app> <groupId> <account>` of every join (no leave is modelled). */
  private readonly joined = new Set<string>();
  private readonly channels = new Map<string, { app: string; serverId: string; channelId: string }>();
  private readonly serverMembers = new Map<string, Set<string>>();
  private readonly roles = new Map<string, Set<string>>();
  private readonly mentionsOf = new Map<string, Map<string, Mention>>();
  private readonly recalled = new Set<string>();
  private readonly channelAck = new Map<string, number>();

  apply(events: readonly UnreadEvent[]): this {
    for (const e of events) this.one(e);
    return this;
  }

  private one(e: UnreadEvent): void {
    const key = (...parts: string[]) => parts.join(' ');
    switch (e.type) {
      case 'account-registered':
        this.set(this.accounts, e.appId, () => new Set<string>()).add(e.account);
        this.set(this.everRegistered, e.appId, () => new Set<string>()).add(e.account);
        return;
      case 'message-sent':
        if (e.scope === 'c2c') {
          if (e.from === e.to) return;
          this.set(this.c2cMessages, key(e.appId, e.to, e.from), () => new Map<string, number>()).set(e.msgId, e.time);
        } else if (e.scope === 'group') {
          const g = key(e.appId, e.groupId);
          this.groupMax.set(g, Math.max(this.groupMax.get(g) ?? 0, e.seq));
          const m = this.member(g, e.from);
          m.ownSeq = Math.max(m.ownSeq, e.seq);
        } else {
          const c = key(e.appId, e.serverId, e.channelId, e.from);
          this.channelAck.set(c, Math.max(this.channelAck.get(c) ?? -Infinity, e.time));
        }
        return;
      case 'read-ack':
        if (e.scope === 'c2c') {
          const k = key(e.appId, e.account, e.peer);
          this.c2cRead.set(k, Math.max(this.c2cRead.get(k) ?? -Infinity, e.readTime));
        } else if (e.scope === 'group') {
          const m = this.member(key(e.appId, e.groupId), e.account);
          m.ackSeq = Math.max(m.ackSeq, e.readSeq);
        } else {
          const c = key(e.appId, e.serverId, e.channelId, e.account);
          this.channelAck.set(c, Math.max(this.channelAck.get(c) ?? -Infinity, e.ackTime));
        }
        return;
      case 'group-unread-set':
        if ((e as { maxSeq?: number }).maxSeq !== undefined) throw new Error('CountModel: group-unread-set with maxSeq (a fence) is not modelled');
        this.member(key(e.appId, e.groupId), e.account).ackSeq = e.readSeq;
        return;
      case 'group-created':
        if (e.groupType !== 'Work') throw new Error(`CountModel: group type ${e.groupType} is not modelled`);
        return;
      case 'group-member-joined': {
        if (e.seq === undefined) throw new Error('CountModel: a join without seq is not modelled');
        const g = key(e.appId, e.groupId);
        const m = this.member(g, e.account);
        m.joinSeq = Math.max(m.joinSeq, e.seq);
        this.joined.add(key(g, e.account));
        return;
      }
      case 'qchat-channel-created':
        this.channels.set(key(e.appId, e.serverId, e.channelId), { app: e.appId, serverId: e.serverId, channelId: e.channelId });
        return;
      case 'qchat-server-member-joined':
        this.set(this.serverMembers, key(e.appId, e.serverId), () => new Set<string>()).add(e.account);
        return;
      case 'qchat-role-member-added':
        this.set(this.roles, key(e.appId, e.serverId, e.account), () => new Set<string>()).add(e.roleId);
        return;
      case 'channel-mention': {
        const m = e.message;
        this.set(this.mentionsOf, key(e.appId, e.serverId, e.channelId), () => new Map<string, Mention>()).set(m.msgIdServer, {
          time: m.time,
          from: m.fromAccount,
          all: e.mentionAll ?? false,
          accounts: e.mentionAccids ?? [],
          roles: e.mentionRoleIds ?? [],
        });
        if (m.status !== 0) throw new Error('CountModel: a mention with a status other than 0 is not modelled');
        return;
      }
      case 'channel-message-updated':
        if (e.status !== 1 && e.status !== 2) throw new Error('CountModel: only recall/delete updates are modelled');
        this.recalled.add(key(e.appId, e.serverId, e.channelId, e.msgIdServer));
        return;
      case 'account-deleted':
        this.deleteAccount(e.appId, e.account);
        return;
      default:
        throw new Error(`CountModel: event type ${e.type} is not modelled`);
    }
  }

  /**
   * account-deleted: the account's own state in every family goes (its one-to-one counts as an
   * owner, its group records, its QChat membership, roles and acks); what others hold from it
   * stays. The model then lists no count of it (the tests check its keys are gone).
   */
  private deleteAccount(app: string, account: string): void {
    this.accounts.get(app)?.delete(account);
    for (const k of [...this.c2cMessages.keys(), ...this.c2cRead.keys()]) {
      if (k.startsWith(`${app} ${account} `)) {
        this.c2cMessages.delete(k);
        this.c2cRead.delete(k);
      }
    }
    for (const [g, members] of this.groupMembers) {
      if (!g.startsWith(`${app} `)) continue;
      members.delete(account);
      this.joined.delete(`${g} ${account}`);
    }
    for (const [server, members] of this.serverMembers) if (server.startsWith(`${app} `)) members.delete(account);
    for (const k of [...this.roles.keys()]) if (k.startsWith(`${app} `) && k.endsWith(` ${account}`)) this.roles.delete(k);
    for (const k of [...this.channelAck.keys()]) if (k.startsWith(`${app} `) && k.endsWith(` ${account}`)) this.channelAck.delete(k);
  }

  private set<K, V>(map: Map<K, V>, k: K, make: () => V): V {
    let v = map.get(k);
    if (v === undefined) map.set(k, (v = make()));
    return v;
  }

  private member(group: string, account: string): MemberState {
    const members = this.set(this.groupMembers, group, () => new Map<string, MemberState>());
    return this.set(members, account, () => ({ joinSeq: 0, ackSeq: 0, ownSeq: 0 }));
  }

  /** The counts the model gives, over every pair, member and channel reader the events name. */
  counts(): Counts {
    const out: Counts = { c2c: {}, c2cTotal: {}, group: {}, mentions: {} };
    const unread = (app: string, owner: string, peer: string) => {
      const read = this.c2cRead.get(`${app} ${owner} ${peer}`) ?? -Infinity;
      return [...(this.c2cMessages.get(`${app} ${owner} ${peer}`)?.values() ?? [])].filter((t) => t > read).length;
    };
    for (const [app, accounts] of this.accounts) {
      // peers: every account the app ever had (unread from a deleted account stays its owners')
      const peers = this.everRegistered.get(app) ?? new Set<string>();
      for (const owner of accounts) {
        for (const peer of peers) if (peer !== owner) out.c2c[`${app} ${owner} ${peer}`] = unread(app, owner, peer);
        // the total: from every sender, registered or not
        const senders = [...this.c2cMessages.keys()].filter((k) => k.startsWith(`${app} ${owner} `)).map((k) => k.split(' ')[2]!);
        out.c2cTotal[`${app} ${owner}`] = senders.reduce((sum, peer) => sum + unread(app, owner, peer), 0);
      }
    }
    for (const [g, members] of this.groupMembers) {
      const max = this.groupMax.get(g) ?? 0;
      for (const [account, m] of members) {
        if (!this.joined.has(`${g} ${account}`)) continue;
        out.group[`${g} ${account}`] = Math.max(0, max - Math.max(m.ackSeq, m.joinSeq, m.ownSeq));
      }
    }
    for (const [c, { app, serverId }] of this.channels) {
      const mentions = this.mentionsOf.get(c) ?? new Map<string, Mention>();
      for (const account of this.serverMembers.get(`${app} ${serverId}`) ?? []) {
        const held = this.roles.get(`${app} ${serverId} ${account}`) ?? new Set<string>();
        const ack = this.channelAck.get(`${c} ${account}`) ?? -Infinity;
        out.mentions[`${c} ${account}`] = [...mentions]
          .filter(([id, m]) => !this.recalled.has(`${c} ${id}`) && m.from !== account && m.time > ack)
          .filter(([, m]) => m.all || m.accounts.includes(account) || m.roles.some((r) => held.has(r)))
          .map(([id]) => id)
          .sort();
      }
    }
    return out;
  }
}

/**
 * The same counts read from the projections under `prefix` (a generation's full prefix),
 * through the store's read paths (what the gateway answers): per-peer and total c2c counts,
 * each member's group view, and every page of each reader's unread mentions.
 */
export async function readCounts(redis: RedisClient, prefix: string, like: Counts, mentionRetentionMs: number): Promise<Counts> {
  const store = new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs });
  const out: Counts = { c2c: {}, c2cTotal: {}, group: {}, mentions: {} };
  for (const k of Object.keys(like.c2c)) {
    const [app, owner, peer] = k.split(' ') as [string, string, string];
    out.c2c[k] = (await store.c2c.perPeer(app, owner, [peer])).counts[0]!;
  }
  for (const k of Object.keys(like.c2cTotal)) {
    const [app, owner] = k.split(' ') as [string, string];
    out.c2cTotal[k] = (await store.c2c.total(app, owner)).total;
  }
  for (const k of Object.keys(like.group)) {
    const [app, groupId, account] = k.split(' ') as [string, string, string];
    out.group[k] = (await store.group.memberView(app, groupId, account)).unread;
  }
  const now = Date.now();
  for (const k of Object.keys(like.mentions)) {
    const [app, serverId, channelId, account] = k.split(' ') as [string, string, string, string];
    const { roles } = await store.channel.access(app, serverId, channelId, account);
    const ids: string[] = [];
    let position = { time: now, skip: 0 };
    for (;;) {
      const page = await store.channel.unreadMentions({ app, serverId, channelId, account, roles, position, limit: 100, now });
      for (const m of page.messages) ids.push(String((JSON.parse(m) as { msgIdServer: string | number }).msgIdServer));
      if (!page.hasMore) break;
      position = page.next;
    }
    out.mentions[k] = ids.sort();
  }
  return out;
}

/** The model's counts for `events`. */
export function modelCounts(events: readonly UnreadEvent[]): Counts {
  return new CountModel().apply(events).counts();
}

/** How many counts of `c` are not zero (a comparison over nothing proves nothing). */
export function nonZero(c: Counts): number {
  return [...Object.values(c.c2c), ...Object.values(c.group)].filter((n) => n > 0).length + Object.values(c.mentions).filter((ids) => ids.length > 0).length;
}

/** Expects the projections under `prefix` to hold exactly the model's counts for `events` (and some of them non-zero). */
export async function expectModelCounts(redis: RedisClient, prefix: string, events: readonly UnreadEvent[], mentionRetentionMs: number): Promise<void> {
  const expected = modelCounts(events);
  expect(nonZero(expected)).toBeGreaterThan(5);
  expect(await readCounts(redis, prefix, expected, mentionRetentionMs)).toEqual(expected);
}

/** Every count where `got` differs from `want`, as "`<family> <key>`: got ≠ want" (for a readable failure). */
export function countDiffs(got: Counts, want: Counts): string[] {
  const out: string[] = [];
  for (const family of ['c2c', 'c2cTotal', 'group', 'mentions'] as const) {
    const a = got[family] as Record<string, unknown>;
    const b = want[family] as Record<string, unknown>;
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) out.push(`${family} ${k}: ${JSON.stringify(a[k])} ≠ ${JSON.stringify(b[k])}`);
    }
  }
  return out;
}
