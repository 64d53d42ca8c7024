import type { GroupType, ReceiveOption, UnreadEvent } from '@app/contracts';
import { AccountTotalsReader, Keyspace, ProjectionStore, badgeOf, readAccountsUnread, type RedisClient } from '@app/store';

/**
 * The oracle of every count test: what the vendors say an account has unread, kept in memory
 * from the events (docs/events.md), in the vendors' terms and not in the store's. It knows
 * every event type; feed it the events in the order one log gives them (the events of one
 * topic and key in their order; other interleavings and duplicates must give the same
 * counts, which is what the tests check of the service).
 *
 * One-to-one (Tencent `get_c2c_unread_msg_num`): an account's unread from a peer are the
 * distinct messages that peer sent it, later than the last point up to which it read that
 * peer, that were neither withdrawn (`message-recalled`, before or after the message) nor
 * sent as silent (`noUnread`); a message to oneself is unread for nobody. The total adds up
 * every sender, registered or not.
 *
 * Groups (Tencent `get_joined_group_list`, `set_unread_msg_num`): a group's messages take
 * the positions 1, 2, … of its sequence. A member has read up to a position; every later
 * position up to the group's newest is unread unless its message was withdrawn or silent.
 * The member's position is where its latest reading left it: a read receipt moves it
 * forward; sending a message means having read the group up to it; joining means starting
 * at the group's position of the join. An administrator's `set_unread_msg_num` puts it
 * where the administrator asked, and of the member's joins and own messages only those the
 * administrator could not have seen yet (after the position the group had then, `maxSeq`)
 * still move it; receipts that follow in the read log move it as usual. Only members of
 * groups that exist count (created, not dismissed; a dismissal forgets every member), and
 * chat rooms, meetings and live-broadcast groups keep no unread count at all.
 * With a group horizon H (`groupHorizon`, the service's GROUP_UNCOUNTED_HORIZON), the
 * service remembers which positions were withdrawn or silent only for the last H positions
 * of each group: a position further than H behind the group's newest counts as unread
 * whatever its message was, so a member who read up to within H of the newest sees the
 * exact count and one further behind also counts the withdrawn and silent messages among
 * those older positions.
 *
 * Receive options and the badge (the summary API): an account's option for a conversation is
 * the one set last (by its time; at equal times the more muted one); the vendor counts
 * ignore it, the badge adds only the conversations that notify (`AcceptAndNotify`, also when
 * never set). `Counts.badge` is the badge without its QChat part (channels always count:
 * `mentions` holds them).
 *
 * QChat (`queryChannelUnReadMentionedMsgPage`): a server member's unread mentions in a live
 * channel are the messages that mention it (everyone, it by name, or a role it holds now;
 * the everyone role is never granted), that it did not send, that are neither recalled nor
 * deleted (by the mention itself or any update), later than the last point it read the
 * channel to (its receipts, and its own messages there), and within the retention. A
 * member who leaves the server loses its roles.
 *
 * Deleting an account forgets what it holds: its one-to-one counts and options, its place in
 * the groups it joined, its server memberships, roles, receipts and the mentions naming it;
 * what it sent others stays theirs. Listed are the accounts registered now.
 */
export interface Counts {
  /** `<app> <owner> <peer>` → unread, for every registered owner and every peer the app ever registered. */
  c2c: Record<string, number>;
  /** `<app> <owner>` → the owner's total. */
  c2cTotal: Record<string, number>;
  /** `<app> <groupId> <account>` → unread of a member of an existing group, null for every other pair the events name. */
  group: Record<string, number | null>;
  /** `<app> <serverId> <channelId> <account>` → unread mention ids (msgIdServer), sorted, for each member of a live channel's server. */
  mentions: Record<string, string[]>;
  /** `<app> <account>` → the badge's one-to-one and group part, for every registered account. */
  badge: Record<string, number>;
}

const GROUPS_WITHOUT_UNREAD: readonly GroupType[] = ['ChatRoom', 'Meeting', 'AVChatRoom'];
/** The more muted, the higher. */
const MUTEDNESS: Record<ReceiveOption, number> = { AcceptAndNotify: 0, AcceptNotNotify: 1, Discard: 2 };

interface Reader {
  member: boolean;
  everJoined: boolean;
  /** Positions the member's joins and own messages put it at. */
  joins: number[];
  own: number[];
  /** Receipts of the read log since the administrator's last setting (all of them without one). */
  receipts: number[];
  /** The administrator's last setting: where it put the member, and the group's position it saw. */
  setting?: { at: number; groupWasAt: number };
}

interface Group {
  exists: boolean;
  type?: GroupType;
  newest: number;
  /** Positions whose message was withdrawn or sent silently. */
  notCounting: Set<number>;
  readers: Map<string, Reader>;
}

interface Mentioned {
  time: number;
  from: string;
  everyone: boolean;
  accounts: Set<string>;
  roles: Set<string>;
}

interface Channel {
  live: boolean;
  mentions: Map<string, Mentioned>;
  /** Ids recalled or deleted, whenever that was said. */
  gone: Set<string>;
  readTo: Map<string, number>;
}

const k = (...parts: string[]) => parts.join(' ');

export class CountModel {
  private readonly registered = new Map<string, Set<string>>();
  private readonly everRegistered = new Map<string, Set<string>>();
  /** `<app> <owner> <peer>` → msgId → time, messages that count unless read or withdrawn. */
  private readonly inbox = new Map<string, Map<string, number>>();
  private readonly readUpTo = new Map<string, number>();
  /** `<app> <owner> <peer> <msgId>`. */
  private readonly withdrawn = new Set<string>();
  /** `<app> <account> c|g <peer or group>` → the option set last. */
  private readonly options = new Map<string, { time: number; option: ReceiveOption }>();
  private readonly groups = new Map<string, Group>();
  private readonly channels = new Map<string, Channel>();
  /** `<app> <serverId>` → its members. */
  private readonly serverMembers = new Map<string, Set<string>>();
  /** `<app> <serverId> <account>` → the roles it holds. */
  private readonly roles = new Map<string, Set<string>>();

  /**
   * One-to-one cap (`c2cUnreadCap`, docs/projections.md "The cap"): `<app> <owner> <peer>` →
   * whether the conversation held more unread than the cap since its owner last read it to
   * its newest message, and how many messages among its newest `cap` unread were recalled
   * meanwhile (a count the cap no longer promises exactly).
   */
  private readonly capped = new Map<string, { over: boolean; bent: number }>();

  /**
   * @param opts.c2cUnreadCap a one-to-one conversation counts at most this many unread: its
   *   newest ones (the count is min(exact, cap)), up to the recalls that `c2cCapBent` counts
   */
  constructor(private readonly opts: { mentionRetentionMs?: number; c2cUnreadCap?: number; groupHorizon?: number } = {}) {}

  apply(events: readonly UnreadEvent[]): this {
    for (const e of events) this.one(e);
    return this;
  }

  private one(e: UnreadEvent): void {
    const app = e.appId;
    switch (e.type) {
      case 'account-registered':
        get(this.registered, app, () => new Set<string>()).add(e.account);
        get(this.everRegistered, app, () => new Set<string>()).add(e.account);
        return;
      case 'account-deleted':
        return this.forget(app, e.account);
      case 'message-sent':
        if (e.scope === 'c2c') {
          if (e.from !== e.to && e.noUnread !== true) {
            const box = get(this.inbox, k(app, e.to, e.from), () => new Map<string, number>());
            if (!box.has(e.msgId)) box.set(e.msgId, e.time);
            this.capCheck(app, e.to, e.from);
          }
        } else if (e.scope === 'group') {
          const g = this.groupOf(app, e.groupId);
          g.newest = Math.max(g.newest, e.seq);
          if (e.noUnread === true) g.notCounting.add(e.seq);
          this.reader(g, e.from).own.push(e.seq);
        } else {
          this.readChannel(this.channel(app, e.serverId, e.channelId), e.from, e.time);
        }
        return;
      case 'message-recalled':
        if (e.scope === 'c2c') {
          this.capRecall(app, e.to, e.from, e.msgId);
          this.withdrawn.add(k(app, e.to, e.from, e.msgId));
        }
        else this.groupOf(app, e.groupId).notCounting.add(e.seq);
        return;
      case 'read-ack':
        if (e.scope === 'c2c') {
          const pair = k(app, e.account, e.peer);
          this.readUpTo.set(pair, Math.max(this.readUpTo.get(pair) ?? -Infinity, e.readTime));
          // read to its newest message: nothing it held before can count again
          if (Math.max(...(this.inbox.get(pair)?.values() ?? [])) <= e.readTime) this.capped.delete(pair);
        } else if (e.scope === 'group') this.reader(this.groupOf(app, e.groupId), e.account).receipts.push(e.readSeq);
        else this.readChannel(this.channel(app, e.serverId, e.channelId), e.account, e.ackTime);
        return;
      case 'group-unread-set': {
        const r = this.reader(this.groupOf(app, e.groupId), e.account);
        r.receipts = [];
        r.setting = { at: e.readSeq, groupWasAt: e.maxSeq ?? -Infinity };
        return;
      }
      case 'receive-option-set': {
        const key = e.scope === 'c2c' ? k(app, e.account, 'c', e.peer) : k(app, e.account, 'g', e.groupId);
        const held = this.options.get(key);
        if (!held || e.time > held.time || (e.time === held.time && MUTEDNESS[e.option] > MUTEDNESS[held.option])) this.options.set(key, { time: e.time, option: e.option });
        return;
      }
      case 'group-created': {
        const g = this.groupOf(app, e.groupId);
        g.exists = true;
        g.type = e.groupType;
        return;
      }
      case 'group-dismissed': {
        const g = this.groupOf(app, e.groupId);
        g.exists = false;
        g.readers.clear();
        g.notCounting.clear();
        return;
      }
      case 'group-member-joined': {
        const g = this.groupOf(app, e.groupId);
        const r = this.reader(g, e.account);
        r.member = r.everJoined = true;
        r.joins.push(e.seq ?? g.newest);
        return;
      }
      case 'group-member-left':
        this.reader(this.groupOf(app, e.groupId), e.account).member = false;
        return;
      case 'qchat-server-member-joined':
        get(this.serverMembers, k(app, e.serverId), () => new Set<string>()).add(e.account);
        return;
      case 'qchat-server-member-left':
        this.serverMembers.get(k(app, e.serverId))?.delete(e.account);
        this.roles.delete(k(app, e.serverId, e.account));
        return;
      case 'qchat-role-member-added':
        get(this.roles, k(app, e.serverId, e.account), () => new Set<string>()).add(String(e.roleId));
        return;
      case 'qchat-role-member-removed':
        this.roles.get(k(app, e.serverId, e.account))?.delete(String(e.roleId));
        return;
      case 'qchat-channel-created':
        this.channel(app, e.serverId, e.channelId).live = true;
        return;
      case 'qchat-channel-deleted':
        this.channel(app, e.serverId, e.channelId).live = false;
        return;
      case 'channel-mention': {
        const c = this.channel(app, e.serverId, e.channelId);
        const m = e.message;
        const id = String(m.msgIdServer);
        c.mentions.set(id, {
          time: m.time,
          from: m.fromAccount,
          everyone: e.mentionAll === true,
          accounts: new Set(e.mentionAccids ?? []),
          roles: new Set((e.mentionRoleIds ?? []).map(String)),
        });
        if (m.status === 1 || m.status === 2) c.gone.add(id);
        return;
      }
      case 'channel-message-updated':
        if (e.status === 1 || e.status === 2) this.channel(app, e.serverId, e.channelId).gone.add(String(e.msgIdServer));
        return;
      default: {
        const never: never = e;
        throw new Error(`CountModel: unknown event ${JSON.stringify(never)}`);
      }
    }
  }

  private forget(app: string, account: string): void {
    this.registered.get(app)?.delete(account);
    for (const map of [this.inbox, this.readUpTo, this.options, this.capped]) for (const key of [...map.keys()]) if (key.startsWith(`${app} ${account} `)) map.delete(key);
    for (const [key, g] of this.groups) if (key.startsWith(`${app} `) && g.readers.get(account)?.everJoined) g.readers.delete(account);
    for (const [key, members] of this.serverMembers) if (key.startsWith(`${app} `)) members.delete(account);
    for (const key of [...this.roles.keys()]) if (key.startsWith(`${app} `) && key.endsWith(` ${account}`)) this.roles.delete(key);
    for (const [key, c] of this.channels) {
      if (!key.startsWith(`${app} `)) continue;
      c.readTo.delete(account);
      for (const m of c.mentions.values()) m.accounts.delete(account);
    }
  }


  private reader(g: Group, account: string): Reader {
    return get(g.readers, account, () => ({ member: false, everJoined: false, joins: [], own: [], receipts: [] }));
  }

  private channel(app: string, serverId: string, channelId: string): Channel {
    return get(this.channels, k(app, String(serverId), String(channelId)), () => ({ live: false, mentions: new Map<string, Mentioned>(), gone: new Set<string>(), readTo: new Map<string, number>() }));
  }

  private readChannel(c: Channel, account: string, time: number): void {
    c.readTo.set(account, Math.max(c.readTo.get(account) ?? -Infinity, time));
  }

  /** The owner's unread from `peer` (at most the cap, when the model has one). */
  c2c(app: string, owner: string, peer: string): number {
    return Math.min(this.c2cUnreadIds(app, owner, peer).length, this.opts.c2cUnreadCap ?? Infinity);
  }

  /**
   * Past the cap, the unread the projection still tracks: the newest `cap` (by time; at
   * equal times the greater id is the newer), sorted by id; every unread id without a cap.
   */
  c2cTrackedIds(app: string, owner: string, peer: string): string[] {
    return this.newest(app, owner, peer).slice(0, this.opts.c2cUnreadCap ?? Infinity).sort();
  }

  /**
   * How many messages among the newest `cap` unread were recalled while the conversation held
   * more than the cap (since its owner last read it to its newest message): by that many at
   * most the count may differ from min(exact, cap). 0 without a cap.
   */
  c2cCapBent(app: string, owner: string, peer: string): number {
    return this.capped.get(k(app, owner, peer))?.bent ?? 0;
  }

  /** The unread ids from `peer`, newest first (at equal times the greater id first). */
  private newest(app: string, owner: string, peer: string): string[] {
    const pair = k(app, owner, peer);
    const read = this.readUpTo.get(pair) ?? -Infinity;
    return [...(this.inbox.get(pair) ?? [])]
      .filter(([msgId, time]) => time > read && !this.withdrawn.has(k(pair, msgId)))
      .sort(([ia, ta], [ib, tb]) => tb - ta || (ia < ib ? 1 : ia > ib ? -1 : 0))
      .map(([msgId]) => msgId);
  }

  /** After a message: whether the conversation now holds more unread than the cap. */
  private capCheck(app: string, owner: string, peer: string): void {
    const cap = this.opts.c2cUnreadCap;
    if (cap === undefined || this.c2cUnreadIds(app, owner, peer).length <= cap) return;
    get(this.capped, k(app, owner, peer), () => ({ over: false, bent: 0 })).over = true;
  }

  /** Before a recall: one more bent count when it takes one of the newest `cap` unread of a conversation past the cap. */
  private capRecall(app: string, owner: string, peer: string, msgId: string): void {
    const cap = this.opts.c2cUnreadCap;
    const state = this.capped.get(k(app, owner, peer));
    if (cap === undefined || !state?.over) return;
    if (this.newest(app, owner, peer).slice(0, cap).includes(msgId)) state.bent++;
  }

  /** The ids of the owner's unread messages from `peer`, sorted. */
  c2cUnreadIds(app: string, owner: string, peer: string): string[] {
    const pair = k(app, owner, peer);
    const read = this.readUpTo.get(pair) ?? -Infinity;
    return [...(this.inbox.get(pair) ?? [])].filter(([msgId, time]) => time > read && !this.withdrawn.has(k(pair, msgId))).map(([msgId]) => msgId).sort();
  }

  /** How far the owner has read `peer` (its highest receipt), undefined before any. */
  c2cReadTime(app: string, owner: string, peer: string): number | undefined {
    return this.readUpTo.get(k(app, owner, peer));
  }

  /** The owner's one-to-one total, from every sender. */
  c2cTotal(app: string, owner: string): number {
    let n = 0;
    for (const peer of this.sendersTo(app, owner)) n += this.c2c(app, owner, peer);
    return n;
  }

  /** Every account that sent `owner` a message that may count. */
  private sendersTo(app: string, owner: string): string[] {
    const head = `${app} ${owner} `;
    return [...this.inbox.keys()].filter((key) => key.startsWith(head)).map((key) => key.slice(head.length));
  }

  /** The member's unread in the group, or null when the account is no member of an existing group. */
  group(app: string, groupId: string, account: string): number | null {
    const g = this.groups.get(k(app, groupId));
    const r = g?.readers.get(account);
    if (!g?.exists || !r?.member) return null;
    if (g.type !== undefined && GROUPS_WITHOUT_UNREAD.includes(g.type)) return 0;
    const position = this.positionOf(r);
    const remembered = g.newest - (this.opts.groupHorizon ?? Infinity);
    let unread = 0;
    for (let s = position + 1; s <= g.newest; s++) if (!g.notCounting.has(s) || s <= remembered) unread++;
    return unread;
  }

  private groupOf(app: string, groupId: string): Group {
    return get(this.groups, k(app, groupId), () => ({ exists: false, newest: 0, notCounting: new Set<number>(), readers: new Map<string, Reader>() }));
  }

  /** The group's newest position and where the account's reading left it (0 before any). */
  groupPosition(app: string, groupId: string, account: string): { newest: number; position: number } {
    const g = this.groups.get(k(app, groupId));
    const r = g?.readers.get(account);
    return { newest: g?.newest ?? 0, position: r ? this.positionOf(r) : 0 };
  }

  /** Where the member's latest reading left it. */
  private positionOf(r: Reader): number {
    const since = r.setting?.groupWasAt ?? -Infinity;
    let position = r.setting?.at ?? 0;
    for (const s of r.receipts) position = Math.max(position, s);
    for (const s of [...r.joins, ...r.own]) if (s > since) position = Math.max(position, s);
    return position;
  }

  /** The account's option for a peer (`c`) or group (`g`). */
  option(app: string, account: string, kind: 'c' | 'g', id: string): ReceiveOption {
    return this.options.get(k(app, account, kind, id))?.option ?? 'AcceptAndNotify';
  }

  /** The badge's one-to-one and group part: unread over the conversations that notify. */
  badge(app: string, account: string): number {
    let n = 0;
    for (const peer of this.sendersTo(app, account)) if (this.option(app, account, 'c', peer) === 'AcceptAndNotify') n += this.c2c(app, account, peer);
    for (const key of this.groups.keys()) {
      if (!key.startsWith(`${app} `)) continue;
      const groupId = key.slice(app.length + 1);
      if (this.option(app, account, 'g', groupId) === 'AcceptAndNotify') n += this.group(app, groupId, account) ?? 0;
    }
    return n;
  }

  /**
   * The account's unread mentions in the channel in the page's order (docs/api/qchat.md):
   * newest first, at equal times the larger msgIdServer first.
   */
  mentions(app: string, serverId: string, channelId: string, account: string, now = Date.now()): string[] {
    const c = this.channels.get(k(app, String(serverId), String(channelId)));
    if (!c) return [];
    const held = this.roles.get(k(app, String(serverId), account)) ?? new Set<string>();
    const read = c.readTo.get(account) ?? -Infinity;
    const oldest = now - (this.opts.mentionRetentionMs ?? Infinity);
    return [...c.mentions]
      .filter(([id, m]) => !c.gone.has(id) && m.from !== account && m.time > read && m.time > oldest)
      .filter(([, m]) => m.everyone || m.accounts.has(account) || [...m.roles].some((role) => held.has(role)))
      .sort(([ia, a], [ib, b]) => b.time - a.time || (BigInt(ib) < BigInt(ia) ? -1 : 1))
      .map(([id]) => id);
  }

  /** The counts the model gives, over every pair, member and channel reader the events name. */
  counts(): Counts {
    const out: Counts = { c2c: {}, c2cTotal: {}, group: {}, mentions: {}, badge: {} };
    for (const [app, accounts] of this.registered) {
      // peers: every account the app ever had (unread from a deleted account stays its owners')
      const peers = this.everRegistered.get(app) ?? new Set<string>();
      for (const owner of accounts) {
        for (const peer of peers) if (peer !== owner) out.c2c[k(app, owner, peer)] = this.c2c(app, owner, peer);
        out.c2cTotal[k(app, owner)] = this.c2cTotal(app, owner);
        out.badge[k(app, owner)] = this.badge(app, owner);
      }
    }
    for (const [key, g] of this.groups) {
      const [app, groupId] = key.split(' ') as [string, string];
      for (const account of g.readers.keys()) out.group[k(key, account)] = this.group(app, groupId, account);
    }
    for (const [key, c] of this.channels) {
      if (!c.live) continue;
      const [app, serverId, channelId] = key.split(' ') as [string, string, string];
      for (const account of this.serverMembers.get(k(app, serverId)) ?? []) out.mentions[k(key, account)] = this.mentions(app, serverId, channelId, account).sort();
    }
    return out;
  }
}

function get<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}

/**
 * The same counts read from the projections under `prefix` (a generation's full prefix),
 * through the store's read paths (what the gateway answers): per-peer and total c2c counts,
 * each (group, account)'s view, every page of each reader's unread mentions, and the badge.
 */
export async function readCounts(redis: RedisClient, prefix: string, like: Counts, mentionRetentionMs: number): Promise<Counts> {
  const store = new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs });
  const out: Counts = { c2c: {}, c2cTotal: {}, group: {}, mentions: {}, badge: {} };
  for (const key of Object.keys(like.c2c)) {
    const [app, owner, peer] = key.split(' ') as [string, string, string];
    out.c2c[key] = (await store.c2c.perPeer(app, owner, [peer])).counts[0]!;
  }
  for (const key of Object.keys(like.c2cTotal)) {
    const [app, owner] = key.split(' ') as [string, string];
    out.c2cTotal[key] = (await store.c2c.total(app, owner)).total;
  }
  for (const key of Object.keys(like.group)) {
    const [app, groupId, account] = key.split(' ') as [string, string, string];
    const v = await store.group.memberView(app, groupId, account);
    out.group[key] = v.exists && v.member ? v.unread : null;
  }
  const byApp = new Map<string, string[]>();
  for (const key of Object.keys(like.badge)) {
    const [app, account] = key.split(' ') as [string, string];
    get(byApp, app, () => []).push(account);
  }
  for (const [app, accounts] of byApp) {
    const read = await readAccountsUnread(store, app, accounts);
    // the batch API's and the change feed's totals reader (readTotalsOf) must answer the same totals and badge
    const totals = await new AccountTotalsReader(store).readMany(accounts.map((account) => ({ app, account })));
    read.forEach((u, i) => {
      const badge = badgeOf(u, 0);
      const t = totals[i]!;
      const whole = { c2c: u.c2c.total, groups: u.groups.reduce((n, g) => n + Math.max(0, g.unread), 0), badge };
      const cheap = { c2c: t.c2c, groups: t.groups, badge: t.badge - t.channels };
      if (JSON.stringify(whole) !== JSON.stringify(cheap)) throw new Error(`${app} ${accounts[i]}: readMany answers ${JSON.stringify(cheap)}, readUnreadOf ${JSON.stringify(whole)}`);
      out.badge[k(app, accounts[i]!)] = badge;
    });
  }
  const now = Date.now();
  for (const key of Object.keys(like.mentions)) {
    const [app, serverId, channelId, account] = key.split(' ') as [string, string, string, string];
    const { roles } = await store.channel.access(app, serverId, channelId, account);
    const ids: string[] = [];
    let position = { time: now, skip: 0 };
    for (;;) {
      const page = await store.channel.unreadMentions({ app, serverId, channelId, account, roles, position, limit: 100, now });
      for (const m of page.messages) ids.push(String((JSON.parse(m) as { msgIdServer: string | number }).msgIdServer));
      if (!page.hasMore) break;
      position = page.next;
    }
    out.mentions[key] = ids.sort();
  }
  return out;
}

/** The model's counts for `events`. */
export function modelCounts(events: readonly UnreadEvent[], mentionRetentionMs?: number): Counts {
  return new CountModel({ mentionRetentionMs }).apply(events).counts();
}

/** How many counts of `c` are not zero (a comparison over nothing proves nothing). */
export function nonZero(c: Counts): number {
  return [...Object.values(c.c2c), ...Object.values(c.group)].filter((n) => n !== null && n > 0).length + Object.values(c.mentions).filter((ids) => ids.length > 0).length;
}

/** Expects the projections under `prefix` to hold exactly the model's counts for `events` (and some of them non-zero). */
export async function expectModelCounts(redis: RedisClient, prefix: string, events: readonly UnreadEvent[], mentionRetentionMs: number): Promise<void> {
  const expected = modelCounts(events, mentionRetentionMs);
  expect(nonZero(expected)).toBeGreaterThan(5);
  expect(await readCounts(redis, prefix, expected, mentionRetentionMs)).toEqual(expected);
}

/** Every count where `got` differs from `want`, as "`<family> <key>`: got ≠ want" (for a readable failure). */
export function countDiffs(got: Counts, want: Counts): string[] {
  const out: string[] = [];
  for (const family of ['c2c', 'c2cTotal', 'group', 'mentions', 'badge'] as const) {
    const a = got[family] as Record<string, unknown>;
    const b = want[family] as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) out.push(`${family} ${key}: ${JSON.stringify(a[key])} ≠ ${JSON.stringify(b[key])}`);
    }
  }
  return out;
}
