import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from './redis.factory';

/**
 * Reads lua/<name>.lua (copied next to the compiled code by nest-cli's assets). A line
 * `--#include <other>` is replaced by lua/<other>.lua, so scripts can share local helpers
 * (Redis runs each script on its own; there is no require).
 */
export function readScript(name: string, seen: ReadonlySet<string> = new Set()): string {
  if (seen.has(name)) throw new Error(`lua/${name}.lua includes itself`);
  const text = readFileSync(join(__dirname, 'lua', `${name}.lua`), 'utf8');
  return text.replace(/^--#include ([a-z0-9-]+)[ \t]*$/gm, (_, other: string) =>
    readScript(other, new Set([...seen, name])).trimEnd(),
  );
}

/**
 * Registers a read script (or a bookkeeping script of Generations) as an ioredis command
 * (EVALSHA with a fallback to EVAL), once per client (`numberOfKeys` 'variable': the number
 * of keys is the command's first argument), typed with `declare module 'ioredis'` by its
 * store. Projection writes are not commands: they are `Write`s (write.ts).
 */
export function defineScript(redis: RedisClient, command: string, file: string, numberOfKeys: number | 'variable'): void {
  if (typeof (redis as unknown as Record<string, unknown>)[command] === 'function') return;
  // 'variable': the caller passes the number of keys as the command's first argument.
  redis.defineCommand(command, numberOfKeys === 'variable' ? { lua: readScript(file) } : { lua: readScript(file), numberOfKeys });
}
