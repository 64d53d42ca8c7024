import type { UnreadEvent } from '@app/contracts';
import { Cluster, type Result } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { BatchWriter } from './batch-writer';
import { ChannelStore } from './channel.store';
import { C2cStore } from './c2c.store';
import { DirectoryStore } from './directory.store';
import { GroupStore } from './group.store';
import { ReceiveOptionStore } from './receive-option.store';
import { Keyspace, generationPrefix } from './keyspace';
import type { RedisClient } from './redis.factory';
import { defineScript } from './scripts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    unreadPosition(positions: string, field: string, prev: string, last: string): Result<string | number, Context>;
  }
}

/** What `recordPosition` found: recorded, or Redis holds less than the previous batch (`held`: -1 none). */
export type PositionResult = { ok: true } | { ok: false; held: bigint; none: boolean };

export interface StoreOptions {
  /** How long QChat mention bodies and index entries are kept (ms). */
  mentionRetentionMs: number;
}

/**
 * The Redis projections: one store per family, sharing a client and a keyspace.
 *
 * Writes: `apply(event)` folds one validated event into Redis. Every family's write is one
 * Lua call (or independent commands issued in the same tick), so the writes of a batch,
 * issued together, reach each Redis node in event order through ioredis auto-pipelining,
 * and every write is idempotent and commutes with the writes of other topics (DESIGN.md).
 */
export class ProjectionStore {
  private readonly byGeneration = new Map<string, ProjectionStore>();
  readonly c2c: C2cStore;
  readonly group: GroupStore;
  readonly channel: ChannelStore;
  readonly directory: DirectoryStore;
  readonly receiveOptions: ReceiveOptionStore;
  private readonly writer: BatchWriter;
  private folded?: ProjectionStore;

  constructor(
    readonly redis: RedisClient,
    readonly keys: Keyspace,
    readonly options: StoreOptions,
    writer?: BatchWriter,
  ) {
    this.writer = writer ?? new BatchWriter(redis);
    this.c2c = new C2cStore(redis, keys);
    this.group = new GroupStore(redis, keys);
    this.channel = new ChannelStore(redis, keys, options);
    this.directory = new DirectoryStore(redis, keys, this.c2c, this.group, this.channel);
    this.receiveOptions = new ReceiveOptionStore(redis, keys);
    defineScript(redis, 'unreadPosition', 'positions', 1);
  }

  /** The same stores writing through the batch writer (folded calls); built once. */
  private get batched(): ProjectionStore {
    this.folded ??= new ProjectionStore(this.writer.asClient(), this.keys, this.options, this.writer);
    return this.folded;
  }

  /**
   * The same projections pinned to one generation under `base` (REDIS_KEY_PREFIX): the
   * projector applies each batch to an explicit generation (docs/reliability.md).
   */
  forGeneration(base: string, generation: number): ProjectionStore {
    const prefix = generationPrefix(base, generation);
    let store = this.byGeneration.get(prefix);
    if (!store) {
      store = new ProjectionStore(this.redis, new Keyspace(prefix), this.options, this.writer);
      this.byGeneration.set(prefix, store);
    }
    return store;
  }

  apply(event: UnreadEvent): Promise<unknown> {
    switch (event.type) {
      case 'message-sent':
        if (event.scope === 'c2c') return this.c2c.messageSent(event);
        if (event.scope === 'group') return this.group.messageSent(event);
        return this.channel.messageSent(event);
      case 'message-recalled': // issue 17: one Lua call each (c2c-recall.lua, group-recall.lua)
        return event.scope === 'c2c' ? this.c2c.messageRecalled(event) : this.group.messageRecalled(event);
      case 'receive-option-set':
        return this.receiveOptions.set(event);
      case 'read-ack':
        if (event.scope === 'c2c') return this.c2c.readAck(event);
        if (event.scope === 'group') return this.group.readAck(event);
        return this.channel.readAck(event);
      case 'group-unread-set':
        return this.group.unreadSet(event);
      case 'channel-mention':
        return this.channel.mention(event);
      case 'channel-message-updated':
        return this.channel.messageUpdated(event);
      case 'account-registered':
        return this.directory.accountRegistered(event);
      case 'account-deleted':
        return this.directory.accountDeleted(event);
      case 'group-created':
        return this.group.created(event);
      case 'group-dismissed':
        return this.group.dismissed(event);
      case 'group-member-joined':
        return this.group.memberJoined(event);
      case 'group-member-left':
        return this.group.memberLeft(event);
      case 'qchat-server-member-joined':
        return this.channel.serverMemberJoined(event);
      case 'qchat-server-member-left':
        return this.channel.serverMemberLeft(event);
      case 'qchat-channel-created':
        return this.channel.channelCreated(event);
      case 'qchat-channel-deleted':
        return this.channel.channelDeleted(event);
      case 'qchat-role-member-added':
        return this.channel.roleMemberAdded(event);
      case 'qchat-role-member-removed':
        return this.channel.roleMemberRemoved(event);
    }
  }

  /** Applies events: all writes issued in one tick, resolved when Redis acknowledged every one. */
  async applyAll(events: readonly UnreadEvent[]): Promise<void> {
    await Promise.all(events.map((e) => this.apply(e)));
  }

  /**
   * The projector's batch path: the same writes as applyAll, folded by the batch writer
   * with every other write issued in the same tick into one call per Redis node.
   */
  async applyBatch(events: readonly UnreadEvent[]): Promise<void> {
    await this.batched.applyAll(events);
  }

  /**
   * Records that this generation holds `partition`'s events up to `last`, provided it holds
   * them up to `prev` (the previous batch's last offset; -1 for none). Issue it only after
   * every write of the batch was acknowledged (positions.lua).
   */
  async recordPosition(topic: string, partition: number, prev: bigint, last: bigint): Promise<PositionResult> {
    const field = positionField(topic, partition);
    const replies = await Promise.all(
      this.positionKeys().map((key) => this.batched.redis.unreadPosition(key, field, String(prev), String(last))),
    );
    let result: PositionResult = { ok: true };
    for (const r of replies) {
      if (r === 'ok') continue;
      const held = Number(r) < 0 ? -1n : BigInt(r);
      if (result.ok || held < result.held) result = { ok: false, held, none: Number(r) === -2 };
    }
    return result;
  }

  /** What this generation holds per `topic/partition` (-1: none); on a cluster the least any master holds. */
  async positions(partitions: readonly { topic: string; partition: number }[]): Promise<bigint[]> {
    if (partitions.length === 0) return [];
    const fields = partitions.map((p) => positionField(p.topic, p.partition));
    const perKey = await Promise.all(this.positionKeys().map((key) => this.writer.target.hmget(key, ...fields)));
    return fields.map((_, i) =>
      perKey.reduce<bigint>((min, vs, k) => {
        const v = vs[i] === null || vs[i] === undefined ? -1n : BigInt(vs[i]);
        return k === 0 || v < min ? v : min;
      }, -1n),
    );
  }

  /**
   * Records positions only where this generation has none yet for the partition (HSETNX):
   * for a deployment that ran before positions existed (`unread positions adopt`). Returns
   * how many fields were set.
   */
  async adoptPositions(entries: readonly { topic: string; partition: number; held: bigint }[]): Promise<number> {
    const set = await Promise.all(
      this.positionKeys().flatMap((key) =>
        entries.map((e) => this.writer.target.hsetnx(key, positionField(e.topic, e.partition), String(e.held))),
      ),
    );
    return set.reduce<number>((a, b) => a + b, 0);
  }

  /**
   * The positions hashes: one on a single Redis; on Redis Cluster one per master, each under
   * the first tag `p<i>` whose slot that master serves, so every master records, after its
   * own writes, how far it holds each partition (a promoted replica of any master is seen).
   */
  private positionKeys(): string[] {
    const client = this.writer.target;
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

export function positionField(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
