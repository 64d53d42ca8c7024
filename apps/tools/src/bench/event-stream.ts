import type { UnreadEvent } from '@app/contracts';
import { Prng } from './prng';

/**
 * The benchmark's world and its event streams, all from a seeded PRNG: a Tencent app with
 * `accounts` accounts and groups in size tiers (10 … 100 000 members), and a QChat server
 * with channels, roles and members. `seedEvents` builds the directory and the fixed query
 * fixtures; `MixedStream` then produces the realistic mix the ingest and freshness
 * measurements replay (one-to-one messages and acks, group messages and acks, channel
 * mentions via accounts, roles and @all, channel messages and acks, a little directory churn).
 */

export interface GroupTier {
  size: number;
  count: number;
}

export interface WorldSpec {
  accounts: number;
  tiers: GroupTier[];
  qchatMembers: number;
  roles: number;
  channels: number;
  /** Unread mentions of the query account in the query channel. */
  queryMentions: number;
  /** Groups the get_joined_group_list account is in. */
  queryGroups: number;
}

export const FULL_WORLD: WorldSpec = {
  accounts: 100_000,
  tiers: [
    { size: 10, count: 200 },
    { size: 100, count: 50 },
    { size: 1_000, count: 5 },
    { size: 10_000, count: 1 },
    { size: 100_000, count: 1 },
  ],
  qchatMembers: 1_000,
  roles: 20,
  channels: 20,
  queryMentions: 1_000,
  queryGroups: 30,
};

export const QUICK_WORLD: WorldSpec = {
  accounts: 2_000,
  tiers: [
    { size: 10, count: 20 },
    { size: 100, count: 5 },
    { size: 2_000, count: 1 },
  ],
  qchatMembers: 200,
  roles: 6,
  channels: 4,
  queryMentions: 1_000,
  queryGroups: 10,
};

/** Fixed ids of the query fixtures. */
export const FIXTURE = {
  c2cOwner: 'q-c2c',
  groupMember: 'q-grp',
  freshOwner: 'q-fresh',
  freshPeer: 'q-fresh-peer',
  mentioned: 'q-men',
  serverId: '700000001',
  /** The channel holding the query account's unread mentions (the mixed stream leaves it alone). */
  queryChannel: '710000000',
} as const;

export interface Group {
  id: string;
  size: number;
  /** Members are accounts first … first + size - 1 (mod accounts). */
  first: number;
}

export class World {
  readonly groups: Group[] = [];
  readonly tierOf: Group[][] = [];
  readonly channels: string[] = [];
  readonly roles: string[] = [];
  readonly c2cPeers: string[];

  constructor(
    readonly spec: WorldSpec,
    readonly tencentApp: string,
    readonly qchatApp: string,
    seed: number,
  ) {
    const rnd = new Prng(seed);
    spec.tiers.forEach((tier, t) => {
      const list: Group[] = [];
      for (let j = 0; j < tier.count; j++) {
        const g = { id: `@TGS#b${tier.size}n${j}`, size: Math.min(tier.size, spec.accounts), first: rnd.int(spec.accounts) };
        list.push(g);
        this.groups.push(g);
      }
      this.tierOf[t] = list;
    });
    for (let k = 0; k < spec.channels; k++) this.channels.push(String(710_000_000 + k));
    for (let k = 0; k < spec.roles; k++) this.roles.push(String(720_000_000 + k));
    this.c2cPeers = Array.from({ length: 10 }, (_, i) => this.account(i));
  }

  account(i: number): string {
    return `u${i % this.spec.accounts}`;
  }

  member(g: Group, k: number): string {
    return this.account(g.first + (k % g.size));
  }

  qmember(i: number): string {
    return `m${i % this.spec.qchatMembers}`;
  }

  /** Members of role k: every qchat member i with i % roles === k (the query account holds roles 0–2). */
  roleOfMember(i: number): string {
    return this.roles[i % this.roles.length]!;
  }

  smallestGroup(): Group {
    return this.tierOf[0]![0]!;
  }

  largestGroup(): Group {
    return this.tierOf[this.tierOf.length - 1]![0]!;
  }

  /** Groups the joined-group-list account is in: the largest of each tier first, then small ones. */
  queryGroups(): Group[] {
    const picked = this.tierOf.map((list) => list[0]!);
    for (const g of this.groups) {
      if (picked.length >= this.spec.queryGroups) break;
      if (!picked.includes(g)) picked.push(g);
    }
    return picked;
  }
}

const e = (x: Record<string, unknown>): UnreadEvent => x as unknown as UnreadEvent;

/** A realistic message body of 20–120 characters. */
function body(rnd: Prng): string {
  const words = ['ok', 'meeting', 'at', 'the', 'release', 'notes', 'please', 'review', 'lunch', 'tomorrow', 'deploy', 'thanks', 'see', 'you', 'bug', 'fixed'];
  let s = '';
  const n = 4 + rnd.int(18);
  for (let i = 0; i < n; i++) s += (i ? ' ' : '') + rnd.pick(words);
  return s;
}

function mentionEvent(
  qapp: string,
  serverId: string,
  channelId: string,
  msgIdServer: number,
  from: string,
  time: number,
  rnd: Prng,
  targets: { mentionAll?: boolean; mentionAccids?: string[]; mentionRoleIds?: string[] },
): UnreadEvent {
  return e({
    type: 'channel-mention',
    appId: qapp,
    serverId,
    channelId,
    message: {
      msgIdServer: String(msgIdServer),
      msgIdClient: rnd.hex(16),
      fromAccount: from,
      fromNick: `nick ${from}`,
      fromClientType: rnd.pick(['AOS', 'IOS', 'PC', 'WEB']),
      time,
      updateTime: time,
      status: 0,
      type: 0,
      body: body(rnd),
      attach: '',
      ext: '',
    },
    ...targets,
  });
}

/**
 * The directory and the query fixtures, in order (directory events before the messages
 * that depend on them). `now` anchors the fixtures' message times.
 */
export function* seedEvents(world: World, now: number, seed: number): Generator<UnreadEvent> {
  const rnd = new Prng(seed ^ 0x5eed);
  const app = world.tencentApp;
  const qapp = world.qchatApp;
  for (let i = 0; i < world.spec.accounts; i++) yield e({ type: 'account-registered', appId: app, account: world.account(i) });
  for (const account of [FIXTURE.c2cOwner, FIXTURE.groupMember, FIXTURE.freshOwner, FIXTURE.freshPeer]) {
    yield e({ type: 'account-registered', appId: app, account });
  }
  for (const g of world.groups) {
    yield e({ type: 'group-created', appId: app, groupId: g.id, groupType: 'Work', name: `bench ${g.size}` });
    for (let k = 0; k < g.size; k++) yield e({ type: 'group-member-joined', appId: app, groupId: g.id, account: world.member(g, k), seq: 0 });
  }
  for (const g of world.queryGroups()) {
    yield e({ type: 'group-member-joined', appId: app, groupId: g.id, account: FIXTURE.groupMember, seq: 0 });
  }
  // get_c2c_unread_msg_num fixture: 5 unread from each of 10 peers
  let n = 0;
  for (const peer of world.c2cPeers) {
    for (let k = 0; k < 5; k++) {
      yield e({ type: 'message-sent', scope: 'c2c', appId: app, msgId: `seed-${n++}`, from: peer, to: FIXTURE.c2cOwner, time: now - 60_000 + n });
    }
  }
  // QChat: members, channels, roles (the query account holds roles 0, 1, 2)
  const server = FIXTURE.serverId;
  for (const account of [FIXTURE.mentioned, ...Array.from({ length: world.spec.qchatMembers }, (_, i) => world.qmember(i))]) {
    yield e({ type: 'account-registered', appId: qapp, account });
    yield e({ type: 'qchat-server-member-joined', appId: qapp, serverId: server, account });
  }
  for (const channelId of world.channels) yield e({ type: 'qchat-channel-created', appId: qapp, serverId: server, channelId });
  for (let i = 0; i < world.spec.qchatMembers; i++) {
    yield e({ type: 'qchat-role-member-added', appId: qapp, serverId: server, roleId: world.roleOfMember(i), account: world.qmember(i) });
  }
  for (const roleId of world.roles.slice(0, 3)) {
    yield e({ type: 'qchat-role-member-added', appId: qapp, serverId: server, roleId, account: FIXTURE.mentioned });
  }
  // queryChannelUnReadMentionedMsgPage fixture: unread mentions via the account (40%), its roles (30%), @all (30%)
  for (let k = 0; k < world.spec.queryMentions; k++) {
    const kind = k % 10;
    const targets =
      kind < 4
        ? { mentionAccids: [FIXTURE.mentioned, world.qmember(rnd.int(world.spec.qchatMembers))] }
        : kind < 7
          ? { mentionRoleIds: [world.roles[kind - 4]!] }
          : { mentionAll: true };
    yield mentionEvent(qapp, server, FIXTURE.queryChannel, 800_000_000 + k, world.qmember(k), now - 30_000 + k, rnd, targets);
  }
}

/** Counts what `seedEvents` yields without building it. */
export function seedCount(world: World): number {
  const s = world.spec;
  const members = world.groups.reduce((a, g) => a + g.size, 0);
  return s.accounts + 4 + world.groups.length + members + world.queryGroups().length + 50 + 2 * (s.qchatMembers + 1) + s.channels + s.qchatMembers + 3 + s.queryMentions;
}

export const KINDS = ['c2c-msg', 'c2c-ack', 'group-msg', 'group-ack', 'mention', 'channel-msg', 'channel-ack', 'directory'] as const;
export type Kind = (typeof KINDS)[number];
const WEIGHTS: Record<Kind, number> = {
  'c2c-msg': 40,
  'c2c-ack': 10,
  'group-msg': 30,
  'group-ack': 8,
  mention: 6,
  'channel-msg': 2,
  'channel-ack': 2,
  directory: 2,
};

export interface StreamOptions {
  /** Leave QChat events out (while the channel projection is not available). */
  channels: boolean;
  /** Groups this stream must not write to (kept quiet for the scale measurement). */
  excludeGroups?: readonly string[];
  /** Distinguishes message ids of concurrent streams. */
  tag: string;
  /** Only these kinds (e.g. ['c2c-msg'] for the c2c-only ingest backlog); default: all. */
  only?: readonly Kind[];
}

/** The mixed event stream. Each call to `next` returns the next event; times advance by ~0.1 ms per event. */
export class MixedStream {
  private readonly rnd: Prng;
  private readonly kinds: Kind[];
  private readonly weights: number[];
  private readonly groups: Group[];
  private readonly allowed: Set<Group>;
  private readonly seq = new Map<string, number>();
  private readonly recentC2c: { from: string; to: string; time: number }[] = [];
  private readonly channelsInStream: string[];
  private n = 0;
  private time: number;
  private msgIdServer: number;
  private newAccounts = 0;

  constructor(
    private readonly world: World,
    seed: number,
    startTime: number,
    private readonly options: StreamOptions,
  ) {
    this.rnd = new Prng(seed);
    this.time = startTime;
    this.msgIdServer = 900_000_000 + (seed % 1000) * 10_000_000;
    this.kinds = KINDS.filter((k) => options.channels || !['mention', 'channel-msg', 'channel-ack'].includes(k)).filter(
      (k) => !options.only || options.only.includes(k),
    );
    this.weights = this.kinds.map((k) => WEIGHTS[k]);
    const excluded = new Set(options.excludeGroups ?? []);
    this.groups = world.groups.filter((g) => !excluded.has(g.id));
    this.allowed = new Set(this.groups);
    this.channelsInStream = world.channels.filter((c) => c !== FIXTURE.queryChannel);
  }

  /** Seq counters (per group) so that a later stream can continue them. */
  seqs(): Record<string, number> {
    return Object.fromEntries(this.seq);
  }

  continueSeqs(seqs: Record<string, number>): void {
    for (const [g, s] of Object.entries(seqs)) this.seq.set(g, s);
  }

  take(count: number): UnreadEvent[] {
    const out: UnreadEvent[] = [];
    for (let i = 0; i < count; i++) out.push(this.next());
    return out;
  }

  /** A group chosen tier-first (every size class equally active), then uniformly in the tier. */
  private group(): Group {
    for (;;) {
      const tier = this.world.tierOf[this.rnd.int(this.world.tierOf.length)]!;
      const g = this.rnd.pick(tier);
      if (this.allowed.has(g)) return g;
    }
  }

  next(): UnreadEvent {
    const w = this.world;
    const rnd = this.rnd;
    const app = w.tencentApp;
    const qapp = w.qchatApp;
    this.n++;
    this.time += rnd.int(3) === 0 ? 1 : 0;
    const kind = this.kinds[rnd.weighted(this.weights)]!;
    switch (kind) {
      case 'c2c-msg': {
        // conversations cluster: a recipient mostly hears from a handful of peers
        const toIdx = rnd.int(w.spec.accounts);
        const from = w.account(toIdx + 1 + rnd.int(8));
        const to = w.account(toIdx);
        const m = { from, to, time: this.time };
        this.recentC2c.push(m);
        if (this.recentC2c.length > 2000) this.recentC2c.shift();
        return e({ type: 'message-sent', scope: 'c2c', appId: app, msgId: `${this.options.tag}${this.n}-${rnd.hex(6)}`, ...m });
      }
      case 'c2c-ack': {
        // an ack of a recent message; in a stream of acks only (the cost rows), a conversation
        // drawn as a message's would be, not one fixed pair (which folds 10 000 acks into a few writes)
        let m = this.recentC2c.length ? rnd.pick(this.recentC2c) : undefined;
        if (!m) {
          const toIdx = rnd.int(w.spec.accounts);
          m = { from: w.account(toIdx + 1 + rnd.int(8)), to: w.account(toIdx), time: this.time };
        }
        return e({ type: 'read-ack', scope: 'c2c', appId: app, account: m.to, peer: m.from, readTime: m.time });
      }
      case 'group-msg': {
        const g = this.group();
        const seq = (this.seq.get(g.id) ?? 0) + 1;
        this.seq.set(g.id, seq);
        return e({ type: 'message-sent', scope: 'group', appId: app, msgId: `${this.options.tag}${this.n}`, groupId: g.id, from: w.member(g, rnd.int(g.size)), seq, time: this.time });
      }
      case 'group-ack': {
        const g = this.group();
        return e({ type: 'read-ack', scope: 'group', appId: app, account: w.member(g, rnd.int(g.size)), groupId: g.id, readSeq: this.seq.get(g.id) ?? 0 });
      }
      case 'mention': {
        const r = rnd.int(10);
        const targets =
          r < 5
            ? { mentionAccids: Array.from({ length: 1 + rnd.int(3) }, () => w.qmember(rnd.int(w.spec.qchatMembers))) }
            : r < 8
              ? { mentionRoleIds: [rnd.pick(w.roles)] }
              : { mentionAll: true };
        return mentionEvent(qapp, FIXTURE.serverId, rnd.pick(this.channelsInStream), this.msgIdServer++, w.qmember(rnd.int(w.spec.qchatMembers)), this.time, rnd, targets);
      }
      case 'channel-msg':
        return e({ type: 'message-sent', scope: 'channel', appId: qapp, msgIdServer: String(this.msgIdServer++), serverId: FIXTURE.serverId, channelId: rnd.pick(this.channelsInStream), from: w.qmember(rnd.int(w.spec.qchatMembers)), time: this.time });
      case 'channel-ack':
        return e({ type: 'read-ack', scope: 'channel', appId: qapp, account: w.qmember(rnd.int(w.spec.qchatMembers)), serverId: FIXTURE.serverId, channelId: rnd.pick(this.channelsInStream), ackTime: this.time });
      case 'directory': {
        const account = `${this.options.tag}new${this.newAccounts++}`;
        if (rnd.int(2) === 0) return e({ type: 'account-registered', appId: app, account });
        const g = w.tierOf[0]!.find((x) => this.allowed.has(x)) ?? this.group();
        return e({ type: 'group-member-joined', appId: app, groupId: g.id, account, seq: this.seq.get(g.id) ?? 0 });
      }
    }
  }
}
