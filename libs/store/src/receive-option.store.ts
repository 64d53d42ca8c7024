import { RECEIVE_OPTIONS, type ReceiveOption, type ReceiveOptionSetEvent } from '@app/contracts';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';
import { WRITE_SCRIPTS } from './scripts';
import { runScript, type Write } from './write';

const RECEIVE_OPTION = WRITE_SCRIPTS.receiveOption;

/** An account's receive options: one-to-one peer → option, group id → option (absent = AcceptAndNotify). */
export interface ReceiveOptions {
  c2c: Map<string, ReceiveOption>;
  groups: Map<string, ReceiveOption>;
}

/** The option a conversation has when none was ever set (Tencent's default). */
export const DEFAULT_RECEIVE_OPTION: ReceiveOption = 'AcceptAndNotify';

/**
 * Receive options (Tencent's MsgFlag and the SDK's one-to-one receive option), one hash per
 * account on the account's slot (`C2cKeys.options`): field `c:<peer>` or
 * `g:<groupId>` → `<time>:<rank>:<option>`. The latest option wins whatever the order
 * (receive-option.lua). Options change no vendor count; they decide what the badge counts.
 * An option back to AcceptAndNotify is stored like any other (its time must win later).
 */
export class ReceiveOptionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
  ) {}

  /**
   * The writes of receive-option events, folded: per (account, conversation) only the
   * option that wins (latest time, at equal times the more muted), which is what applying
   * them all in any order leaves; one receive-option.lua write each.
   */
  writes(events: readonly ReceiveOptionSetEvent[]): Write[] {
    const winners = new Map<string, { key: string; field: string; time: number; rank: number; option: ReceiveOption }>();
    for (const e of events) {
      const key = this.keys.c2c(e.appId, e.account).options;
      const f = e.scope === 'c2c' ? `c:${e.peer}` : `g:${e.groupId}`;
      const rank = RECEIVE_OPTIONS.indexOf(e.option);
      const id = `${key}\n${f}`;
      const held = winners.get(id);
      if (held && (held.time > e.time || (held.time === e.time && held.rank >= rank))) continue;
      winners.set(id, { key, field: f, time: e.time, rank, option: e.option });
    }
    return [...winners.values()].map((w) => runScript(RECEIVE_OPTION, [w.key], [w.field, w.time, w.rank, w.option]));
  }

  /** The account's options (one HGETALL). */
  async read(app: string, account: string): Promise<ReceiveOptions> {
    return parseReceiveOptions(await this.redis.hgetall(this.keys.c2c(app, account).options));
  }
}

/** The options from the stored hash, an object (HGETALL) or a script's flat field, value list (fields the store never writes are ignored). */
export function parseReceiveOptions(hash: Record<string, string> | readonly string[]): ReceiveOptions {
  const out: ReceiveOptions = { c2c: new Map(), groups: new Map() };
  const flat = Array.isArray(hash) ? (hash as readonly string[]) : Object.entries(hash).flat();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const f = flat[i]!;
    const v = flat[i + 1]!;
    const option = v.slice(v.indexOf(':', v.indexOf(':') + 1) + 1) as ReceiveOption;
    if (!(RECEIVE_OPTIONS as readonly string[]).includes(option)) continue;
    if (f.startsWith('c:')) out.c2c.set(f.slice(2), option);
    else if (f.startsWith('g:')) out.groups.set(f.slice(2), option);
  }
  return out;
}
