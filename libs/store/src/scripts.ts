import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from './redis.factory';

/** Reads lua/<name>.lua (copied next to the compiled code by nest-cli's assets). */
export function readScript(name: string): string {
  return readFileSync(join(__dirname, 'lua', `${name}.lua`), 'utf8');
}

/**
 * Registers a Lua script as an ioredis command (EVALSHA with a fallback to EVAL), once per
 * client. Each family store declares its commands' types with `declare module 'ioredis'`.
 */
export function defineScript(redis: RedisClient, command: string, file: string, numberOfKeys: number): void {
  if (typeof (redis as unknown as Record<string, unknown>)[command] === 'function') return;
  redis.defineCommand(command, { lua: readScript(file), numberOfKeys });
}
