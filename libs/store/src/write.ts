import { Cluster, ReplyError } from 'ioredis';
import type { RedisClient } from './redis.factory';
import { ALL_SCRIPTS, checkKeys, type Script } from './scripts';

export type { Script } from './scripts';

/**
 * The write path (docs/projections.md, "The write path"). A store never writes through a
 * client: it turns events into `Write`s, plain data saying what runs on Redis, and a
 * `Writer` carries them: `DirectWriter` one Redis call per write, `BatchWriter` (the
 * projector) every write of a tick folded into one call per Redis node. Reads always go to
 * the real client.
 *
 * A write is a script (`lua/<name>.lua`) or a Redis command; `keys` are every key it
 * touches (a script's KEYS, a command's keys, which come first in its arguments), all of one
 * hash tag, so one write lives in one slot and the node is the first key's; `args` are a
 * script's ARGV or the command's arguments after its keys.
 */
export type Write = ScriptWrite | CommandWrite;

export interface ScriptWrite {
  readonly script: Script;
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
}

export interface CommandWrite {
  /** A Redis command name, upper case (`SADD`, `HSET`, …). */
  readonly command: string;
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
}

/** Carries writes to Redis. The replies come back in the order of `writes`. */
export interface Writer {
  /**
   * Runs `writes`, in order per Redis node (each atomically), and resolves with their
   * replies once Redis acknowledged every one. A write that fails rejects the call with the
   * error Redis gave for it (its text unchanged); writes are idempotent, so the caller
   * retries the whole list.
   *
   * `after` (the projector's applied position, docs/reliability.md) runs only once every
   * write of `writes` succeeded, and never if one of them fails; its replies come last.
   */
  run(writes: readonly Write[], after?: readonly Write[]): Promise<unknown[]>;
}

/** A write that runs `script` (one of WRITE_SCRIPTS) with these KEYS and ARGV. */
export function runScript(s: Script, keys: readonly string[], args: readonly (string | number)[]): ScriptWrite {
  checkKeys(s, keys);
  return { script: s, keys, args };
}

/** A write that runs a Redis command: `command keys… args…`. */
export function command(name: string, keys: readonly string[], args: readonly (string | number)[] = []): CommandWrite {
  return { command: name, keys, args };
}

export function isScript(w: Write): w is ScriptWrite {
  return (w as ScriptWrite).script !== undefined;
}

type ScriptCommand = (numKeys: number, keysAndArgs: string[]) => Promise<unknown>;

/** A write's keys then its arguments, as strings, in one array. */
export function argList(keys: readonly string[], args: readonly (string | number)[]): string[] {
  const out: string[] = new Array<string>(keys.length + args.length);
  let i = 0;
  for (const k of keys) out[i++] = k;
  for (const a of args) out[i++] = String(a);
  return out;
}

/**
 * Registers every script of the catalog (scripts.ts) as an ioredis command of a single Redis
 * client, once. Done when the client is handed to a writer or a store, never on first use: a
 * command defined after ioredis has built an auto-pipeline is missing from it
 * (redis/ioredis#1931). ioredis sends a pipeline's scripts with EVALSHA after loading the
 * missing ones, so a script the node has not cached (after a restart or a failover) still
 * runs in its place among the commands issued around it. Not on a Cluster: ioredis routes an
 * auto-pipelined custom command by its first argument (here the number of keys), so there
 * scripts go as EVALSHA, which it routes by its first key (with EVAL after a NOSCRIPT).
 */
export function registerScripts(client: RedisClient): void {
  if (client instanceof Cluster) return;
  for (const s of ALL_SCRIPTS) {
    if (typeof (client as unknown as Record<string, unknown>)[s.command] !== 'function') client.defineCommand(s.command, { lua: s.lua });
  }
}

/** Sends one write through a client (a script through callScript). */
export function send(client: RedisClient, w: Write): Promise<unknown> {
  // Arguments go as one array (ioredis flattens it), never spread: a write may carry hundreds
  // of thousands of them, more than a JavaScript call takes, and a throw while ioredis queues
  // a command on an auto-pipeline misaligns that pipeline's replies (redis/ioredis#1931).
  if (!isScript(w)) return client.call(w.command, argList(w.keys, w.args));
  return callScript(client, w.script, w.keys, w.args);
}

/**
 * The one way a script runs on a client: as its registered command (registerScripts) on a
 * single Redis, else with EVALSHA (EVAL when the node has not cached it), which ioredis
 * routes by the first key also on a Cluster. Reads and bookkeeping call it directly;
 * projection writes reach it through a Writer.
 */
export function callScript(client: RedisClient, s: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  checkKeys(s, keys);
  const run = (client as unknown as Record<string, ScriptCommand | undefined>)[s.command];
  if (run) return run.call(client, keys.length, argList(keys, args));
  const argv = argList(keys, args);
  return client.evalsha(s.sha, keys.length, argv).catch((err: Error) => {
    if (!(err instanceof ReplyError) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.eval(s.lua, keys.length, argv);
  });
}

/**
 * One Redis call per write, all issued in the same tick (ioredis auto-pipelining sends them
 * in one round trip per node, in order). Used everywhere but the projector's batches.
 */
export class DirectWriter implements Writer {
  constructor(private readonly redis: RedisClient) {
    registerScripts(redis);
  }

  async run(writes: readonly Write[], after: readonly Write[] = []): Promise<unknown[]> {
    const replies = await Promise.all(writes.map((w) => send(this.redis, w)));
    if (after.length === 0) return replies;
    return replies.concat(await Promise.all(after.map((w) => send(this.redis, w))));
  }
}
