import type {
  GroupCreated,
  GroupDismissed,
  GroupMemberJoined,
  GroupMemberLeft,
  GroupMessageRecalled,
  GroupMessageSent,
  GroupReadAck,
  GroupType,
  GroupUnreadSet,
} from '@app/contracts';
import { Cluster } from 'ioredis';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';
import { READ_SCRIPTS, WRITE_SCRIPTS } from './scripts';
import { DEFAULT_GROUP_UNCOUNTED_HORIZON, type StoreOptions } from './store-options';
import { callScript, command, isScript, runScript, type Write, type Writer } from './write';

const MESSAGES = WRITE_SCRIPTS.groupMessages;
const READ_ACK = WRITE_SCRIPTS.groupReadAck;
const UNREAD_SET = WRITE_SCRIPTS.groupUnreadSet;
const MEMBER_JOINED = WRITE_SCRIPTS.groupMemberJoined;
const MEMBER_LEFT = WRITE_SCRIPTS.groupMemberLeft;
const CREATED = WRITE_SCRIPTS.groupCreated;
const DISMISSED = WRITE_SCRIPTS.groupDismissed;
const ACCOUNT_TAKE = WRITE_SCRIPTS.groupAccountTake;

/** The group events of a batch that need no read first (group-dismissed: GroupStore.dismiss). */
export type GroupEvent =
  | GroupMessageSent
  | GroupMessageRecalled
  | GroupReadAck
  | GroupUnreadSet
  | GroupCreated
  | GroupMemberJoined
  | GroupMemberLeft;

/** Fields one HSCAN step of GroupStore.dismiss asks for. */
const DISMISS_SCAN = 1_000;

/** Group types whose members keep no unread count (the vendor: their clients do not support it). */
export const GROUP_TYPES_WITHOUT_UNREAD: readonly GroupType[] = [
  'ChatRoom',
  'Meeting',
  'AVChatRoom',
];

/** A member's record in its group, as stored. */
export interface GroupMemberRecord {
  member: boolean;
  /** Seq of the member's (latest) join: the history up to it is not unread. */
  joinSeq: number;
  /** Folded from the read-ack topic: max of read acks, replaced by admin overrides. */
  ackSeq: number;
  /** Highest seq of a message the member wrote itself. */
  ownSeq: number;
  /**
   * The group's max seq when the last admin override was computed (`group-unread-set`
   * `maxSeq`): a join or own message at or below it came before the override and no longer
   * floors the read position. Absent when the override carried none (or there was none).
   */
  fence?: number;
}

/** What the gateway reads about one (group, account). */
export interface GroupMemberView {
  groupId: string;
  /** Created and not dismissed. */
  exists: boolean;
  type?: GroupType;
  name: string;
  /** The group's highest message seq projected so far (its message count). */
  maxSeq: number;
  member: boolean;
  /** The read position: groupReadSeq(record). */
  readSeq: number;
  /**
   * max(0, maxSeq − readSeq) minus the seqs in (readSeq, maxSeq] that do not count
   * (recalled, or sent with noUnread); always 0 for group types that keep no unread count.
   */
  unread: number;
}

/** Parses a stored member record ("m:j:a:s[:f]"); a missing or unreadable one is all zero. */
export function parseMemberRecord(v: string | null | undefined): GroupMemberRecord {
  const m = v ? /^([01]):(\d+):(\d+):(\d+)(?::(\d+))?$/.exec(v) : null;
  if (!m) return { member: false, joinSeq: 0, ackSeq: 0, ownSeq: 0 };
  const r: GroupMemberRecord = {
    member: m[1] === '1',
    joinSeq: Number(m[2]),
    ackSeq: Number(m[3]),
    ownSeq: Number(m[4]),
  };
  if (m[5] !== undefined) r.fence = Number(m[5]);
  return r;
}

/** The member's read position: the ack component, floored by joins and own messages after the fence. */
export function groupReadSeq(r: GroupMemberRecord): number {
  const fence = r.fence ?? -1;
  return Math.max(r.ackSeq, r.joinSeq > fence ? r.joinSeq : 0, r.ownSeq > fence ? r.ownSeq : 0);
}

/**
 * The unread count of a member record in a group (pure: unread = max(0, maxSeq − readSeq),
 * docs/projections.md), less `uncounted`: how many seqs in (readSeq, maxSeq] do not count
 * (recalled or noUnread).
 */
export function groupUnread(
  type: GroupType | undefined,
  maxSeq: number,
  r: GroupMemberRecord,
  uncounted = 0,
): number {
  if (type && GROUP_TYPES_WITHOUT_UNREAD.includes(type)) return 0;
  return Math.max(0, maxSeq - groupReadSeq(r) - uncounted);
}

// 'nc': how many seqs the group's set of seqs that do not count holds; absent = none, no ZCOUNT.
const META_FIELDS = ['max', 'type', 'name', 'state', 'nc'] as const;

/** Groups one group-states call reads at most (a call holds Redis for its whole length). */
const STATES_PER_CALL = 500;

/** Member records one HMGET of memberViews reads at most. */
const MEMBERS_PER_READ = 1_000;

/**
 * Group unread without fan-out (docs/projections.md, "Group"). Keys:
 * - `GroupKeys.state` (`<group base>:state`, hash, slot `{app:groupId}`): `max` (highest message seq), `type`,
 *   `name`, `state` ('1' created, '0' dismissed, absent = never created) and, per account
 *   that has any state in the group, a field `m:<account>` holding its record
 *   `<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]`, and `nc`, the size of:
 * - `GroupKeys.uncounted` (`<group base>:nc`, sorted set, same slot): the seqs that do
 *   not count (recalled, or sent with noUnread) above max − H, H the horizon
 *   (GROUP_UNCOUNTED_HORIZON); a member's unread subtracts those in (readSeq, max]
 *   (settle(), one ZCOUNT per group that has any). No rule from the members' read seqs
 *   could prune it exactly (an override, a fence or a late join with an older seq brings a
 *   read seq back below any such floor); the horizon is a fold of the message topic alone
 *   (group-messages.lua), so the count is exact for every member whose read seq is within H
 *   of max, and one further behind also counts the recalled and noUnread seqs at or below
 *   max − H (docs/projections.md, "The horizon").
 * - `MemberKeys.groups` (`<member base>:groups`, sorted set, slot `{app:account}`): the account's group index,
 *   score 0 after leaving (kept so account deletion can find the group to clean); while a
 *   member, its group's type class (TYPE_CLASS), or INDEX_UNKNOWN (1) when the join was
 *   applied while the group had no type (joined before created). Members are ordered by
 *   (score, group id), which is the paging order of get_joined_group_list: a page of one
 *   class, or of every class but AVChatRoom's, is one score range (joinedPage).
 *
 * A batch's messages to a group are one Lua call touching one hash field per sender plus `max`, whatever the group's size; a
 * member's unread is computed at read time: max(0, max − readSeq), readSeq = groupReadSeq().
 *
 * Why each component is kept apart (interleavings). Events are ordered only within one
 * topic and key; the group's directory events (created, dismissed, joined, left), its
 * messages, and its read-acks + admin overrides are three independent streams, and the
 * projector may apply them in any interleaving, on the live path and on a replay alike.
 * Every stream therefore writes only its own component, and each component is a fold that
 * is the same whatever the other streams did:
 * - `max` and `ownSeq` (message topic): maxima, so duplicates and reordering are harmless.
 * - `ackSeq` (read-ack topic): read acks raise it, `group-unread-set` replaces it. Both
 *   travel on one topic with the group as key, so the fold follows the log order and a
 *   replay reproduces it exactly, however the other topics interleave.
 * - `joinSeq` and the member flag (directory topic): ordered with the group's other
 *   directory events. joinSeq is a maximum: a re-join's seq is above everything before it.
 * Combining them with a max at read time is commutative. An admin override replaces the
 * ack component; whether a join or own message came before or after it is not knowable
 * from the arrival order (different topics), but it is from the seqs: the gateway puts the
 * group's max seq it saw into the event (`maxSeq`, stored as the record's fence), and a
 * join or own message at or below the fence happened before the override, so it no longer
 * floors the read position; one above it happened after and does. The fence travels with
 * the override on the read-ack topic, so every replay folds it identically. An override
 * without `maxSeq` (older producers) has no fence: joins and own messages stay floors, and
 * set_unread_msg_num N then yields min(N, messages since the join, messages after the
 * member's own last message).
 * - A read ack or own message may arrive before the join it follows: it is stored anyway
 *   (record with member 0) and counts once the join lands. Leaving keeps the components
 *   and clears the flag only: deleting them would let a late ack of the next membership be
 *   lost or an old one resurrected depending on interleaving.
 * - A join without `seq` takes the group's max as projected at that moment; that depends
 *   on how far the message topic has been applied, so only joins with `seq` replay exactly.
 * - Dismissal (dismiss(): it reads before it writes) removes the group from the index of
 *   every account with a record in it, then drops the member records (one UNLINK) and keeps
 *   max/type/name with state '0'; late messages or acks only touch fields of a group that
 *   answers as absent (readers skip dismissed groups, also between those steps).
 * - Bounded by memberships, not by history: a left member's record and its index entry at
 *   score 0 stay until the group is dismissed or the account deleted. Deleting them at the
 *   leave is not exact: a read ack or own message of the member's next membership may be
 *   applied before the leave (other topics), and deleting the record then would lose it.
 * - The account index write of a join/leave is a separate command on the account's slot
 *   (another node on a Cluster), in two steps: beside the group-side Lua, the entry at
 *   INDEX_UNKNOWN for a join or INDEX_LEFT for a leave; then, once every write of the run
 *   succeeded, a ZADD XX per account of the run's entries in event order with each join's
 *   type class, which its group-side Lua answered (nothing else writes those entries within
 *   a run: dismissal and account deletion split the batch), so the index follows the
 *   group's directory order. XX writes only entries still there: one an account deletion
 *   took between the steps (another partition) is not written back, so the race with a
 *   deletion is the one the first step alone has. A crash between the steps leaves entries
 *   of unknown type, which readers classify, and the batch uncommitted: its redelivery
 *   repeats both (each is idempotent). A group's type is fixed at its creation
 *   (a re-creation follows a dismissal, which removed every index entry of the group). account-deleted (keyed by account) is not ordered with a group's joins; a join
 *   applied after the deletion re-creates an index entry for a deleted account, which reads
 *   refuse because the account no longer exists.
 */
export class GroupStore {
  /** The horizon of the sets of seqs that do not count (StoreOptions.groupUncountedHorizon). */
  private readonly horizon: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    options: Pick<StoreOptions, 'groupUncountedHorizon'> = {},
  ) {
    this.horizon = options.groupUncountedHorizon ?? DEFAULT_GROUP_UNCOUNTED_HORIZON;
  }

  // ---- writes (projector) ---------------------------------------------------------------

  /**
   * The writes of group events, in two steps. `writes`: the group-side writes, in event
   * order per group, except that events that commute are folded into one write at the place
   * of the first: a group's messages and recalls (they only raise `max` and their senders'
   * `ownSeq`, and add seqs to the set of seqs that do not count: a recall, or a message with
   * noUnread) up to the group's next join without seq (which reads `max`), and a member's
   * read acks (a max of `ackSeq`) up to its next override. Every other event writes other
   * components or other fields, so moving a folded write before it changes nothing.
   * `writes` includes each join's and leave's account index entry (a join's of unknown
   * type). `index(replies)`: given the replies of `writes`, those entries again in event
   * order with each join's type class, which its script answered, one ZADD XX per account;
   * empty when the events have no join or leave. Run it
   * only once every write of `writes` succeeded (ProjectionStore.applyWith). A dismissal is
   * never among `events` (the caller splits the batch there: dismiss()).
   */
  writes(events: readonly GroupEvent[]): GroupWrites {
    const writes: (Write | MessageRun | AckRun)[] = [];
    const runs = new Map<string, MessageRun>();
    const acks = new Map<string, Map<string, AckRun>>();
    /** Per account index key, its entries in event order: a join's write, or null for a leave. */
    const index = new Map<string, { groupId: string; join: Write | null }[]>();
    for (const e of events) {
      const gk = this.keys.group(e.appId, e.groupId);
      const state = gk.state;
      if (e.type === 'message-sent' || e.type === 'message-recalled') {
        let run = runs.get(state);
        if (!run) {
          runs.set(state, (run = { state, uncountedKey: gk.uncounted, max: 0, senders: new Map(), uncounted: new Set() }));
          writes.push(run);
        }
        if (e.type === 'message-recalled' || e.noUnread === true) run.uncounted.add(e.seq);
        if (e.type === 'message-recalled') continue;
        if (e.seq > run.max) run.max = e.seq;
        const f = field(e.from);
        if (e.seq > (run.senders.get(f) ?? 0)) run.senders.set(f, e.seq);
        continue;
      }
      if (e.type === 'read-ack') {
        let members = acks.get(state);
        if (!members) acks.set(state, (members = new Map<string, AckRun>()));
        const f = field(e.account);
        const run = members.get(f);
        if (run) {
          if (e.readSeq > run.seq) run.seq = e.readSeq;
        } else {
          const fresh: AckRun = { state, field: f, seq: e.readSeq };
          members.set(f, fresh);
          writes.push(fresh);
        }
        continue;
      }
      if (e.type === 'group-member-joined' && e.seq === undefined) {
        runs.delete(state);
      } else if (e.type === 'group-unread-set') {
        acks.get(state)?.delete(field(e.account));
      }
      const w = this.eventWrite(state, e);
      writes.push(w);
      if (e.type === 'group-member-joined' || e.type === 'group-member-left') {
        const key = this.keys.member(e.appId, e.account).groups;
        const join = e.type === 'group-member-joined';
        // first step, beside the group-side write: the entry as a member of unknown type, or left
        writes.push(command('ZADD', [key], [join ? INDEX_UNKNOWN : INDEX_LEFT, e.groupId]));
        let entries = index.get(key);
        if (!entries) index.set(key, (entries = []));
        entries.push({ groupId: e.groupId, join: join ? w : null });
      }
    }
    const out = writes.map((w) => {
      if ('senders' in w) {
        return runScript(MESSAGES, [w.state, w.uncountedKey], [w.max, this.horizon, w.senders.size, ...w.senders.keys(), ...w.senders.values(), ...w.uncounted]);
      }
      if ('field' in w) return runScript(READ_ACK, [w.state], [w.field, w.seq]);
      return w;
    });
    if (index.size === 0) return { writes: out, index: () => [] };
    return {
      writes: out,
      index: (replies) => {
        const replyOf = new Map<Write, unknown>();
        out.forEach((w, i) => {
          if (isScript(w) && w.script === MEMBER_JOINED) replyOf.set(w, replies[i]);
        });
        return [...index].map(([key, entries]) =>
          // ZADD applies its pairs in order: a later entry for the same group wins, as in event
          // order. XX: only entries the first step wrote and that are still there, so an entry
          // an account deletion took meanwhile (another partition) is not written again.
          command('ZADD', [key], ['XX', ...entries.flatMap((x) => [x.join ? indexScore(replyOf.get(x.join)) : INDEX_LEFT, x.groupId])]),
        );
      },
    };
  }

  private eventWrite(state: string, e: Exclude<GroupEvent, GroupMessageSent | GroupMessageRecalled | GroupReadAck>): Write {
    switch (e.type) {
      case 'group-unread-set':
        return runScript(UNREAD_SET, [state], [field(e.account), e.readSeq, e.maxSeq === undefined ? '' : e.maxSeq]);
      case 'group-created':
        return runScript(CREATED, [state], [e.groupType, e.name ?? '']);
      case 'group-member-joined':
        return runScript(MEMBER_JOINED, [state], [field(e.account), e.seq === undefined ? '' : e.seq]);
      case 'group-member-left':
        return runScript(MEMBER_LEFT, [state], [field(e.account)]);
    }
  }

  /**
   * group-dismissed, in three steps (the accounts are only known once the group is read):
   * (1) read every account with a record in the group (HSCAN of its `m:` fields: members,
   * left members, and senders or readers that never joined); (2) remove the group from each
   * of their indexes (one ZREM per account, each on the account's slot, issued together);
   * (3) the dismissal script, which drops the records, and the UNLINK of the seqs that do not
   * count (the group's slot). Every step is idempotent and a redelivery repeats all three:
   * until (3) has run the records are there to be read again, and once it has, (2) had run.
   * The caller applies the batch's events before the dismissal first and those after it
   * once this is done, so a re-creation and re-join later in the batch writes its index
   * entry after the ZREMs.
   */
  async dismiss(writer: Writer, e: GroupDismissed): Promise<void> {
    const gk = this.keys.group(e.appId, e.groupId);
    const accounts: string[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(gk.state, cursor, 'MATCH', 'm:*', 'COUNT', DISMISS_SCAN);
      for (let i = 0; i < flat.length; i += 2) accounts.push(flat[i]!.slice(2));
      cursor = next;
    } while (cursor !== '0');
    if (accounts.length > 0) await writer.run([...new Set(accounts)].map((a) => command('ZREM', [this.keys.member(e.appId, a).groups], [e.groupId])));
    // the seqs that do not count go with the member records (same slot; the script drops 'nc')
    await writer.run([runScript(DISMISSED, [gk.state], []), command('UNLINK', [gk.uncounted])]);
  }

  /**
   * Removes the account's group index and its records in every group of that index. The
   * groups are only known once the index is read, so this is the one write in three steps:
   * (1) take the index (read + delete, atomic on the account's slot); (2) read the index
   * again: anything there was re-added by events applied since (an account id registered
   * again and joining), and those groups keep their records; (3) delete the record in each
   * other group (independent HDELs, one tick). Every step is idempotent, and the batch
   * commits only after all three.
   */
  async deleteAccount(writer: Writer, app: string, account: string): Promise<void> {
    const index = this.keys.member(app, account).groups;
    const [taken] = (await writer.run([runScript(ACCOUNT_TAKE, [index], [])])) as [string[]];
    if (taken.length === 0) return;
    const since = new Set(await this.redis.zrange(index, 0, -1));
    const f = field(account);
    await writer.run(taken.filter((g) => !since.has(g)).map((g) => command('HDEL', [this.keys.group(app, g).state], [f])));
  }

  // ---- reads (gateway) ------------------------------------------------------------------

  /** One (group, account): a single HMGET (and one ZCOUNT when the group has seqs that do not count). */
  async memberView(app: string, groupId: string, account: string): Promise<GroupMemberView> {
    const values = await this.redis.hmget(
      this.keys.group(app, groupId).state,
      ...META_FIELDS,
      field(account),
    );
    return (await this.settle(app, [view(groupId, values)]))[0]!;
  }

  /**
   * One (group, account) with the member's stored record, the parts its read seq is made
   * of, the seqs in (readSeq, maxSeq] that do not count (`unread explain`, at most 50) and
   * the horizon those are kept within.
   */
  async memberDetail(app: string, groupId: string, account: string): Promise<{ view: GroupMemberView; record: GroupMemberRecord; uncounted: number[]; horizon: number }> {
    const values = await this.redis.hmget(this.keys.group(app, groupId).state, ...META_FIELDS, field(account));
    const raw = view(groupId, values);
    const uncounted =
      raw.maxSeq > raw.readSeq ? (await this.redis.zrangebyscore(this.keys.group(app, groupId).uncounted, `(${raw.readSeq}`, raw.maxSeq, 'LIMIT', 0, 50)).map(Number) : [];
    const [settled] = await this.settle(app, [raw]);
    return { view: settled!, record: parseMemberRecord(values[META_FIELDS.length]), uncounted, horizon: this.horizon };
  }

  /**
   * Subtracts, from every view with unread whose group has seqs that do not count, the
   * number of them in (readSeq, maxSeq]: one ZCOUNT (O(log n)) per distinct (group, readSeq,
   * maxSeq) among such views, so members of a group that have read up to the same seq share
   * one, all issued together (one round trip per node). Views of groups without any pass
   * unchanged.
   */
  async settle(app: string, views: GroupMemberView[]): Promise<GroupMemberView[]> {
    const pending = new Map<string, { groupId: string; readSeq: number; maxSeq: number; views: GroupMemberView[] }>();
    for (const v of views) {
      if (v.unread <= 0 || (uncountedTotal.get(v) ?? 0) <= 0) continue;
      const id = `${v.readSeq}:${v.maxSeq}:${v.groupId}`;
      const p = pending.get(id);
      if (p) p.views.push(v);
      else pending.set(id, { groupId: v.groupId, readSeq: v.readSeq, maxSeq: v.maxSeq, views: [v] });
    }
    if (pending.size === 0) return views;
    const runs = [...pending.values()];
    const counts = await Promise.all(runs.map((p) => this.redis.zcount(this.keys.group(app, p.groupId).uncounted, `(${p.readSeq}`, p.maxSeq)));
    runs.forEach((p, i) => {
      for (const v of p.views) v.unread = Math.max(0, v.unread - counts[i]!);
    });
    return views;
  }

  /**
   * What joinedGroups reads of one group, for many accounts at once: one HMGET of the meta
   * fields and every account's record (split every MEMBERS_PER_READ), then settle(). Per
   * account its view, or undefined when the group is dismissed or the account not a member.
   */
  async memberViews(app: string, groupId: string, accounts: readonly string[]): Promise<(GroupMemberView | undefined)[]> {
    const key = this.keys.group(app, groupId).state;
    const reads: Promise<(string | null)[]>[] = [];
    for (let i = 0; i < accounts.length; i += MEMBERS_PER_READ) reads.push(this.redis.hmget(key, ...META_FIELDS, ...accounts.slice(i, i + MEMBERS_PER_READ).map(field)));
    const out: (GroupMemberView | undefined)[] = [];
    for (const values of await Promise.all(reads)) {
      const meta = values.slice(0, META_FIELDS.length);
      for (let j = META_FIELDS.length; j < values.length; j++) {
        const v = view(groupId, [...meta, values[j]!]);
        out.push(v.exists && v.member ? v : undefined);
      }
    }
    await this.settle(app, out.filter((v): v is GroupMemberView => v !== undefined));
    return out;
  }

  /**
   * The account's registration and every group it is a member of, ordered by group id,
   * skipping dismissed groups and groups it is no longer in: two round trips, the marker and
   * the index (the account's slot), then every group's state (states()), and a third for
   * groups with seqs that do not count (settle: one ZCOUNT each, one tick). For tools and
   * tests; get_joined_group_list pages first (joinedPage).
   */
  async joinedGroups(app: string, account: string): Promise<{ registered: boolean; groups: GroupMemberView[] }> {
    const marker = this.keys.account(app, account);
    const [exists, indexed] = await Promise.all([
      this.redis.hexists(marker.key, marker.field),
      this.redis.zrangebyscore(this.keys.member(app, account).groups, INDEX_UNKNOWN, '+inf'),
    ]);
    const ids = indexed.sort(groupIdOrder);
    const values = await this.states(app, ids, account);
    const groups = ids.map((id, i) => view(id, values[i]!)).filter((v) => v.exists && v.member);
    return { registered: exists === 1, groups: await this.settle(app, groups) };
  }

  /**
   * The meta fields and the account's record in each group's state hash, in `groupIds`
   * order: on a single Redis one read-only call per STATES_PER_CALL groups
   * (group-states.lua), on a Cluster one HMGET per group issued together (each hash is on its
   * own slot; one pipeline per node).
   */
  private async states(app: string, groupIds: readonly string[], account: string): Promise<(string | null)[][]> {
    const fields = [...META_FIELDS, field(account)];
    const keys = groupIds.map((g) => this.keys.group(app, g).state);
    if (this.redis instanceof Cluster) return Promise.all(keys.map((k) => this.redis.hmget(k, ...fields)));
    const calls: Promise<(string | null)[][]>[] = [];
    for (let i = 0; i < keys.length; i += STATES_PER_CALL) calls.push(callScript(this.redis, READ_SCRIPTS.groupStates, keys.slice(i, i + STATES_PER_CALL), fields) as Promise<(string | null)[][]>);
    return (await Promise.all(calls)).flat();
  }

  /**
   * A page of the groups the account is a member of, of the asked types, ordered by (type
   * class, group id) (indexScore), and how many there are in all, paged on the index before
   * any group is read. One round trip on the account's slot: the marker, the page
   * (ZRANGEBYSCORE … LIMIT), the count (ZCOUNT) and the entries of unknown type; then, only
   * when `read`, the state of each group of the page (states(): one read-only call on a
   * single Redis, one HMGET per group on a Cluster), and only when `unread`, settle() of
   * those. Entries of unknown type (a join applied before its group was created, or an
   * index written before entries carried the type) are classified by their group's state:
   * when there are any, each of their groups is read (states()) and kept when it
   * exists, the account is a member and its type is asked, and the page is taken from the
   * merge of those and the first `offset + limit` indexed entries of the asked classes
   * (one more ZRANGEBYSCORE), so the answer is the same as if every entry carried its type.
   */
  async joinedPage(app: string, account: string, q: JoinedPageQuery): Promise<JoinedPage> {
    const [min, max] = classRange(q);
    const index = this.keys.member(app, account).groups;
    const marker = this.keys.account(app, account);
    const end = q.limit === undefined ? -1 : q.offset + q.limit;
    const [exists, ids, total, unknown] = await Promise.all([
      this.redis.hexists(marker.key, marker.field),
      this.redis.zrangebyscore(index, min, max, 'LIMIT', q.offset, q.limit ?? -1),
      this.redis.zcount(index, min, max),
      this.redis.zrangebyscore(index, INDEX_UNKNOWN, INDEX_UNKNOWN),
    ]);
    if (exists !== 1) return { registered: false, total: 0, groups: [] };
    let page: { groupId: string; view?: GroupMemberView }[];
    let count = total;
    if (unknown.length === 0) {
      page = ids.map((groupId) => ({ groupId }));
    } else {
      const [states, flat] = await Promise.all([
        this.states(app, unknown, account),
        this.redis.zrangebyscore(index, min, max, 'WITHSCORES', 'LIMIT', 0, end),
      ]);
      const found = unknown
        .map((id, i) => view(id, states[i]!))
        .filter((v) => v.exists && v.member && v.type !== undefined && TYPE_CLASS[v.type] >= min && TYPE_CLASS[v.type] <= max);
      count += found.length;
      const merged: { groupId: string; score: number; view?: GroupMemberView }[] = found.map((v) => ({ groupId: v.groupId, score: TYPE_CLASS[v.type!], view: v }));
      for (let i = 0; i < flat.length; i += 2) merged.push({ groupId: flat[i]!, score: Number(flat[i + 1]) });
      merged.sort((x, y) => x.score - y.score || groupIdOrder(x.groupId, y.groupId));
      page = merged.slice(q.offset, end === -1 ? undefined : end).map((x) => (x.view ? { groupId: x.groupId, view: x.view } : { groupId: x.groupId }));
    }
    if (!q.read && !q.unread) return { registered: true, total: count, groups: page };
    const toRead = page.filter((p) => !p.view);
    const states = await this.states(app, toRead.map((p) => p.groupId), account);
    const read = new Map(toRead.map((p, i) => [p.groupId, view(p.groupId, states[i]!)]));
    const views = page.map((p) => p.view ?? read.get(p.groupId)!);
    if (q.unread) await this.settle(app, views);
    return { registered: true, total: count, groups: views.map((v) => ({ groupId: v.groupId, view: v })) };
  }
}

/**
 * The account index's scores (`MemberKeys.groups`): 0 once the account left; while it is a
 * member, its group's type class (TYPE_CLASS), or INDEX_UNKNOWN when the join was applied
 * while the group had no type (not created yet, or dismissed), which readers classify from
 * the group's state. A member is any score >= INDEX_UNKNOWN.
 */
export const INDEX_LEFT = 0;
export const INDEX_UNKNOWN = 1;

/**
 * Each group type's class: types the vendor treats as one type under an old and a new name
 * (Private and Work, ChatRoom and Meeting) share one; AVChatRoom's is the highest, so every
 * type but AVChatRoom is one score range of the index.
 */
export const TYPE_CLASS: Readonly<Record<GroupType, number>> = {
  Private: 2,
  Work: 2,
  Public: 3,
  ChatRoom: 4,
  Meeting: 4,
  Community: 5,
  AVChatRoom: 6,
};

/** The index score of a join whose script answered `reply` (the group's type, or '' when it had none). */
export function indexScore(reply: unknown): number {
  return typeof reply === 'string' && reply in TYPE_CLASS ? TYPE_CLASS[reply as GroupType] : INDEX_UNKNOWN;
}

/** What get_joined_group_list asks of GroupStore.joinedPage. */
export interface JoinedPageQuery {
  /** Only groups of this type's class (GroupType); absent: every type but AVChatRoom, or every type with `withHuge`. */
  type?: GroupType;
  withHuge: boolean;
  offset: number;
  /** Absent: every group from `offset` on. */
  limit?: number;
  /** Read each answered group's state (type, name, the member's record). */
  read: boolean;
  /** Also subtract the seqs that do not count from each answered group's unread (settle()); reads the state too. */
  unread: boolean;
}

/** A page of joinedPage: each group's view when it was read. */
export interface JoinedPage {
  registered: boolean;
  /** How many groups match, on every page. */
  total: number;
  groups: { groupId: string; view?: GroupMemberView }[];
}

/** The index scores a query asks for, inclusive. */
function classRange(q: Pick<JoinedPageQuery, 'type' | 'withHuge'>): [number, number] {
  if (q.type !== undefined) return [TYPE_CLASS[q.type], TYPE_CLASS[q.type]];
  return [TYPE_CLASS.Private, q.withHuge ? TYPE_CLASS.AVChatRoom : TYPE_CLASS.AVChatRoom - 1];
}

/** Group ids in Redis's order of a sorted set's members of one score: by their bytes. */
export function groupIdOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** GroupStore.writes: the group-side writes, then the account index writes made from their replies. */
export interface GroupWrites {
  writes: Write[];
  index(replies: readonly unknown[]): Write[];
}

/** How many seqs a write's reply says the horizon removed: group-messages answers that number; 0 for every other write. */
export function groupPruned(w: Write, reply: number): number {
  return isScript(w) && w.script === MESSAGES ? reply : 0;
}

/** A run of one group's messages and recalls, folded (GroupStore.writes). */
interface MessageRun {
  state: string;
  uncountedKey: string;
  max: number;
  senders: Map<string, number>;
  /** Seqs recalled, or of messages sent with noUnread. */
  uncounted: Set<number>;
}

/** A run of one member's read acks in a group, folded to their max (GroupStore.writes). */
interface AckRun {
  state: string;
  field: string;
  seq: number;
}

function field(account: string): string {
  return `m:${account}`;
}

/** How many uncounted seqs each raw view's group holds (its 'nc' field), kept beside the view for settle(). */
const uncountedTotal = new WeakMap<GroupMemberView, number>();

/** The view from the meta fields and the record, before settle() subtracts the uncounted seqs. */
function view(groupId: string, values: (string | null)[]): GroupMemberView {
  const [max, type, name, state, nc, record] = values;
  const r = parseMemberRecord(record);
  const maxSeq = Number(max ?? 0);
  const groupType = (type ?? undefined) as GroupType | undefined;
  const v: GroupMemberView = {
    groupId,
    exists: state === '1',
    type: groupType,
    name: name ?? '',
    maxSeq,
    member: r.member,
    readSeq: groupReadSeq(r),
    unread: groupUnread(groupType, maxSeq, r),
  };
  if (nc) uncountedTotal.set(v, Number(nc));
  return v;
}
