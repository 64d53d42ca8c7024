import type { ReceiveOptionSetEvent, UnreadEvent } from '@app/contracts';
import { Cluster } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { BatchWriter } from './batch-writer';
import { ChannelStore } from './channel.store';
import type { ChannelEvent } from './channel.projection';
import { C2cStore, c2cPruned, isC2cApply, type C2cEvent } from './c2c.store';
import { DirectoryStore } from './directory.store';
import { GroupStore, groupPruned, type GroupEvent } from './group.store';
import { ReceiveOptionStore } from './receive-option.store';
import { Keyspace, generationPrefix } from './keyspace';
import { PruningTally } from './pruning';
import type { RedisClient } from './redis.factory';
import type { StoreOptions } from './store-options';
import { WRITE_SCRIPTS } from './scripts';
import { DirectWriter, runScript, type Write, type Writer } from './write';

export type { StoreOptions } from './store-options';

const POSITIONS = WRITE_SCRIPTS.positions;

/**
 * The writes of a run of events. `second`, when present, makes from the replies of `writes`
 * the writes to run once those all succeeded: the account index entries of group joins and
 * leaves (their scores come from the joins' replies). Nothing else writes those entries
 * within a run (dismissal and account deletion split the batch), so running them after all
 * of `writes`, in event order among themselves, gives the same index; a crash between the two
 * steps leaves the batch uncommitted, and its redelivery repeats both (each is idempotent).
 */
export interface WritePlan {
  writes: Write[];
  second?: (replies: readonly unknown[]) => Write[];
}

/** What `recordPosition` found: recorded, or Redis holds less than the previous batch (`held`: -1 none). */
export type PositionResult = { ok: true } | { ok: false; held: bigint };

/** A batch's place in its partition: its last offset and the previous batch's (-1n: none). */
export interface BatchPosition {
  topic: string;
  partition: number;
  prev: bigint;
  last: bigint;
}

/**
 * The Redis projections: one store per family, sharing a client and a keyspace.
 *
 * Writes (docs/projections.md, "The write path"): each family turns events into writes
 * (`Write`: a script or a command, its keys, its arguments), folding the events of a batch
 * that touch the same projection; a Writer carries them. `applyBatch` (the projector) folds
 * every write of a tick into one call per Redis node (BatchWriter); `apply`/`applyAll` send
 * each write on its own (DirectWriter). Every write is idempotent and commutes with the
 * writes of other topics (docs/projections.md), so any batch may be applied again.
 * account-deleted and group-dismissed read before they write: each splits a batch, the
 * events before it applied first, the events after it once it is done.
 */
export class ProjectionStore {
  private readonly byGeneration = new Map<string, ProjectionStore>();
  readonly c2c: C2cStore;
  readonly group: GroupStore;
  readonly channel: ChannelStore;
  readonly directory: DirectoryStore;
  readonly receiveOptions: ReceiveOptionStore;
  private readonly direct: Writer;

  /**
   * @param batches the batch writer `applyBatch` folds with (the projector's, shared by every
   *   generation's store: `forGeneration`). Without one the store builds its own on the first
   *   `applyBatch` (tools and tests); a store that never batches, the gateway's, has none.
   * @param pruning what the writes pruned, shared by every generation's store (the projector's metrics read it)
   */
  constructor(
    readonly redis: RedisClient,
    readonly keys: Keyspace,
    readonly options: StoreOptions,
    private batches?: BatchWriter,
    readonly pruning: PruningTally = new PruningTally(),
  ) {
    this.direct = new DirectWriter(redis);
    this.c2c = new C2cStore(redis, keys, options.c2cUnreadCap);
    this.group = new GroupStore(redis, keys, options);
    this.channel = new ChannelStore(redis, keys, options);
    this.directory = new DirectoryStore(redis, keys, this.c2c, this.group, this.channel);
    this.receiveOptions = new ReceiveOptionStore(redis, keys);
  }

  /**
   * The same projections pinned to one generation under `base` (REDIS_KEY_PREFIX): the
   * projector applies each batch to an explicit generation (docs/reliability.md).
   */
  forGeneration(base: string, generation: number): ProjectionStore {
    const prefix = generationPrefix(base, generation);
    let store = this.byGeneration.get(prefix);
    if (!store) {
      store = new ProjectionStore(this.redis, new Keyspace(prefix), this.options, this.batches, this.pruning);
      this.byGeneration.set(prefix, store);
    }
    return store;
  }

  /**
   * The writes of events that need no read first (every event but account-deleted and
   * group-dismissed), for events whose writes need no second step (no group join or leave:
   * plan()); throws for others, whose account index writes would be missing.
   */
  writes(events: readonly UnreadEvent[]): Write[] {
    const p = this.plan(events);
    if (p.second) throw new Error('these events write in two steps (ProjectionStore.plan)');
    return p.writes;
  }

  /**
   * The writes of events that need no read first (every event but account-deleted and
   * group-dismissed): each family folds its own, in event order where order matters. When
   * the events join or leave groups, `second` makes, from the replies of `writes`, the
   * account index writes (GroupStore.writes), to run once `writes` all succeeded.
   */
  plan(events: readonly UnreadEvent[]): WritePlan {
    const c2c: C2cEvent[] = [];
    const group: GroupEvent[] = [];
    const channel: ChannelEvent[] = [];
    const options: ReceiveOptionSetEvent[] = [];
    const other: Write[] = [];
    for (const e of events) {
      switch (e.type) {
        case 'message-recalled':
          if (e.scope === 'c2c') c2c.push(e);
          else group.push(e);
          break;
        case 'receive-option-set':
          options.push(e);
          break;
        case 'message-sent':
        case 'read-ack':
          if (e.scope === 'c2c') c2c.push(e);
          else if (e.scope === 'group') group.push(e);
          else channel.push(e);
          break;
        case 'group-unread-set':
        case 'group-created':
        case 'group-member-joined':
        case 'group-member-left':
          group.push(e);
          break;
        case 'channel-mention':
        case 'channel-message-updated':
          channel.push(e);
          break;
        case 'account-registered':
          other.push(...this.directory.registeredWrites(e));
          break;
        case 'account-deleted':
        case 'group-dismissed':
          throw new Error(`${e.type} is applied on its own (ProjectionStore.applyWith)`);
        case 'qchat-server-member-joined':
        case 'qchat-server-member-left':
        case 'qchat-channel-created':
        case 'qchat-channel-deleted':
        case 'qchat-role-member-added':
        case 'qchat-role-member-removed':
          other.push(...this.channel.membershipWrites(e));
          break;
      }
    }
    // concatenated with push, not spread (the iterator protocol per write showed in the profile)
    const writes = c2c.length > 0 ? this.c2c.writes(c2c) : [];
    const append = (more: readonly Write[]) => {
      for (const w of more) writes.push(w);
    };
    let second: WritePlan['second'];
    if (group.length > 0) {
      const g = this.group.writes(group);
      const from = writes.length;
      append(g.writes);
      if (group.some((e) => e.type === 'group-member-joined' || e.type === 'group-member-left')) second = (replies) => g.index(replies.slice(from, from + g.writes.length));
    }
    if (channel.length > 0) append(this.channel.writes(channel));
    if (options.length > 0) append(this.receiveOptions.writes(options));
    append(other);
    return { writes, second };
  }

  /** Applies one event, one Redis call per write. */
  async apply(event: UnreadEvent): Promise<void> {
    await this.applyWith(this.direct, [event]);
  }

  /** Applies events, one Redis call per (folded) write; resolved when Redis acknowledged every one. */
  async applyAll(events: readonly UnreadEvent[]): Promise<void> {
    await this.applyWith(this.direct, events);
  }

  /**
   * The projector's batch path: the same writes as applyAll, folded by the batch writer
   * with every other write issued in the same tick into one call per Redis node. With `at`,
   * also records the batch's position (as recordPosition does) once its writes succeeded:
   * in the same call as its last writes when they all share one (BatchWriter, `after`).
   */
  async applyBatch(events: readonly UnreadEvent[], at?: BatchPosition): Promise<PositionResult> {
    const after = at ? this.positionWrites(at) : [];
    return positionResult(await this.applyWith(this.batchWriter(), events, after));
  }

  private batchWriter(): BatchWriter {
    return (this.batches ??= new BatchWriter(this.redis));
  }

  /** Applies `events`, then runs `after` once all their writes succeeded; resolves with `after`'s replies. */
  private async applyWith(writer: Writer, events: readonly UnreadEvent[], after: readonly Write[] = []): Promise<unknown[]> {
    let from = 0;
    for (let i = 0; i <= events.length; i++) {
      const e = events[i];
      if (e === undefined) {
        const p = i > from ? this.plan(events.slice(from, i)) : { writes: [] };
        if (!p.second) {
          const replies = await writer.run(p.writes, after);
          this.tally(p.writes, replies);
          return replies.slice(p.writes.length);
        }
        const replies = await writer.run(p.writes);
        this.tally(p.writes, replies);
        const index = p.second(replies);
        return (await writer.run(index, after)).slice(index.length);
      }
      if (e.type !== 'account-deleted' && e.type !== 'group-dismissed') continue;
      if (i > from) {
        const p = this.plan(events.slice(from, i));
        const replies = await writer.run(p.writes);
        this.tally(p.writes, replies);
        if (p.second) await writer.run(p.second(replies));
      }
      if (e.type === 'account-deleted') await this.directory.accountDeleted(writer, e);
      else await this.group.dismiss(writer, e);
      from = i + 1;
    }
    return [];
  }

  /** Adds what the writes' replies say they pruned to `pruning` (a write that pruned nothing answers a number). */
  private tally(writes: readonly Write[], replies: readonly unknown[]): void {
    for (let i = 0; i < writes.length; i++) {
      const reply = replies[i];
      if (typeof reply === 'number') {
        this.pruning.pruned.group_uncounted_seq += groupPruned(writes[i]!, reply);
        continue;
      }
      if (typeof reply !== 'object' || reply === null || !isC2cApply(writes[i]!)) continue;
      const p = c2cPruned(reply);
      if (!p) continue;
      this.pruning.pruned.c2c_unread_id += p.ids;
      this.pruning.pruned.c2c_tombstone += p.tombstones;
      this.pruning.c2cCapped += p.capped;
    }
  }

  /**
   * `unread prune-unregistered` for one owner (C2cStore.pruneUnregistered): its one-to-one
   * keys go when it was never registered and nothing of it is at or after `cutoffMs`.
   */
  pruneUnregisteredOwner(app: string, owner: string, cutoffMs: number, check = false): ReturnType<C2cStore['pruneUnregistered']> {
    return this.c2c.pruneUnregistered(this.direct, app, owner, cutoffMs, check);
  }

  /**
   * Records that this generation holds `partition`'s events up to `last`, provided it holds
   * them up to `prev` (the previous batch's last offset; -1 for none). Issue it only after
   * every write of the batch was acknowledged (positions.lua).
   */
  async recordPosition(topic: string, partition: number, prev: bigint, last: bigint): Promise<PositionResult> {
    return positionResult(await this.batchWriter().run(this.positionWrites({ topic, partition, prev, last })));
  }

  /** positions.lua on every positions hash (one per master on a Cluster). */
  private positionWrites(at: BatchPosition): Write[] {
    const field = positionField(at.topic, at.partition);
    return this.positionKeys().map((key) => runScript(POSITIONS, [key], [field, String(at.prev), String(at.last)]));
  }

  /** What this generation holds per `topic/partition` (-1: none); on a cluster the least any master holds. */
  async positions(partitions: readonly { topic: string; partition: number }[]): Promise<bigint[]> {
    if (partitions.length === 0) return [];
    const fields = partitions.map((p) => positionField(p.topic, p.partition));
    const perKey = await Promise.all(this.positionKeys().map((key) => this.redis.hmget(key, ...fields)));
    return fields.map((_, i) =>
      perKey.reduce<bigint>((min, vs, k) => {
        const v = vs[i] === null || vs[i] === undefined ? -1n : BigInt(vs[i]);
        return k === 0 || v < min ? v : min;
      }, -1n),
    );
  }

  /**
   * The positions hashes: one on a single Redis; on Redis Cluster one per master, each under
   * the first tag `p<i>` whose slot that master serves, so every master records, after its
   * own writes, how far it holds each partition (a promoted replica of any master is seen).
   */
  private positionKeys(): string[] {
    const client = this.redis;
    if (!(client instanceof Cluster)) return [this.keys.positions()];
    const masters = new Set(client.nodes('master').map((n) => `${n.options.host}:${n.options.port}`));
    const keys: string[] = [];
    for (let i = 0; masters.size > 0 && i < 100_000; i++) {
      const tag = `p${i}`;
      const owner = client.slots[tagSlot(tag)]?.[0];
      if (owner !== undefined && masters.delete(owner)) keys.push(this.keys.positions(tag));
    }
    return keys;
  }
}

const tagSlots = new Map<string, number>();
function tagSlot(tag: string): number {
  let slot = tagSlots.get(tag);
  if (slot === undefined) tagSlots.set(tag, (slot = calculateSlot(tag)));
  return slot;
}

/** positions.lua's replies as one result: recorded everywhere, or the least any hash holds. */
function positionResult(replies: readonly unknown[]): PositionResult {
  let result: PositionResult = { ok: true };
  for (const r of replies) {
    if (r === 'ok') continue;
    const held = Number(r) < 0 ? -1n : BigInt(r as string | number);
    if (result.ok || held < result.held) result = { ok: false, held };
  }
  return result;
}

export function positionField(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
