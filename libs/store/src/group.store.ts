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
import { ACCOUNT_FIELD, type Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';
import { defineReadScript, defineScript } from './scripts';

import type { Result } from 'ioredis';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    unreadGroupMessageSent(
      state: string,
      seq: string,
      senderField: string,
    ): Result<number, Context>;
    unreadGroupMessageUncounted(state: string, uncounted: string, seq: string, senderField: string): Result<number, Context>;
    unreadGroupRecall(state: string, uncounted: string, seq: string): Result<number, Context>;
    unreadGroupReadAck(state: string, field: string, readSeq: string): Result<number, Context>;
    unreadGroupUnreadSet(state: string, field: string, readSeq: string, fence: string): Result<number, Context>;
    unreadGroupMemberJoined(state: string, field: string, seq: string): Result<number, Context>;
    unreadGroupMemberLeft(state: string, field: string): Result<number, Context>;
    unreadGroupCreated(state: string, groupType: string, name: string): Result<number, Context>;
    unreadGroupDismissed(state: string): Result<number, Context>;
    unreadGroupAccountTake(index: string): Result<string[], Context>;
    unreadGroupList(counts: string, index: string, stateHead: string, stateTail: string, marker: string, member: string): Result<(string | number | null)[], Context>;
  }
}

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
 * The unread count of a member record in a group (pure: DESIGN.md, unread = max(0, maxSeq −
 * readSeq)), less `uncounted`: how many seqs in (readSeq, maxSeq] do not count (recalled or
 * noUnread; docs/projections.md).
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

// 'nc' (issue 17): how many seqs the group's uncounted set holds; absent = none, no ZCOUNT.
const META_FIELDS = ['max', 'type', 'name', 'state', 'nc'] as const;

/**
 * Group unread without fan-out (DESIGN.md). Keys:
 * - `<group base>:state` (hash, slot `{app:groupId}`): `max` (highest message seq), `type`,
 *   `name`, `state` ('1' created, '0' dismissed, absent = never created) and, per account
 *   that has any state in the group, a field `m:<account>` holding its record
 *   `<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]`.
 * - `<group base>:nc` (sorted set, same slot; issue 17): the seqs that do not count (recalled,
 *   or sent with noUnread), counted by the state hash's field `nc`; a member's unread
 *   subtracts those in (readSeq, max] (settle(), one ZCOUNT per group that has any).
 * - `<member base>:groups` (sorted set, slot `{app:account}`): the account's group index,
 *   score 1 while a member, 0 after leaving (kept so account deletion can find the group to
 *   clean), members ordered by group id, which is the paging order of get_joined_group_list.
 *
 * A group message is one Lua call touching two hash fields whatever the group's size; a
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
 * - Dismissal drops the member records (one UNLINK) and keeps max/type/name with
 *   state '0'; late messages or acks only touch fields of a group that answers as absent.
 *   Account-side indexes are not fanned out to: readers skip dismissed groups.
 * - The account index write of a join/leave is a separate command on the account's slot,
 *   issued in the same tick as the group-side Lua, so both follow the group's directory
 *   order. account-deleted (keyed by account) is not ordered with a group's joins; a join
 *   applied after the deletion re-creates an index entry for a deleted account, which reads
 *   refuse because the account no longer exists.
 */
export class GroupStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
  ) {
    defineScript(redis, 'unreadGroupMessageSent', 'group-message-sent', 1);
    defineScript(redis, 'unreadGroupMessageUncounted', 'group-message-uncounted', 2);
    defineScript(redis, 'unreadGroupRecall', 'group-recall', 2);
    defineScript(redis, 'unreadGroupReadAck', 'group-read-ack', 1);
    defineScript(redis, 'unreadGroupUnreadSet', 'group-unread-set', 1);
    defineScript(redis, 'unreadGroupMemberJoined', 'group-member-joined', 1);
    defineScript(redis, 'unreadGroupMemberLeft', 'group-member-left', 1);
    defineScript(redis, 'unreadGroupCreated', 'group-created', 1);
    defineScript(redis, 'unreadGroupDismissed', 'group-dismissed', 1);
    defineScript(redis, 'unreadGroupAccountTake', 'group-account-take', 1);
    defineReadScript(redis, 'unreadGroupList', 'group-list', 2);
  }

  /** The group's state hash. */
  stateKey(app: string, groupId: string): string {
    return `${this.keys.group(app, groupId)}:state`;
  }

  /** The account's group index. */
  indexKey(app: string, account: string): string {
    return `${this.keys.member(app, account)}:groups`;
  }

  // ---- writes (projector) ---------------------------------------------------------------

  /** The group's seqs that do not count (recalled or noUnread). */
  uncountedKey(app: string, groupId: string): string {
    return this.keys.groupUncounted(app, groupId);
  }

  messageSent(e: GroupMessageSent): Promise<unknown> {
    if (e.noUnread === true) {
      return this.redis.unreadGroupMessageUncounted(this.stateKey(e.appId, e.groupId), this.uncountedKey(e.appId, e.groupId), String(e.seq), field(e.from));
    }
    return this.redis.unreadGroupMessageSent(
      this.stateKey(e.appId, e.groupId),
      String(e.seq),
      field(e.from),
    );
  }

  /** The seq stops counting for every member: O(1), no member touched (group-recall.lua). */
  messageRecalled(e: GroupMessageRecalled): Promise<unknown> {
    return this.redis.unreadGroupRecall(this.stateKey(e.appId, e.groupId), this.uncountedKey(e.appId, e.groupId), String(e.seq));
  }

  readAck(e: GroupReadAck): Promise<unknown> {
    return this.redis.unreadGroupReadAck(
      this.stateKey(e.appId, e.groupId),
      field(e.account),
      String(e.readSeq),
    );
  }

  unreadSet(e: GroupUnreadSet): Promise<unknown> {
    return this.redis.unreadGroupUnreadSet(
      this.stateKey(e.appId, e.groupId),
      field(e.account),
      String(e.readSeq),
      e.maxSeq === undefined ? '' : String(e.maxSeq),
    );
  }

  created(e: GroupCreated): Promise<unknown> {
    return this.redis.unreadGroupCreated(
      this.stateKey(e.appId, e.groupId),
      e.groupType,
      e.name ?? '',
    );
  }

  dismissed(e: GroupDismissed): Promise<unknown> {
    // Issue 17: the uncounted set goes with the member records (same slot, same tick; the
    // script drops the 'nc' field with the rest of the state).
    return Promise.all([this.redis.unreadGroupDismissed(this.stateKey(e.appId, e.groupId)), this.redis.unlink(this.uncountedKey(e.appId, e.groupId))]);
  }

  memberJoined(e: GroupMemberJoined): Promise<unknown> {
    return Promise.all([
      this.redis.unreadGroupMemberJoined(
        this.stateKey(e.appId, e.groupId),
        field(e.account),
        e.seq === undefined ? '' : String(e.seq),
      ),
      this.redis.zadd(this.indexKey(e.appId, e.account), 1, e.groupId),
    ]);
  }

  memberLeft(e: GroupMemberLeft): Promise<unknown> {
    return Promise.all([
      this.redis.unreadGroupMemberLeft(this.stateKey(e.appId, e.groupId), field(e.account)),
      this.redis.zadd(this.indexKey(e.appId, e.account), 0, e.groupId),
    ]);
  }

  /**
   * Removes the account's group index and its records in every group of that index. The
   * groups are only known once the index is read, so this is the one write in three steps:
   * (1) take the index (read + delete, atomic on the account's slot), issued in the batch's
   * tick; (2) read the index again: anything there was re-added by events after the deletion
   * in the same batch (an account id registered again and joining), and those groups keep
   * their records; (3) delete the record in each other group (independent HDELs, one tick).
   * Every step is idempotent, and the batch commits only after all three.
   */
  async deleteAccount(app: string, account: string): Promise<void> {
    const index = this.indexKey(app, account);
    const taken = await this.redis.unreadGroupAccountTake(index);
    if (taken.length === 0) return;
    const since = new Set(await this.redis.zrange(index, 0, -1));
    const f = field(account);
    await Promise.all(
      taken.filter((g) => !since.has(g)).map((g) => this.redis.hdel(this.stateKey(app, g), f)),
    );
  }

  // ---- reads (gateway) ------------------------------------------------------------------

  /** One (group, account): a single HMGET (and one ZCOUNT when the group has seqs that do not count). */
  async memberView(app: string, groupId: string, account: string): Promise<GroupMemberView> {
    const values = await this.redis.hmget(
      this.stateKey(app, groupId),
      ...META_FIELDS,
      field(account),
    );
    return (await this.settle(app, [view(groupId, values)]))[0]!;
  }

  /**
   * One (group, account) with the member's stored record, the parts its read seq is made
   * of, and the seqs in (readSeq, maxSeq] that do not count (`unread explain`, at most 50).
   */
  async memberDetail(app: string, groupId: string, account: string): Promise<{ view: GroupMemberView; record: GroupMemberRecord; uncounted: number[] }> {
    const values = await this.redis.hmget(this.stateKey(app, groupId), ...META_FIELDS, field(account));
    const raw = view(groupId, values);
    const [settled] = await this.settle(app, [raw]);
    const uncounted = raw.maxSeq > raw.readSeq
      ? (await this.redis.zrangebyscore(this.uncountedKey(app, groupId), `(${raw.readSeq}`, raw.maxSeq, 'LIMIT', 0, 50)).map(Number)
      : [];
    return { view: settled!, record: parseMemberRecord(values[META_FIELDS.length]), uncounted };
  }

  /**
   * Subtracts, from every view with unread whose group has seqs that do not count, the
   * number of them in (readSeq, maxSeq]: one ZCOUNT per such group (O(log n)), issued
   * together (one round trip per node). Views of groups without any pass unchanged.
   */
  async settle(app: string, views: GroupMemberView[]): Promise<GroupMemberView[]> {
    const pending = views.filter((v) => v.unread > 0 && (uncountedTotal.get(v) ?? 0) > 0);
    if (pending.length === 0) return views;
    const counts = await Promise.all(pending.map((v) => this.redis.zcount(this.uncountedKey(app, v.groupId), `(${v.readSeq}`, v.maxSeq)));
    pending.forEach((v, i) => (v.unread = Math.max(0, v.unread - counts[i]!)));
    return views;
  }

  /**
   * The account's registration and the groups it is a member of, ordered by group id,
   * skipping dismissed groups and groups it is no longer in. On a single Redis one Lua call
   * (group-list.lua); on a Redis Cluster, where the groups live on other slots, two round
   * trips: the marker and the index (the account's slot), then one HMGET per group issued
   * in one tick (one pipeline per node).
   */
  async joinedGroups(app: string, account: string): Promise<{ registered: boolean; groups: GroupMemberView[] }> {
    const f = field(account);
    const marker = this.keys.account(app, account);
    const index = this.indexKey(app, account);
    const rows: { id: string; values: (string | null)[] }[] = [];
    let registered: boolean;
    if (this.redis instanceof Cluster) {
      const [exists, ids] = await Promise.all([this.redis.hexists(marker.key, marker.field), this.redis.zrangebyscore(index, 1, 1)]);
      registered = exists === 1;
      const values = await Promise.all(ids.map((g) => this.redis.hmget(this.stateKey(app, g), ...META_FIELDS, f)));
      ids.forEach((id, i) => rows.push({ id, values: values[i]! }));
    } else {
      // The state key around the group id, as Keyspace builds it (esc leaves \u0000 alone).
      const [head, tail] = this.stateKey(app, '\u0000').split('\u0000') as [string, string];
      const reply = await this.redis.unreadGroupList(marker.key, index, head, tail, ACCOUNT_FIELD, f);
      registered = Number(reply[0]) === 1;
      const width = META_FIELDS.length + 1; // group-list.lua: the meta fields and the record, after the id
      for (let i = 1; i + width < reply.length; i += width + 1) {
        rows.push({ id: String(reply[i]), values: reply.slice(i + 1, i + width + 1).map((v) => (v === null ? null : String(v))) });
      }
    }
    const groups = rows.map((r) => view(r.id, r.values)).filter((v) => v.exists && v.member);
    return { registered, groups: await this.settle(app, groups) };
  }
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
