import { RECEIVE_OPTIONS, type ReceiveOption, type ReceiveOptionSetEvent } from '@app/contracts';
import type { Result } from 'ioredis';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';
import { defineScript } from './scripts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    unreadReceiveOption(options: string, field: string, time: string, rank: string, option: string): Result<number, Context>;
  }
}

/** An account's receive options: one-to-one peer → option, group id → option (absent = AcceptAndNotify). */
export interface ReceiveOptions {
  c2c: Map<string, ReceiveOption>;
  groups: Map<string, ReceiveOption>;
}

/** The option a conversation has when none was ever set (Tencent's default). */
export const DEFAULT_RECEIVE_OPTION: ReceiveOption = 'AcceptAndNotify';

/**
 * Receive options (Tencent's MsgFlag and the SDK's one-to-one receive option), one hash per
 * account on the account's slot (`Keyspace.receiveOptions`): field `c:<peer>` or
 * `g:<groupId>` → `<time>:<rank>:<option>`. The latest option wins whatever the order
 * (receive-option.lua). Options change no vendor count; they decide what the badge counts.
 * An option back to AcceptAndNotify is stored like any other (its time must win later).
 */
export class ReceiveOptionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
  ) {
    defineScript(redis, 'unreadReceiveOption', 'receive-option', 1);
  }

  set(e: ReceiveOptionSetEvent): Promise<number> {
    const f = e.scope === 'c2c' ? `c:${e.peer}` : `g:${e.groupId}`;
    return this.redis.unreadReceiveOption(this.keys.receiveOptions(e.appId, e.account), f, String(e.time), String(RECEIVE_OPTIONS.indexOf(e.option)), e.option);
  }

  /** The account's options (one HGETALL). */
  async read(app: string, account: string): Promise<ReceiveOptions> {
    return parseReceiveOptions(await this.redis.hgetall(this.keys.receiveOptions(app, account)));
  }
}

/** The options from the stored hash (fields the store never writes are ignored). */
export function parseReceiveOptions(hash: Record<string, string>): ReceiveOptions {
  const out: ReceiveOptions = { c2c: new Map(), groups: new Map() };
  for (const [f, v] of Object.entries(hash)) {
    const option = v.slice(v.indexOf(':', v.indexOf(':') + 1) + 1) as ReceiveOption;
    if (!(RECEIVE_OPTIONS as readonly string[]).includes(option)) continue;
    if (f.startsWith('c:')) out.c2c.set(f.slice(2), option);
    else if (f.startsWith('g:')) out.groups.set(f.slice(2), option);
  }
  return out;
}
