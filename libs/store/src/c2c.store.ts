import type { C2cMessageSent, C2cReadAck } from '@app/contracts';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';
import { defineScript } from './scripts';

import type { Result } from 'ioredis';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    unreadC2cMessage(zset: string, reads: string, counts: string, peer: string, msgId: string, time: number): Result<number, Context>;
    unreadC2cRead(zset: string, reads: string, counts: string, peer: string, readTime: number): Result<number, Context>;
    unreadC2cDelete(reads: string, counts: string, zsetPrefix: string): Result<number, Context>;
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
 * - `<base>:n`: hash peer → unread count from that peer, and field `''` → the total.
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
    defineScript(redis, 'unreadC2cMessage', 'c2c-message', 3);
    defineScript(redis, 'unreadC2cRead', 'c2c-read', 3);
    defineScript(redis, 'unreadC2cDelete', 'c2c-delete', 2);
  }

  /** Counts the message for its recipient (`to`), with `from` as the peer. */
  messageSent(e: C2cMessageSent): Promise<number> {
    if (e.from === e.to) return Promise.resolve(0);
    const base = this.keys.c2c(e.appId, e.to);
    return this.redis.unreadC2cMessage(`${base}:z:${e.from}`, `${base}:r`, `${base}:n`, e.from, e.msgId, e.time);
  }

  /** `account` read everything from `peer` up to `readTime`. */
  readAck(e: C2cReadAck): Promise<number> {
    const base = this.keys.c2c(e.appId, e.account);
    return this.redis.unreadC2cRead(`${base}:z:${e.peer}`, `${base}:r`, `${base}:n`, e.peer, e.readTime);
  }

  /** Removes every one-to-one key of the account (as owner). */
  deleteAccount(app: string, account: string): Promise<number> {
    const base = this.keys.c2c(app, account);
    return this.redis.unreadC2cDelete(`${base}:r`, `${base}:n`, `${base}:z:`);
  }

  /** The owner's total unread over every one-to-one conversation (one HGET). */
  async total(app: string, owner: string): Promise<number> {
    const v = await this.redis.hget(`${this.keys.c2c(app, owner)}:n`, TOTAL);
    return v === null ? 0 : Math.max(0, Number(v));
  }

  /**
   * What the projection holds for an owner (`unread explain`): the total, and per peer the
   * count and read time; with `peer`, only that peer, with its unread message ids.
   */
  async describe(app: string, owner: string, peer?: string, messageLimit = 50): Promise<{ total: number; peers: C2cPeerState[] }> {
    const base = this.keys.c2c(app, owner);
    const [counts, reads] = await Promise.all([this.redis.hgetall(`${base}:n`), this.redis.hgetall(`${base}:r`)]);
    const names = peer !== undefined ? [peer] : [...new Set([...Object.keys(counts), ...Object.keys(reads)])].filter((p) => p !== TOTAL).sort();
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

  /** The owner's unread from each peer, in the order given (one HMGET). */
  async perPeer(app: string, owner: string, peers: readonly string[]): Promise<number[]> {
    if (peers.length === 0) return [];
    const vs = await this.redis.hmget(`${this.keys.c2c(app, owner)}:n`, ...peers);
    return vs.map((v) => (v === null ? 0 : Math.max(0, Number(v))));
  }
}
