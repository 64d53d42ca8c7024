/**
 * What a Redis error means for the event that was being applied (docs/reliability.md,
 * "When Redis says no"). An allow-list: only a refusal a family script raises on purpose,
 * about the event's own content, is the event's fault. Such a script answers
 * `redis.error_reply(SCRIPT_REFUSAL_PREFIX .. ' <why>')`; the projector dead-letters the
 * event (reason class `redis_refused`) and the rebuild skips it. Everything else Redis says
 * is about its own state (full, missing replicas, a failed snapshot, read-only, an ACL,
 * loading, busy, a cluster in trouble, a key of another type, a script failing in a way
 * nobody documented, anything new): the partition waits at that offset and retries with
 * backoff, never skipping an event.
 */
export const SCRIPT_REFUSAL_PREFIX = 'UNREAD-REFUSED';

/** The `class` label of a Redis error that makes a partition wait (a small fixed set). */
export const REDIS_WAIT_CLASSES = [
  'oom',
  'noreplicas',
  'misconf',
  'readonly',
  'noperm',
  'loading',
  'busy',
  'masterdown',
  'clusterdown',
  'tryagain',
  'wrongtype',
  'script_error',
  'unreachable',
  'unknown',
] as const;

export type RedisWaitClass = (typeof REDIS_WAIT_CLASSES)[number];

/** `refuse`: the event's own fault (dead-letter it); `wait`: Redis's state (retry the partition at this offset). */
export type RedisErrorVerdict = { kind: 'refuse'; reason: string } | { kind: 'wait'; class: RedisWaitClass };

/** Redis error codes (the reply's first word) and the class they wait under. */
const CODES: Record<string, RedisWaitClass> = {
  OOM: 'oom',
  NOREPLICAS: 'noreplicas',
  MISCONF: 'misconf',
  READONLY: 'readonly',
  NOPERM: 'noperm',
  NOAUTH: 'noperm',
  WRONGPASS: 'noperm',
  LOADING: 'loading',
  BUSY: 'busy',
  NOSCRIPT: 'busy',
  MASTERDOWN: 'masterdown',
  CLUSTERDOWN: 'clusterdown',
  TRYAGAIN: 'tryagain',
  MOVED: 'clusterdown',
  ASK: 'clusterdown',
  CROSSSLOT: 'clusterdown',
  WRONGTYPE: 'wrongtype',
};

/**
 * Classifies an error a Redis call failed with. A script's deliberate refusal may reach us
 * as is (`UNREAD-REFUSED …`) or wrapped by Redis (`ERR UNREAD-REFUSED …`, or inside the
 * script-error text of an older server); an error wrapped by a script (`… script: …`) is
 * classified by the code it carries (a script that hit OOM waits like any OOM).
 */
export function classifyRedisError(err: unknown): RedisErrorVerdict {
  const message = err instanceof Error ? err.message : String(err);
  const isReply = err instanceof Error && err.name === 'ReplyError';
  if (!isReply) return { kind: 'wait', class: 'unreachable' };
  const refused = /(?:^|[\s:])UNREAD-REFUSED(?:[\s:]+([^]*))?$/.exec(message);
  if (refused) return { kind: 'refuse', reason: refused[1]?.trim() || 'refused by a script' };
  const code = /^-?([A-Z]+)\b/.exec(message)?.[1] ?? '';
  if (code in CODES) return { kind: 'wait', class: CODES[code]! };
  // A command inside a script failed: Redis reports "... script: ..." with the command's own error.
  const inner = /\b(OOM|NOREPLICAS|MISCONF|READONLY|NOPERM|LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|WRONGTYPE)\b/.exec(message)?.[1];
  if (inner) return { kind: 'wait', class: CODES[inner]! };
  if (/user_script|Error running script|script:|attempt to|@user_script/i.test(message)) return { kind: 'wait', class: 'script_error' };
  return { kind: 'wait', class: 'unknown' };
}
