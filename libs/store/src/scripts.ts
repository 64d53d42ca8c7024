import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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

/** A script of `lua/`: its source, its SHA1 (what EVALSHA names it by) and how many keys it declares. */
export interface Script {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
  /** The number of KEYS every call declares, or 'variable' (the script's header says how they are laid out). */
  readonly keys: number | 'variable';
  /** The ioredis command it is registered as on a client (registerScripts). */
  readonly command: string;
}

function load(name: string, keys: number | 'variable'): Script {
  const lua = readScript(name);
  return { name, lua, sha: createHash('sha1').update(lua).digest('hex'), keys, command: `unread_${name.replace(/-/g, '_')}` };
}

/**
 * The projection's writes: each is carried by a Writer as a `Write` (write.ts), never called
 * on a client by its store; the BatchWriter folds every one of them into batch.lua.
 */
export const WRITE_SCRIPTS = {
  c2cApply: load('c2c-apply', 'variable'),
  c2cDelete: load('c2c-delete', 'variable'),
  c2cPruneUnregistered: load('c2c-prune-unregistered', 'variable'),
  groupMessages: load('group-messages', 2),
  groupReadAck: load('group-read-ack', 1),
  groupUnreadSet: load('group-unread-set', 1),
  groupMemberJoined: load('group-member-joined', 1),
  groupMemberLeft: load('group-member-left', 1),
  groupCreated: load('group-created', 1),
  groupDismissed: load('group-dismissed', 1),
  groupAccountTake: load('group-account-take', 1),
  channelMessage: load('channel-message', 'variable'),
  channelAck: load('channel-ack', 1),
  channelIndex: load('channel-index', 1),
  receiveOption: load('receive-option', 1),
  positions: load('positions', 1),
} as const;

/** The projection's reads: called on a client (callScript), their replies answer a query. */
export const READ_SCRIPTS = {
  accountUnread: load('account-unread', 'variable'),
  accountTotals: load('account-totals', 'variable'),
  c2cPeers: load('c2c-peers', 'variable'),
  channelQuery: load('channel-query', 'variable'),
  qchatAccess: load('qchat-access', 'variable'),
  channelCount: load('channel-count', 'variable'),
  groupStates: load('group-states', 'variable'),
} as const;

/**
 * Scripts on keys outside the projections (rate limits, the generation pointer, the change
 * feed's versions), called on a client (callScript): their callers need the reply at once.
 */
export const BOOKKEEPING_SCRIPTS = {
  rateLease: load('rate-lease', 2),
  generationFence: load('generation-fence', 1),
  generationFlip: load('generation-flip', 2),
  feedVersion: load('feed-version', 'variable'),
} as const;

/** Every script of the catalog, loaded once when this module is. */
export const ALL_SCRIPTS: readonly Script[] = [
  ...Object.values(WRITE_SCRIPTS),
  ...Object.values(READ_SCRIPTS),
  ...Object.values(BOOKKEEPING_SCRIPTS),
];

/** The write scripts, in catalog order (what batch.lua embeds). */
export const WRITE_SCRIPT_LIST: readonly Script[] = Object.values(WRITE_SCRIPTS);

/** Refuses a call whose number of keys is not the script's declared one (a programming error, never data). */
export function checkKeys(s: Script, keys: readonly unknown[]): void {
  if (s.keys !== 'variable' && keys.length !== s.keys) throw new Error(`lua/${s.name}.lua declares ${s.keys} keys, called with ${keys.length}`);
}
