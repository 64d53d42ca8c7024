import type { C2cMessageRecalled, C2cMessageSent, C2cReadAck } from '@app/contracts';
import { ACCOUNT_FIELD, type Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';
import { defineReadScript, defineScript } from './scripts';

import { Cluster, type Result } from 'ioredis';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    unreadC2cMessage(zset: string, reads: string, counts: string, recalled: string, peer: string, msgId: string, time: number): Result<number, Context>;
    unreadC2cRecall(zset: string, reads: string, counts: string, recalled: string, peer: string, msgId: string, time: number): Result<number, Context>;
    unreadC2cRead(zset: string, reads: string, counts: string, peer: string, readTime: number): Result<number, Context>;
    unreadC2cDelete(reads: string, counts: string, zsetPrefix: string): Result<number, Context>;
    unreadC2cPeers(numKeys: number, ...keysAndArgs: string[]): Result<(string | number | null)[], Context>;
  }
}

/** One peer of an owner, as `unread explain` shows it. */
export interface C2cPeerState {
  peer: string;
  /** The count the gateway answers. */
  unread: number;
  /** The owner's read time for this peer (messages at or before it never count); absent = never read. */
  readTime?: number;
  /** The unread message ids (oldest first, at most `messageLimit`), when asked for. */
  messages?: { msgId: string; time: number }[];
}

/** Field of the counts hash that holds the owner's total (account ids are never empty). */
const TOTAL = '';

/**
 * One-to-one (c2c) unread projection (DESIGN.md). For each owner, under the hash tag
 * `{app:owner}`:
 * - `<base>:z:<peer>`: zset of the owner's unread message ids from that peer, scored by time;
 * - `<base>:r`: hash peer → the owner's read time for that peer (a max);
 * - `<base>:n`: hash peer → unread count from that peer, field `''` → the total, and the
 *   account's registration marker (ACCOUNT_FIELD, written by DirectoryStore).
 * - `<base>:x` (issue 17): zset of tombstones `<peer>\n<msgId>` → time, for messages recalled
 *   while still unread or before they arrived: a recalled message never counts again.
 * Every write is one Lua call that keeps the three in step: duplicates count once, a message
 * at or before the read time never counts, an ack subtracts exactly what it removed. Fields
 * and zsets that reach zero are removed, so an owner with nothing unread costs only its read
 * times. A message counts only for its recipient; a message to oneself counts for no one.
 */
export class C2cStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
  ) {
    // Recall (issue 17): c2c-message.lua's 4th key is the owner's tombstones (c2c-recall.lua).
    defineScript(redis, 'unreadC2cMessage', 'c2c-message', 4);
    defineScript(redis, 'unreadC2cRecall', 'c2c-recall', 4);
    defineScript(redis, 'unreadC2cRead', 'c2c-read', 3);
    defineScript(redis, 'unreadC2cDelete', 'c2c-delete', 2);
    // Its number of keys varies with the peers (given as the first argument).
    defineReadScript(redis, 'unreadC2cPeers', 'c2c-peers', 'variable');
  }

  /** Counts the message for its recipient (`to`), with `from` as the peer; a `noUnread` message counts for no one (no write). */
  messageSent(e: C2cMessageSent): Promise<number> {
    if (e.from === e.to || e.noUnread === true) return Promise.resolve(0);
    const base = this.keys.c2c(e.appId, e.to);
    return this.redis.unreadC2cMessage(`${base}:z:${e.from}`, `${base}:r`, `${base}:n`, this.keys.c2cRecalled(e.appId, e.to), e.from, e.msgId, e.time);
  }

  /** The message stops counting for its recipient, before or after it is applied (c2c-recall.lua). */
  messageRecalled(e: C2cMessageRecalled): Promise<number> {
    if (e.from === e.to) return Promise.resolve(0);
    const base = this.keys.c2c(e.appId, e.to);
    return this.redis.unreadC2cRecall(`${base}:z:${e.from}`, `${base}:r`, `${base}:n`, this.keys.c2cRecalled(e.appId, e.to), e.from, e.msgId, e.time);
  }

  /** The owner's tombstones from `peer` (`unread explain`): recalled message ids with their times, oldest first. */
  async recalled(app: string, owner: string, peer: string, limit = 50): Promise<{ msgId: string; time: number }[]> {
    const flat = await this.redis.zrange(this.keys.c2cRecalled(app, owner), 0, -1, 'WITHSCORES');
    const out: { msgId: string; time: number }[] = [];
    for (let i = 0; i + 1 < flat.length && out.length < limit; i += 2) {
      const [p, msgId] = flat[i]!.split('\n', 2);
      if (p === peer && msgId !== undefined) out.push({ msgId, time: Number(flat[i + 1]) });
    }
    return out;
  }

  /** `account` read everything from `peer` up to `readTime`. */
  readAck(e: C2cReadAck): Promise<number> {
    const base = this.keys.c2c(e.appId, e.account);
    return this.redis.unreadC2cRead(`${base}:z:${e.peer}`, `${base}:r`, `${base}:n`, e.peer, e.readTime);
  }

  /** Removes every one-to-one key of the account (as owner), its tombstones and receive options with them. */
  deleteAccount(app: string, account: string): Promise<number> {
    const base = this.keys.c2c(app, account);
    // Issue 17: the tombstones and receive options share the owner's slot; deleted in the same tick.
    const extra = this.redis.del(this.keys.c2cRecalled(app, account), this.keys.receiveOptions(app, account));
    return Promise.all([this.redis.unreadC2cDelete(`${base}:r`, `${base}:n`, `${base}:z:`), extra]).then(([n, m]) => n + m);
  }

  /**
   * The owner's registration and total unread over every one-to-one conversation: one HMGET
   * on the owner's slot (existence is a field of the same hash, Keyspace.account).
   * `registered` is false when the account is not registered per account (see
   * DirectoryStore for the fallback to the previous layout).
   */
  async total(app: string, owner: string): Promise<{ registered: boolean; total: number }> {
    const [marker, total] = await this.redis.hmget(this.keys.c2cCounts(app, owner), ACCOUNT_FIELD, TOTAL);
    return { registered: marker !== null && marker !== undefined, total: count(total) };
  }

  /**
   * What the projection holds for an owner (`unread explain`): the total, and per peer the
   * count and read time; with `peer`, only that peer, with its unread message ids.
   */
  async describe(app: string, owner: string, peer?: string, messageLimit = 50): Promise<{ total: number; peers: C2cPeerState[] }> {
    const base = this.keys.c2c(app, owner);
    const [counts, reads] = await Promise.all([this.redis.hgetall(`${base}:n`), this.redis.hgetall(`${base}:r`)]);
    const names = peer !== undefined ? [peer] : [...new Set([...Object.keys(counts), ...Object.keys(reads)])].filter((p) => p !== TOTAL && p !== ACCOUNT_FIELD).sort();
    const peers: C2cPeerState[] = names.map((p) => {
      const state: C2cPeerState = { peer: p, unread: Math.max(0, Number(counts[p] ?? 0)) };
      if (reads[p] !== undefined) state.readTime = Number(reads[p]);
      return state;
    });
    if (peer !== undefined) {
      const flat = await this.redis.zrange(`${base}:z:${peer}`, 0, messageLimit - 1, 'WITHSCORES');
      const messages: { msgId: string; time: number }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) messages.push({ msgId: flat[i]!, time: Number(flat[i + 1]) });
      peers[0]!.messages = messages;
    }
    return { total: Math.max(0, Number(counts[TOTAL] ?? 0)), peers };
  }

  /** The owner's registration and its unread from each peer, in the order given (one HMGET). */
  async perPeer(app: string, owner: string, peers: readonly string[]): Promise<{ registered: boolean; counts: number[] }> {
    const [marker, ...vs] = await this.redis.hmget(this.keys.c2cCounts(app, owner), ACCOUNT_FIELD, ...peers);
    return { registered: marker !== null && marker !== undefined, counts: vs.map(count) };
  }

  /**
   * perPeer plus each peer's registration (per account, not counting the fallback to the
   * earlier per-tenant set: DirectoryStore.legacyExists). On a single Redis one Lua call
   * (c2c-peers.lua); on a Redis Cluster, where the peers live on other slots, one HMGET and
   * one HEXISTS per peer issued together (one round trip per node).
   */
  async perPeerWithPeers(
    app: string,
    owner: string,
    peers: readonly string[],
  ): Promise<{ registered: boolean; counts: number[]; peersRegistered: boolean[] }> {
    if (this.redis instanceof Cluster) {
      const [own, ...exist] = await Promise.all([
        this.perPeer(app, owner, peers),
        ...peers.map((p) => this.redis.hexists(this.keys.c2cCounts(app, p), ACCOUNT_FIELD)),
      ]);
      return { ...own, peersRegistered: exist.map((e) => e === 1) };
    }
    const keys = [this.keys.c2cCounts(app, owner), ...peers.map((p) => this.keys.c2cCounts(app, p))];
    const reply = await this.redis.unreadC2cPeers(keys.length, ...keys, ACCOUNT_FIELD, ...peers);
    const n = peers.length;
    return {
      registered: Number(reply[0]) === 1,
      counts: reply.slice(1, n + 1).map((v) => count(v === null ? null : String(v))),
      peersRegistered: reply.slice(n + 1, 2 * n + 1).map((v) => Number(v) === 1),
    };
  }

  /**
   * The owner's registration, total, and the `limit` peers with the most unread (ties by
   * peer id), for the account summary: one HGETALL of the counts hash, which holds only
   * peers with something unread.
   */
  async top(app: string, owner: string, limit: number): Promise<{ registered: boolean; total: number; peers: { peer: string; unread: number }[] }> {
    const all = await this.redis.hgetall(this.keys.c2cCounts(app, owner));
    const peers: { peer: string; unread: number }[] = [];
    for (const [field, v] of Object.entries(all)) {
      if (field === TOTAL || field === ACCOUNT_FIELD) continue;
      const unread = count(v);
      if (unread > 0) peers.push({ peer: field, unread });
    }
    peers.sort((a, b) => b.unread - a.unread || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
    return { registered: ACCOUNT_FIELD in all, total: count(all[TOTAL]), peers: peers.slice(0, limit) };
  }
}

function count(v: string | null | undefined): number {
  return v === null || v === undefined ? 0 : Math.max(0, Number(v));
}
