import { createHash } from 'node:crypto';
import { Cluster, Command, ReplyError, type Redis } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import type { RedisClient } from './redis.factory';
import { readScript, WRITE_SCRIPT_LIST } from './scripts';
import { argList, isScript, registerScripts, send, type Write, type Writer } from './write';

/**
 * The writes of one `run` call: one promise for all of them (not one per write), settled
 * like Promise.all. Its `after` writes (the last `tails` of its ops) run only once every
 * other write (its own writes) succeeded: in the same folded call as all of them (a call
 * stops at its first error, so nothing after a failed write runs), else held here and
 * handed to `release` when the own writes have all been acknowledged. The writer tells the
 * run where its own writes go (`carriedBy`, `sentAlone`) and asks where an `after` write
 * may go (`admitsAfter`); which calls carry what is the run's own state.
 */
class Run {
  readonly replies: unknown[];
  private left: number;
  /** The run's own writes (not its `after` ones) not yet acknowledged. */
  private own: number;
  private settled = false;
  /** The folded call that carries the run's own writes, while they all go in one. */
  private call?: object;
  /** The run's own writes went in more than one call (or one went alone). */
  private spread = false;
  /** `after` writes waiting for the run's own writes. */
  private held: Op[] = [];

  constructor(
    n: number,
    private readonly tails: number,
    private readonly done: (replies: unknown[]) => void,
    private readonly failed: (err: unknown) => void,
    /** Sends the held `after` writes once every own write succeeded. */
    private readonly release: (ops: Op[]) => void,
  ) {
    this.replies = new Array<unknown>(n);
    this.left = n;
    this.own = n - tails;
  }

  /** How many writes the run has, `after` ones included. */
  get size(): number {
    return this.replies.length;
  }

  /** One of the run's own writes goes in the folded call `call`. */
  carriedBy(call: object): void {
    if (this.call === undefined) this.call = call;
    else if (this.call !== call) this.spread = true;
  }

  /** One of the run's own writes is sent on its own, outside any folded call. */
  sentAlone(): void {
    this.spread = true;
  }

  /**
   * Whether the `after` write `op` may be sent now, in the folded call `call` (undefined: on
   * its own): when every own write was acknowledged, or when every one of them is in that
   * same call, before it. Otherwise the run holds `op` and releases it once they all were.
   */
  admitsAfter(op: Op, call?: object): boolean {
    if (this.own === 0 || (!this.spread && call !== undefined && this.call === call)) return true;
    if (!this.settled) this.held.push(op);
    return false;
  }

  resolve(i: number, reply: unknown): void {
    if (this.settled) return;
    this.replies[i] = reply;
    if (--this.left === 0) {
      this.settled = true;
      this.done(this.replies);
      return;
    }
    if (i < this.replies.length - this.tails && --this.own === 0 && this.held.length > 0) {
      const ops = this.held;
      this.held = [];
      this.release(ops);
    }
  }

  /** The first error settles the run (as Promise.all would); the other writes still go to Redis, held ones never. */
  reject(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.held = [];
    this.failed(err);
  }
}

/** One write of a run, at index `i` of its replies; `after`: one of the run's `after` writes. */
interface Op {
  write: Write;
  run: Run;
  i: number;
  after: boolean;
}

/**
 * The order a flush sends its runs in: `given`, the order `run` was called in (the default);
 * `smallest-runs-first`, the runs with the fewest writes first (ties in the order given), each
 * run's writes kept together and in order. The second is for a caller whose runs in flight
 * together give the same result in any order, which only the caller knows: the projector,
 * whose runs are batches of different partitions (smallestRunsFirst).
 */
export type RunOrder = 'given' | 'smallest-runs-first';

export interface BatchWriterOptions {
  /** The order a flush sends its runs in (default `given`). */
  order?: RunOrder;
  /** Writes per call at most (a call blocks its node while it runs). */
  maxOpsPerCall?: number;
  /**
   * Keys and arguments per call at most (a single larger write goes in a call of its own):
   * bounds what one call blocks its node for and the size of the tables Redis builds for it.
   */
  maxArgsPerCall?: number;
}

/**
 * A command write with more arguments than this is sent alone, never folded: batch.lua passes
 * a command its arguments with `unpack`, which Lua bounds (LUAI_MAXCSTACK, 8000 in Redis).
 */
const MAX_FOLDED_COMMAND_ARGS = 4000;

/**
 * The first call of a flush carries at most this many writes; each later one up to twice the
 * one before (up to maxOpsPerCall). With the smallest runs first (smallestRunsFirst), a batch
 * of a few events, such as the one a user waits on, is answered after a short call instead of
 * after every write of the tick: docs/performance.md, "Small batches first".
 */
const FIRST_CALL_OPS = 16;

/**
 * The ops of a flush with each run's ops kept together and in order, the runs ordered by how
 * many ops they have, fewest first (ties in the order given): order `smallest-runs-first`.
 * The projector hands that order in because its runs commute: it has one batch per
 * partition in flight, and batches of different partitions give the same result in any
 * order (docs/events.md: one conversation's or entity's events share a partition of their
 * topic; across topics every projection is order-free); which of them reached the writer
 * first was already up to kafkajs. A run's ops are contiguous in `pending`: `run` pushes them
 * at once.
 */
function smallestRunsFirst(ops: Op[]): Op[] {
  // where each run starts; its ops are copied out only when the runs must be reordered
  const starts: number[] = [];
  let sorted = true;
  let previous = 0;
  for (let i = 0; i < ops.length; ) {
    const run = ops[i]!.run;
    let j = i + 1;
    while (j < ops.length && ops[j]!.run === run) j++;
    if (j - i < previous) sorted = false;
    previous = j - i;
    starts.push(i);
    i = j;
  }
  if (sorted) return ops;
  const runs = starts.map((s, k) => ops.slice(s, starts[k + 1] ?? ops.length));
  runs.sort((a, b) => a.length - b.length); // stable: equal runs keep their order
  return runs.flat();
}

/** The number of keys and arguments a write sends. */
function size(w: Write): number {
  return w.keys.length + w.args.length;
}

/**
 * The projector's Writer: every write given to `run` in one tick is folded into `batch.lua`
 * calls per Redis node (on a Redis Cluster: per slot, each sent to the master that serves
 * it), in calls that grow from FIRST_CALL_OPS writes to at most `maxOpsPerCall`; each
 * write's reply comes back in its place. With order `smallest-runs-first` (the projector's:
 * its runs commute) the runs with the fewest writes go first; otherwise in the order given.
 *
 * Guarantees, compared with one call per write (DirectWriter): the same writes run, in the
 * same order per node (one connection per node, calls sent in order; with
 * `smallest-runs-first`, each run in its own order), each atomically (a script body runs whole inside the
 * folded call). A call that fails as a whole (connection
 * lost, a node that no longer serves a slot) rejects every write in it. A script error
 * (`redis.call` raising, or a script's own `error()`) stops the folded call where it was;
 * its writes are then sent again one by one, so each settles with its own reply or its own
 * error, in Redis's own words. On Redis Cluster a redirected call (MOVED/ASK/TRYAGAIN) is
 * sent the same way, through the cluster client, which follows redirections. Writes are
 * idempotent (docs/projections.md), so running one again is always safe.
 */
export class BatchWriter implements Writer {
  private pending: Op[] = [];
  private scheduled = false;
  private foldSource?: { lua: string; sha: string };
  private readonly maxOps: number;
  private readonly maxArgs: number;
  private readonly order: RunOrder;

  constructor(
    private readonly redis: RedisClient,
    opts: BatchWriterOptions = {},
  ) {
    this.maxOps = opts.maxOpsPerCall ?? 500;
    this.maxArgs = opts.maxArgsPerCall ?? 20_000;
    this.order = opts.order ?? 'given';
    registerScripts(redis);
  }

  /**
   * Queues `writes`, then `after`, for the next fold. `after` (the batch's applied position)
   * goes in the same call as the last of `writes` when all of them share one call, so a
   * batch costs one round trip; otherwise it waits for their replies (Run).
   */
  run(writes: readonly Write[], after: readonly Write[] = []): Promise<unknown[]> {
    const n = writes.length + after.length;
    if (n === 0) return Promise.resolve([]);
    this.schedule();
    return new Promise((resolve, reject) => {
      const run = new Run(n, after.length, resolve, reject, (held) => this.oneByOne(held));
      for (let i = 0; i < writes.length; i++) this.pending.push({ write: writes[i] as Write, run, i, after: false });
      for (let i = 0; i < after.length; i++) this.pending.push({ write: after[i] as Write, run, i: writes.length + i, after: true });
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(() => this.flush());
  }

  /** batch.lua with every write script of the catalog, as `S['<name>'] = function(...)`. */
  private fold(): { lua: string; sha: string } {
    if (!this.foldSource) {
      const bodies = WRITE_SCRIPT_LIST.map((s) => `S[${JSON.stringify(s.name)}] = function(_k, _a, _nk, _na)\n${foldable(s.name, s.lua)}\nend`);
      const lua = readScript('batch').replace(/^--#scripts$/m, () => bodies.join('\n'));
      this.foldSource = { lua, sha: createHash('sha1').update(lua).digest('hex') };
    }
    return this.foldSource;
  }

  private flush(): void {
    this.scheduled = false;
    const ops = this.order === 'smallest-runs-first' ? smallestRunsFirst(this.pending) : this.pending;
    this.pending = [];
    if (ops.length === 0) return;
    if (this.redis instanceof Cluster) {
      for (const { node, ops: group } of this.bySlot(this.redis, ops).values()) this.split(node, group);
    } else {
      this.split(this.redis, ops);
    }
  }

  /**
   * Sends `ops` in order, in calls of at most maxOps writes and maxArgs keys and arguments.
   * Between runs a call also ends where the next run would take it past its share: the
   * first call FIRST_CALL_OPS writes, each later one twice the one before. A run is cut only
   * by the hard bounds, so a batch's writes and position share a call whenever they fit in one.
   */
  private split(client: Redis | Cluster, ops: Op[]): void {
    let start = 0;
    let args = 0;
    let share = Math.min(FIRST_CALL_OPS, this.maxOps);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as Op;
      const w = op.write;
      const n = size(w);
      const startsRun = i === 0 || (ops[i - 1] as Op).run !== op.run;
      if (!isScript(w) && n > MAX_FOLDED_COMMAND_ARGS) {
        if (i > start) this.call(client, ops.slice(start, i));
        op.run.sentAlone();
        // on one Redis written directly, like the calls around it, so it keeps its place
        if (this.redis instanceof Cluster) this.oneByOne([op]);
        else settle(op, direct(this.redis, w.command, argList(w.keys, w.args)));
        start = i + 1;
        args = 0;
        continue;
      }
      if (
        i > start &&
        (i - start >= this.maxOps || args + n > this.maxArgs || (startsRun && i - start + op.run.size > share))
      ) {
        this.call(client, ops.slice(start, i));
        start = i;
        args = 0;
        share = Math.min(share * 2, this.maxOps);
      }
      args += n;
    }
    if (start < ops.length) this.call(client, ops.slice(start));
  }

  /**
   * Groups writes by slot, each with the master that serves it (unknown: the cluster client).
   * Redis Cluster refuses a call whose declared keys span slots, `allow-cross-slot-keys` or
   * not (that flag only lets a script reach keys it did not declare), so on a cluster a
   * folded call holds one slot's writes: one owner's, one group's, one channel's.
   */
  private bySlot(cluster: Cluster, ops: Op[]): Map<number, { node: Redis | Cluster; ops: Op[] }> {
    const masters = new Map<string, Redis>();
    for (const node of cluster.nodes('master')) masters.set(`${node.options.host}:${node.options.port}`, node);
    const groups = new Map<number, { node: Redis | Cluster; ops: Op[] }>();
    for (const op of ops) {
      const key = op.write.keys[0];
      const slot = key === undefined ? -1 : calculateSlot(key);
      let group = groups.get(slot);
      if (!group) {
        const owner = cluster.slots[slot]?.[0];
        groups.set(slot, (group = { node: (owner && masters.get(owner)) || cluster, ops: [] }));
      }
      group.ops.push(op);
    }
    return groups;
  }

  private call(client: Redis | Cluster, given: Op[]): void {
    const ops = this.withAfter(given);
    if (ops.length === 0) return;
    if (client instanceof Cluster) {
      this.oneByOne(ops);
      return;
    }
    let folded: { lua: string; sha: string };
    try {
      folded = this.fold();
    } catch (err) {
      for (const op of ops) op.run.reject(err);
      return;
    }
    const { lua, sha } = folded;
    // EVALSHA's whole argument list in one array, built in place: the SHA, the number of
    // keys, KEYS, then ARGV (no copies of a call's thousands of arguments)
    const all: string[] = [sha, ''];
    for (const { write: w } of ops) for (const k of w.keys) all.push(k);
    all[1] = String(all.length - 2);
    for (const { write: w } of ops) {
      // each write's head is one argument (batch.lua)
      if (isScript(w)) {
        all.push(`${w.script.name} ${w.keys.length} ${w.args.length}`);
      } else {
        // a command gets its whole argument list (keys first) from ARGV; KEYS only declare them
        all.push(`${w.command} ${w.keys.length} ${w.keys.length + w.args.length}`);
        for (const k of w.keys) all.push(k);
      }
      for (const a of w.args) all.push(typeof a === 'string' ? a : String(a));
    }
    direct(client, 'evalsha', all)
      .catch((err: Error) => {
        if (!(err instanceof ReplyError) || !err.message.startsWith('NOSCRIPT')) throw err;
        const withSource = all.slice();
        withSource[0] = lua;
        return direct(client, 'eval', withSource);
      })
      .then(
        (reply) => {
          const replies = Array.isArray(reply) ? (reply as unknown[]) : [];
          ops.forEach((op, i) => {
            const r = replies[i];
            if (r instanceof Error) op.run.reject(r);
            else op.run.resolve(op.i, r ?? null);
          });
        },
        (err: Error) => {
          // Redis answered with an error (a script error, a redirection, OOM …): nothing tells
          // which write it was about, so each is sent again alone and settles on its own.
          if (err instanceof ReplyError) this.oneByOne(ops);
          else for (const op of ops) op.run.reject(err);
        },
      );
  }

  /**
   * The ops of one call, less the `after` writes their run holds back (Run.admitsAfter):
   * only a call that carries every own write of the run (or a run with none left) carries
   * its `after` writes, after them.
   */
  private withAfter(ops: Op[]): Op[] {
    const call = {};
    let kept: Op[] | undefined;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as Op;
      if (!op.after) op.run.carriedBy(call);
      else if (!op.run.admitsAfter(op, call)) {
        kept ??= ops.slice(0, i);
        continue;
      }
      if (kept) kept.push(op);
    }
    return kept ?? ops;
  }

  /**
   * Sends each write on its own (through the cluster client on a cluster: it follows
   * MOVED/ASK), in order; an `after` write waits for every own write of its run.
   */
  private oneByOne(ops: Op[]): void {
    for (const op of ops) {
      if (!op.after || op.run.admitsAfter(op)) settle(op, send(this.redis, op.write));
    }
  }
}

/**
 * Sends a command with its whole argument list as given, on the connection in issue order.
 * Not through ioredis' command methods: they copy every argument with `Array.prototype.flat`
 * (about 150 ns an argument, 5 % of the projector's CPU on a folded call's thousands), and,
 * with auto-pipelining, write at the next `setImmediate`. Every call and every lone command
 * of a flush goes this way, so they reach a node in the order they were issued.
 */
function direct(client: Redis, name: string, args: string[]): Promise<unknown> {
  const cmd = new Command(name, [], { replyEncoding: 'utf8' });
  cmd.args = args;
  return client.sendCommand(cmd) as Promise<unknown>;
}

function settle(op: Op, reply: Promise<unknown>): void {
  reply.then((v) => op.run.resolve(op.i, v), (e) => op.run.reject(e));
}

/**
 * A script's body as a function of batch.lua: its KEYS and ARGV are the slices of the
 * folded call's that start after `_k` and `_a` (`KEYS[i]` → `KEYS[_k + i]`, `#ARGV` → `_na`),
 * so no table is built per write. A script must index KEYS and ARGV only this way.
 */
export function foldable(name: string, lua: string): string {
  const body = lua
    .replace(/^#!.*\n/, '')
    .replace(/^[ \t]*--.*$/gm, '')
    .replace(/#KEYS\b/g, '_nk')
    .replace(/#ARGV\b/g, '_na')
    .replace(/\bKEYS\[/g, 'KEYS[_k + ')
    .replace(/\bARGV\[/g, 'ARGV[_a + ')
    .replace(/\bunpack\(ARGV, ([^,()]+), ([^,()]+)\)/g, 'unpack(ARGV, _a + $1, _a + $2)')
    .trimEnd();
  const stray = /\b(KEYS|ARGV)\b(?!\[_[ka] \+ )/.exec(body.replace(/unpack\(ARGV, _a \+ /g, 'unpack(X, '));
  if (stray) throw new Error(`lua/${name}.lua uses ${stray[0]} other than by index: it cannot be folded`);
  return body;
}
