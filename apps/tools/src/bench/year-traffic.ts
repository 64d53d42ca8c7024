import type { UnreadEvent } from '@app/contracts';
import { Prng } from './prng';

/**
 * The shape of one week of traffic, repeated week after week (docs/capacity.md, "Over time"):
 * one-to-one messages over a fixed ring of peers per account, large groups, small groups that
 * are dismissed and created again, a share of recalls and of `noUnread` messages, and every
 * reader catching up at the end of each day.
 */
export interface YearShape {
  appId: string;
  /** Accounts that talk one to one; each sends to `peers` fixed peers (the next ones on a ring). */
  c2cAccounts: number;
  peers: number;
  /** One-to-one messages each of those accounts sends a day. */
  c2cPerDay: number;
  /** Large groups, their members (drawn from a pool of that many accounts) and messages a day each. */
  groups: number;
  groupMembers: number;
  groupPerDay: number;
  /** Small groups dismissed and created again (same id, members joining again) every `churnWeeks` weeks. */
  churnGroups: number;
  churnMembers: number;
  churnWeeks: number;
  /** Shares of messages recalled (c2c and group) and of group messages sent with `noUnread`. */
  recall: number;
  noUnread: number;
}

/** The shape of the capacity test and the bench's year row: c2c over 50 peers, groups of 500, 1 % recall, 5 % noUnread. */
export const YEAR_SHAPE: Omit<YearShape, 'appId'> = {
  c2cAccounts: 100,
  peers: 50,
  c2cPerDay: 4,
  groups: 2,
  groupMembers: 500,
  groupPerDay: 50,
  churnGroups: 2,
  churnMembers: 20,
  churnWeeks: 4,
  recall: 0.01,
  noUnread: 0.05,
};

const DAY = 86_400_000;

/**
 * A deterministic generator of that traffic, week by week (`week()`), every event in a valid
 * causal order: a message before its recall, each day's reads after the day's messages. The
 * first week starts with the registrations, the groups' creation and their members' joins.
 * Ids carry `tag`, so runs on one Redis do not collide.
 */
export class YearTraffic {
  readonly accounts: string[];
  readonly groupIds: string[];
  readonly churnIds: string[];
  private readonly rnd: Prng;
  private weeks = 0;
  private msg = 0;
  private readonly seq = new Map<string, number>();
  /** Per owner, per peer: the newest message time since the owner's last read of that peer. */
  private readonly unreadSince = new Map<string, Map<string, number>>();

  constructor(
    readonly shape: YearShape,
    seed: number,
    readonly tag: string,
    private readonly start = Date.UTC(2026, 0, 5),
  ) {
    this.rnd = new Prng(seed);
    const pool = Math.max(shape.c2cAccounts, shape.groupMembers, shape.churnMembers);
    this.accounts = Array.from({ length: pool }, (_, i) => `y${i}-${tag}`);
    this.groupIds = Array.from({ length: shape.groups }, (_, i) => `@TGS#y${i}${tag}`);
    this.churnIds = Array.from({ length: shape.churnGroups }, (_, i) => `@TGS#c${i}${tag}`);
  }

  /** Weeks generated so far. */
  get week(): number {
    return this.weeks;
  }

  /** The next week's events. */
  nextWeek(): UnreadEvent[] {
    const s = this.shape;
    const app = s.appId;
    const out: UnreadEvent[] = [];
    const w = this.weeks++;
    if (w === 0) {
      for (const account of this.accounts) out.push({ type: 'account-registered', appId: app, account });
      for (const g of this.groupIds) this.create(out, g, this.accounts.slice(0, s.groupMembers));
    }
    if (w % s.churnWeeks === 0) {
      for (const [i, g] of this.churnIds.entries()) {
        if (w > 0) out.push({ type: 'group-dismissed', appId: app, groupId: g });
        const from = (i * s.churnMembers) % Math.max(1, this.accounts.length - s.churnMembers);
        this.create(out, g, this.accounts.slice(from, from + s.churnMembers));
      }
    }
    for (let d = 0; d < 7; d++) {
      const dayStart = this.start + (w * 7 + d) * DAY;
      // the day's messages, spread over its first 20 hours
      for (let a = 0; a < s.c2cAccounts; a++) {
        for (let k = 0; k < s.c2cPerDay; k++) {
          const from = this.accounts[a]!;
          const to = this.accounts[(a + 1 + this.rnd.int(s.peers)) % s.c2cAccounts]!;
          const time = dayStart + this.rnd.int(20 * 3_600_000);
          const msgId = `m${this.msg++}-${this.tag}`;
          out.push({ type: 'message-sent', scope: 'c2c', appId: app, msgId, from, to, time });
          if (this.rnd.next() < s.recall) out.push({ type: 'message-recalled', scope: 'c2c', appId: app, msgId, from, to, time });
          let peers = this.unreadSince.get(to);
          if (!peers) this.unreadSince.set(to, (peers = new Map<string, number>()));
          peers.set(from, Math.max(peers.get(from) ?? 0, time));
        }
      }
      for (const g of [...this.groupIds, ...this.churnIds]) {
        const members = this.members.get(g)!;
        const perDay = this.groupIds.includes(g) ? s.groupPerDay : Math.max(1, Math.round(s.groupPerDay / 10));
        for (let k = 0; k < perDay; k++) {
          const seq = (this.seq.get(g) ?? 0) + 1;
          this.seq.set(g, seq);
          const from = members[this.rnd.int(members.length)]!;
          const e: UnreadEvent = { type: 'message-sent', scope: 'group', appId: app, msgId: `g${this.msg++}-${this.tag}`, groupId: g, from, seq, time: dayStart + k };
          if (this.rnd.next() < s.noUnread) e.noUnread = true;
          out.push(e);
          if (this.rnd.next() < s.recall) out.push({ type: 'message-recalled', scope: 'group', appId: app, groupId: g, seq });
        }
      }
      // the end of the day: every reader catches up
      const readTime = dayStart + 23 * 3_600_000;
      for (const [owner, peers] of this.unreadSince) {
        for (const peer of peers.keys()) out.push({ type: 'read-ack', scope: 'c2c', appId: app, account: owner, peer, readTime });
      }
      this.unreadSince.clear();
      for (const g of [...this.groupIds, ...this.churnIds]) {
        const readSeq = this.seq.get(g) ?? 0;
        for (const account of this.members.get(g)!) out.push({ type: 'read-ack', scope: 'group', appId: app, account, groupId: g, readSeq });
      }
    }
    return out;
  }

  private readonly members = new Map<string, string[]>();

  private create(out: UnreadEvent[], groupId: string, members: string[]): void {
    const app = this.shape.appId;
    out.push({ type: 'group-created', appId: app, groupId, groupType: 'Work', name: groupId });
    const seq = this.seq.get(groupId) ?? 0;
    for (const account of members) out.push({ type: 'group-member-joined', appId: app, groupId, account, seq });
    this.members.set(groupId, members);
  }
}
