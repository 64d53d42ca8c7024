import { createHash } from 'node:crypto';
import { Cluster, ReplyError, type Redis } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { exists as isCommand, getKeyIndexes } from '@ioredis/commands';
import type { RedisClient } from './redis.factory';
import { readScript } from './scripts';

/** A write that failed inside a folded call: the same error its own call would have given. */
function replyError(message: string): Error {
  const err = new (ReplyError as new (m: string) => Error)(message);
  return err;
}

/** Errors of a whole call that mean "this node does not serve (all of) these keys now". */
const REDIRECTED = /^(MOVED|ASK|TRYAGAIN|CROSSSLOT|CLUSTERDOWN)\b/;

interface Script {
  name: string;
  lua: string;
  numberOfKeys: number;
  index: number;
}

interface Op {
  /** Script index (1-based) or a command name. */
  code: string;
  /** The keys the write touches (declared to Redis; the node is chosen by the first). */
  keys: string[];
  /** A script's arguments; a command's whole argument list, keys included, in order. */
  args: string[];
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export interface BatchWriterOptions {
  /** Writes per call at most (a call blocks its node while it runs: ~3–8 µs per write). */
  maxOpsPerCall?: number;
}

/**
 * A stand-in for the Redis client that the family stores write through on the projector's
 * hot path. It speaks the ioredis surface those stores use (`defineCommand`, and any Redis
 * command by its ioredis method name: `sadd`, `hdel`, `zrange`, …, keys found with
 * ioredis' own command table) but sends nothing by itself: every write issued in one tick is
 * folded, in issue order, into one `batch.lua` call per Redis node (split every
 * `maxOpsPerCall` writes), and each write's promise settles with its own reply. The stores
 * stay exactly as they are; only who carries their writes changes.
 *
 * Guarantees, compared with one call per write: the same writes run, in the same order per
 * node (one connection per node, calls sent in order), each atomically (a script body runs
 * whole inside the folded call). A failing write fails alone, with its own error. A call that
 * fails as a whole (connection lost, a node that no longer serves a slot) rejects every write
 * in it, and nothing of it ran; on Redis Cluster a redirected call (MOVED/ASK/TRYAGAIN) is
 * split: its writes are sent one by one through the cluster client, which follows
 * redirections. Writes are idempotent (docs/projections.md), so the caller's retry of a
 * rejected batch is always safe.
 */
export class BatchWriter {
  private readonly scripts = new Map<string, Script>();
  private pending: Op[] = [];
  private scheduled = false;
  /** The scripts in fold order: code `i` is byIndex[i - 1]. */
  private readonly byIndex: Script[] = [];
  private foldSource?: { lua: string; sha: string };
  private readonly maxOps: number;

  constructor(
    private readonly redis: RedisClient,
    opts: BatchWriterOptions = {},
  ) {
    this.maxOps = opts.maxOpsPerCall ?? 500;
  }

  /** The client the folded calls go to. */
  get target(): RedisClient {
    return this.redis;
  }

  /** Seen as a RedisClient by the family stores: scripts they defined, and every Redis command. */
  asClient(): RedisClient {
    this.client ??= new Proxy(this, {
      get: (writer, prop, receiver): unknown => {
        if (typeof prop !== 'string' || prop in writer) return Reflect.get(writer, prop, receiver);
        if (!isCommand(prop)) return undefined;
        const command = (...argv: unknown[]) => {
          const args = strings(argv);
          return writer.enqueue(prop.toUpperCase(), getKeyIndexes(prop, args).map((i) => args[i]!), args);
        };
        Reflect.set(writer, prop, command);
        return command;
      },
    }) as unknown as RedisClient;
    return this.client;
  }
  private client?: RedisClient;

  /** ioredis' `defineCommand`, as the stores call it (through `defineScript`). */
  defineCommand(name: string, def: { lua: string; numberOfKeys?: number }): void {
    if (this.scripts.has(name)) return;
    if (def.numberOfKeys === undefined) throw new Error(`script ${name} must declare its number of keys to be folded`);
    const script: Script = { name, lua: def.lua, numberOfKeys: def.numberOfKeys, index: this.scripts.size + 1 };
    this.scripts.set(name, script);
    this.byIndex.push(script);
    this.foldSource = undefined;
    const code = String(script.index);
    (this as unknown as Record<string, unknown>)[name] = (...argv: unknown[]) => {
      const flat = strings(argv);
      return this.enqueue(code, flat.splice(0, script.numberOfKeys), flat);
    };
  }

  private enqueue(code: string, keys: string[], args: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.push({ code, keys, args, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  private fold(): { lua: string; sha: string } {
    if (!this.foldSource) {
      const bodies = this.byIndex.map(
        (s) => `S[${s.index}] = function(KEYS, ARGV)\n${s.lua.replace(/^#!.*\n/, '').trimEnd()}\nend`,
      );
      const lua = readScript('batch').replace(/^--#scripts$/m, () => bodies.join('\n'));
      this.foldSource = { lua, sha: createHash('sha1').update(lua).digest('hex') };
    }
    return this.foldSource;
  }

  private flush(): void {
    this.scheduled = false;
    const ops = this.pending;
    this.pending = [];
    if (ops.length === 0) return;
    if (this.redis instanceof Cluster) {
      for (const [node, group] of this.byNode(this.redis, ops)) {
        for (let i = 0; i < group.length; i += this.maxOps) this.send(node, group.slice(i, i + this.maxOps));
      }
    } else {
      for (let i = 0; i < ops.length; i += this.maxOps) this.send(this.redis, ops.slice(i, i + this.maxOps));
    }
  }

  /** Groups writes by the master that serves their slot (unknown slots go through the cluster client). */
  private byNode(cluster: Cluster, ops: Op[]): Map<Redis | Cluster, Op[]> {
    const masters = new Map<string, Redis>();
    for (const node of cluster.nodes('master')) masters.set(`${node.options.host}:${node.options.port}`, node);
    const groups = new Map<Redis | Cluster, Op[]>();
    for (const op of ops) {
      const key = op.keys[0];
      const owner = key === undefined ? undefined : cluster.slots[calculateSlot(key)]?.[0];
      const node: Redis | Cluster = (owner && masters.get(owner)) || cluster;
      let group = groups.get(node);
      if (!group) groups.set(node, (group = []));
      group.push(op);
    }
    return groups;
  }

  private send(client: Redis | Cluster, ops: Op[]): void {
    if (client instanceof Cluster) {
      this.oneByOne(client, ops);
      return;
    }
    const { lua, sha } = this.fold();
    const keys: string[] = [];
    const argv: string[] = [];
    for (const op of ops) {
      for (const k of op.keys) keys.push(k);
      argv.push(op.code, String(op.keys.length), String(op.args.length));
      for (const a of op.args) argv.push(a);
    }
    client
      .evalsha(sha, keys.length, ...keys, ...argv)
      .catch((err: Error) => {
        if (!/^NOSCRIPT/.test(err.message)) throw err;
        return client.eval(lua, keys.length, ...keys, ...argv);
      })
      .then(
        (reply) => settle(ops, reply),
        (err: Error) => {
          if (this.redis instanceof Cluster && REDIRECTED.test(err.message)) {
            this.oneByOne(this.redis, ops);
          } else {
            for (const op of ops) op.reject(err);
          }
        },
      );
  }

  /** Sends each write on its own through the cluster client (it follows MOVED/ASK), in order. */
  private oneByOne(cluster: Cluster, ops: Op[]): void {
    for (const op of ops) {
      const script = /^\d+$/.test(op.code) ? this.byIndex[Number(op.code) - 1] : undefined;
      const reply = script
        ? cluster.eval(script.lua, script.numberOfKeys, ...op.keys, ...op.args)
        : cluster.call(op.code, ...op.args);
      reply.then(
        (v) => op.resolve(v),
        (e) => op.reject(e),
      );
    }
  }
}

/** The arguments of a store's call as strings (arrays spread, as ioredis does). */
function strings(argv: unknown[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (typeof a === 'string') out.push(a);
    else if (Array.isArray(a)) for (const x of a as unknown[]) out.push(String(x));
    else out.push(String(a));
  }
  return out;
}

/** batch.lua answers {replies, failures}: one reply per write, and (position, message) of each failed one. */
function settle(ops: Op[], reply: unknown): void {
  const [replies, failures] = (Array.isArray(reply) ? reply : []) as [unknown[] | undefined, unknown[] | undefined];
  const failed = new Map<number, string>();
  for (let i = 0; failures && i + 1 < failures.length; i += 2) failed.set(Number(failures[i]), String(failures[i + 1]));
  ops.forEach((op, i) => {
    const message = failed.get(i + 1);
    if (message !== undefined) op.reject(replyError(message));
    else if (!replies || i >= replies.length) op.reject(replyError(`ERR batch reply has no result for write ${i + 1}`));
    else op.resolve(replies[i] ?? null);
  });
}
