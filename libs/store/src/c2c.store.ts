import type { C2cMessageRecalled, C2cMessageSent, C2cReadAck } from '@app/contracts';
import { Cluster } from 'ioredis';
import { ACCOUNT_FIELD, C2C_TOTAL_FIELD, type Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';
import { READ_SCRIPTS, WRITE_SCRIPTS } from './scripts';
import { DEFAULT_C2C_UNREAD_CAP } from './store-options';
import { callScript, command, isScript, runScript, type Write, type Writer } from './write';

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

const TOTAL = C2C_TOTAL_FIELD;
/** Prefix of a peer's tombstone list in the read-times hash: `\x02<peer>` → `\n<msgId>\t<time>`… (c2c-apply.lua). */
const TOMBSTONE = '\x02';

const APPLY = WRITE_SCRIPTS.c2cApply;
const DELETE = WRITE_SCRIPTS.c2cDelete;
const PRUNE_UNREGISTERED = WRITE_SCRIPTS.c2cPruneUnregistered;

/** No messages or recalls (a fold without any). */
const NONE: readonly string[] = [];

/** Messages per c2c-apply call at most (each is two arguments of one ZADD). */
const MAX_MESSAGES_PER_WRITE = 1_000;

/** What a c2c-apply write pruned (its reply, when it pruned anything: c2c-apply.lua). */
export interface C2cPruned {
  /** Unread ids trimmed at the cap. */
  ids: number;
  /** Tombstones dropped (by a read ack, or below the oldest id kept at the cap). */
  tombstones: number;
  /** Peers whose zset was trimmed at the cap. */
  capped: number;
}

/** What a c2c-apply reply says was pruned; undefined for a write that pruned nothing (its reply is then a number). */
export function c2cPruned(reply: unknown): C2cPruned | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [, ids, tombstones, capped] = reply as number[];
  return { ids: ids ?? 0, tombstones: tombstones ?? 0, capped: capped ?? 0 };
}

/** Whether `w` is a c2c-apply write (whose reply c2cPruned reads). */
export function isC2cApply(w: Write): boolean {
  return isScript(w) && w.script === APPLY;
}

/** The one-to-one events of a batch. */
export type C2cEvent = C2cMessageSent | C2cMessageRecalled | C2cReadAck;

/** What a batch does to one (owner, peer) in one write: the highest read ack, the messages and the recalls. */
interface PeerFold {
  peer: string;
  /** The write (of its owner) this fold belongs to. */
  chunk: OwnerChunk;
  ack?: number;
  /** time, msgId pairs (undefined: none). */
  messages?: string[];
  /** time, msgId pairs of recalled messages (undefined: none). */
  recalls?: string[];
}

/** One c2c-apply write of an owner: its peers' folds, in first-appearance order. */
interface OwnerChunk {
  app: string;
  owner: string;
  folds: PeerFold[];
  /** Messages and recalls in it (at most MAX_MESSAGES_PER_WRITE). */
  messages: number;
}

/**
 * One-to-one (c2c) unread projection (docs/projections.md, "One-to-one (c2c)"). For each owner,
 * under the hash tag `{app:owner}`:
 * - `unread(peer)` (`<base>:z:<peer>`): zset of the owner's unread message ids from that peer, scored by time;
 * - `reads` (`<base>:r`): hash peer → the owner's read time for that peer (a max); the owner's
 *   tombstones, one field per peer `\x02<peer>` → `\n<msgId>\t<time>` per message recalled
 *   after the read time for that peer (a recalled message never counts again), pruned when
 *   the read time reaches their time (c2c-apply.lua reads a peer's with its read time, one
 *   HMGET), so a reader who keeps up holds none;
 * - `counts` (`<base>:n`): hash peer → unread count from that peer, field `''` → the total, and the
 *   account's registration marker (ACCOUNT_FIELD, written by DirectoryStore);
 * - `options` (`<base>:o`): the owner's receive options (ReceiveOptionStore).
 * The writes of a batch are folded per owner into one c2c-apply.lua call that keeps the three
 * in step: duplicates count once, a message at or before the read time never counts, an ack
 * subtracts exactly what it removed, a recall takes the message out and keeps it out. Fields and zsets that reach zero are removed, so an
 * owner with nothing unread costs only its read times. A message counts only for its
 * recipient; a message to oneself or sent with `noUnread` counts for no one (no write).
 */
export class C2cStore {
  /** The cap as c2c-apply's first argument. */
  private readonly capArg: string;

  /**
   * @param cap unread ids tracked per (owner, peer) at most (StoreOptions.c2cUnreadCap):
   *   counts are exact below it and min(exact, cap) past it, up to the bound of
   *   docs/projections.md ("The cap"). Every writer of one deployment uses the same.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    readonly cap: number = DEFAULT_C2C_UNREAD_CAP,
  ) {
    if (!Number.isSafeInteger(cap) || cap < 1) throw new Error(`c2c unread cap must be a positive integer, got ${cap}`);
    this.capArg = String(cap);
  }

  /**
   * The writes of one-to-one events, folded: one c2c-apply write per owner (more for an owner
   * with over MAX_MESSAGES_PER_WRITE messages and recalls), with per peer the highest ack,
   * every message and every recall. Messages, recalls and acks commute (c2c-apply.lua), so
   * any events of a batch fold together, whatever their order and topics: a recall folded
   * with its message, before or after it, means the message never counts.
   */
  writes(events: readonly C2cEvent[]): Write[] {
    // Two maps for the whole batch (no map per owner: most owners have one event in a batch):
    // the owner's writes, and the current fold of each (owner, peer). Ids hold no control
    // characters, so `<app length>:<app><owner>\n<peer>` names one pair.
    const owners = new Map<string, OwnerChunk[]>();
    const folds = new Map<string, PeerFold>();
    for (const e of events) {
      const msg = e.type !== 'read-ack';
      if (msg && e.from === e.to) continue;
      if (e.type === 'message-sent' && e.noUnread === true) continue;
      const app = e.appId;
      const owner = msg ? e.to : e.account;
      const peer = msg ? e.from : e.peer;
      const id = `${app.length}:${app}${owner}`;
      let chunks = owners.get(id);
      if (!chunks) owners.set(id, (chunks = []));
      let chunk = chunks[chunks.length - 1];
      if (!chunk || (msg && chunk.messages >= MAX_MESSAGES_PER_WRITE)) chunks.push((chunk = { app, owner, folds: [], messages: 0 }));
      const pair = `${id}\n${peer}`;
      let fold = folds.get(pair);
      if (!fold || fold.chunk !== chunk) {
        folds.set(pair, (fold = { peer, chunk }));
        chunk.folds.push(fold);
      }
      if (e.type === 'message-sent') {
        (fold.messages ??= []).push(String(e.time), e.msgId);
        chunk.messages++;
      } else if (e.type === 'message-recalled') {
        (fold.recalls ??= []).push(String(e.time), e.msgId);
        chunk.messages++;
      } else if (fold.ack === undefined || e.readTime > fold.ack) {
        fold.ack = e.readTime;
      }
    }
    const writes: Write[] = [];
    for (const chunks of owners.values()) {
      for (const { app, owner, folds: peers } of chunks) {
        const k = this.keys.c2c(app, owner);
        const keys = [k.reads, k.counts];
        const args: string[] = [];
        const only = peers.length === 1 ? peers[0]! : undefined;
        if (only && only.messages?.length === 2 && !only.recalls && only.ack === undefined) {
          // one message from one peer (most writes): the peer, its time and id, no counts (c2c-apply.lua)
          keys.push(k.unread(only.peer));
          writes.push(runScript(APPLY, keys, [this.capArg, only.peer, only.messages[0]!, only.messages[1]!]));
          continue;
        }
        args.push(this.capArg);
        for (const f of peers) {
          const messages = f.messages ?? NONE;
          const recalls = f.recalls ?? NONE;
          keys.push(k.unread(f.peer));
          args.push(f.peer, `${messages.length / 2} ${recalls.length / 2} ${f.ack ?? ''}`);
          for (const m of messages) args.push(m);
          for (const m of recalls) args.push(m);
        }
        writes.push(runScript(APPLY, keys, args));
      }
    }
    return writes;
  }

  /**
   * Removes every one-to-one key of the account (as owner): reads the peers it has unread
   * messages from, then deletes their zsets, the counts and the read times (with the
   * tombstones) in one call, which refuses (and names them) when a peer was counted since;
   * then again with them. The receive options (same slot) go in the same call to the writer.
   */
  async deleteAccount(writer: Writer, app: string, account: string): Promise<void> {
    const k = this.keys.c2c(app, account);
    const peers = new Set((await this.redis.hkeys(k.counts)).filter((p) => p !== TOTAL && p !== ACCOUNT_FIELD));
    for (let attempt = 0; attempt < 10; attempt++) {
      const list = [...peers];
      const [missing] = (await writer.run([
        runScript(DELETE, [k.reads, k.counts, ...list.map((p) => k.unread(p))], [ACCOUNT_FIELD, ...list]),
        command('DEL', [k.options]),
      ])) as [string[], number];
      if (missing.length === 0) return;
      for (const p of missing) peers.add(p);
    }
    throw new Error(`ERR c2c keys of ${account} kept changing during its deletion; the batch is retried`);
  }

  /**
   * Removes every one-to-one key of an owner that was never registered and is idle: no
   * unread message and no read time at or after `cutoffMs` (c2c-prune-unregistered.lua,
   * checked and deleted in one call; `check` only reports). Reads the peers first, as
   * deleteAccount does, and again with the ones counted since. `unread` is the owner's
   * total that went (or would go).
   */
  async pruneUnregistered(writer: Writer, app: string, owner: string, cutoffMs: number, check = false): Promise<{ outcome: 'registered' | 'recent' | 'pruned'; unread: number }> {
    const k = this.keys.c2c(app, owner);
    const peers = new Set((await this.redis.hkeys(k.counts)).filter((p) => p !== TOTAL && p !== ACCOUNT_FIELD));
    for (let attempt = 0; attempt < 10; attempt++) {
      const list = [...peers];
      const [reply] = (await writer.run([
        runScript(PRUNE_UNREGISTERED, [k.reads, k.counts, k.options, ...list.map((p) => k.unread(p))], [ACCOUNT_FIELD, cutoffMs, check ? '1' : '0', ...list]),
      ])) as [[string, ...(string | number)[]]];
      const [outcome, ...rest] = reply;
      if (outcome === 'missing') {
        for (const p of rest) peers.add(String(p));
        continue;
      }
      if (outcome === 'registered' || outcome === 'recent') return { outcome, unread: 0 };
      return { outcome: 'pruned', unread: Number(rest[0] ?? 0) };
    }
    throw new Error(`ERR c2c keys of ${owner} kept changing while pruning it; try again`);
  }

  /** The owner's tombstones from `peer` (`unread explain`): recalled message ids with their times, oldest first. */
  async recalled(app: string, owner: string, peer: string, limit = 50): Promise<{ msgId: string; time: number }[]> {
    const list = (await this.redis.hget(this.keys.c2c(app, owner).reads, `${TOMBSTONE}${peer}`)) ?? '';
    const out: { msgId: string; time: number }[] = [];
    for (const entry of list.split('\n')) {
      const tab = entry.indexOf('\t');
      if (tab > 0) out.push({ msgId: entry.slice(0, tab), time: Number(entry.slice(tab + 1)) });
    }
    out.sort((a, b) => a.time - b.time || (a.msgId < b.msgId ? -1 : a.msgId > b.msgId ? 1 : 0));
    return out.slice(0, limit);
  }

  /**
   * The owner's registration and total unread over every one-to-one conversation: one HMGET
   * on the owner's slot (existence is a field of the same hash, Keyspace.account).
   * `registered` is false when the account is not registered.
   */
  async total(app: string, owner: string): Promise<{ registered: boolean; total: number }> {
    const [marker, total] = await this.redis.hmget(this.keys.c2c(app, owner).counts, ACCOUNT_FIELD, TOTAL);
    return { registered: marker !== null && marker !== undefined, total: count(total) };
  }

  /**
   * What the projection holds for an owner (`unread explain`): the total, and per peer the
   * count and read time; with `peer`, only that peer, with its unread message ids.
   */
  async describe(app: string, owner: string, peer?: string, messageLimit = 50): Promise<{ total: number; peers: C2cPeerState[] }> {
    const k = this.keys.c2c(app, owner);
    const [counts, reads] = await Promise.all([this.redis.hgetall(k.counts), this.redis.hgetall(k.reads)]);
    // fields starting with a control character are markers and tombstones, not peers
    const names = peer !== undefined ? [peer] : [...new Set([...Object.keys(counts), ...Object.keys(reads)])].filter((p) => p !== TOTAL && p.charCodeAt(0) >= 0x20).sort();
    const peers: C2cPeerState[] = names.map((p) => {
      const state: C2cPeerState = { peer: p, unread: Math.max(0, Number(counts[p] ?? 0)) };
      if (reads[p] !== undefined) state.readTime = Number(reads[p]);
      return state;
    });
    if (peer !== undefined) {
      const flat = await this.redis.zrange(k.unread(peer), 0, messageLimit - 1, 'WITHSCORES');
      const messages: { msgId: string; time: number }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) messages.push({ msgId: flat[i]!, time: Number(flat[i + 1]) });
      peers[0]!.messages = messages;
    }
    return { total: Math.max(0, Number(counts[TOTAL] ?? 0)), peers };
  }

  /** The owner's registration and its unread from each peer, in the order given (one HMGET). */
  async perPeer(app: string, owner: string, peers: readonly string[]): Promise<{ registered: boolean; counts: number[] }> {
    const [marker, ...vs] = await this.redis.hmget(this.keys.c2c(app, owner).counts, ACCOUNT_FIELD, ...peers);
    return { registered: marker !== null && marker !== undefined, counts: vs.map(count) };
  }

  /**
   * perPeer plus each peer's registration. On a single Redis one call (c2c-peers.lua: the
   * owner's HMGET and each peer's HEXISTS); on a Cluster, where each peer's marker is on its
   * own slot, the HMGET on the owner's slot and one HEXISTS per peer on the peer's, issued
   * together (one round trip per node).
   */
  async perPeerWithPeers(
    app: string,
    owner: string,
    peers: readonly string[],
  ): Promise<{ registered: boolean; counts: number[]; peersRegistered: boolean[] }> {
    if (!(this.redis instanceof Cluster)) {
      const keys = [this.keys.c2c(app, owner).counts, ...peers.map((p) => this.keys.c2c(app, p).counts)];
      const [[marker, ...vs], exist] = (await callScript(this.redis, READ_SCRIPTS.c2cPeers, keys, [ACCOUNT_FIELD, ...peers])) as [(string | null)[], number[]];
      return { registered: marker !== null && marker !== undefined, counts: vs.map(count), peersRegistered: exist.map((e) => e === 1) };
    }
    const [own, ...exist] = await Promise.all([
      this.perPeer(app, owner, peers),
      ...peers.map((p) => this.redis.hexists(this.keys.c2c(app, p).counts, ACCOUNT_FIELD)),
    ]);
    return { ...own, peersRegistered: exist.map((e) => e === 1) };
  }

  /**
   * The owner's registration, total, and the `limit` peers with the most unread (ties by
   * peer id), for the account summary: one HGETALL of the counts hash, which holds only
   * peers with something unread.
   */
  async top(app: string, owner: string, limit: number): Promise<{ registered: boolean; total: number; peers: { peer: string; unread: number }[] }> {
    return parseC2cCounts(await this.redis.hgetall(this.keys.c2c(app, owner).counts), limit);
  }
}

/**
 * What C2cStore.top answers, from the counts hash as read: an object (HGETALL) or the flat
 * field, value list a script returns (readAccountsUnread reads many accounts' in bulk, and
 * an object per account keyed by peer ids would cost more than the read).
 */
export function parseC2cCounts(hash: Record<string, string> | readonly string[], limit: number): { registered: boolean; total: number; peers: { peer: string; unread: number }[] } {
  const flat = Array.isArray(hash) ? (hash as readonly string[]) : Object.entries(hash).flat();
  const peers: { peer: string; unread: number }[] = [];
  let registered = false;
  let total = 0;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = flat[i]!;
    if (field === TOTAL) total = count(flat[i + 1]);
    else if (field === ACCOUNT_FIELD) registered = true;
    else {
      const unread = count(flat[i + 1]);
      if (unread > 0) peers.push({ peer: field, unread });
    }
  }
  peers.sort((a, b) => b.unread - a.unread || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
  return { registered, total, peers: peers.slice(0, limit) };
}

function count(v: string | null | undefined): number {
  return v === null || v === undefined ? 0 : Math.max(0, Number(v));
}
