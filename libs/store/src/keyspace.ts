/**
 * Every projection key: `<prefix>:<family>:{<tenant>:<entity>}:<part>`.
 *
 * The `{...}` part is the Redis Cluster hash tag, so every key one Lua call touches lives
 * in one slot: `{app:owner}` for one-to-one state, `{app:groupId}` for a group,
 * `{app:serverId:channelId}` for a channel. `prefix` is REDIS_KEY_PREFIX plus the
 * projection generation (see docs/reliability.md, rebuild), e.g. `u:g1`.
 *
 * Ids may contain any character but control characters (the contracts refuse those), so a
 * `}` inside an id could end the hash tag early; ids are therefore escaped (`%` → `%25`,
 * `{` → `%7B`, `}` → `%7D`, `:` → `%3A`) before they become part of a key.
 */
export function esc(id: string): string {
  return /[%{}:]/.test(id) ? id.replace(/[%{}:]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()) : id;
}

/** Something that knows which projection generation is active (see Generations). */
export interface GenerationSource {
  /** The generation to read or write now. */
  current(): number;
}

/**
 * The key prefix of projection generation `generation`. Generation 0 is the bare
 * REDIS_KEY_PREFIX (what every deployment starts with); generation N > 0 is `<base>:gN`.
 */
export function generationPrefix(base: string, generation: number): string {
  return generation === 0 ? base : `${base}:g${generation}`;
}

/**
 * The generation pointer and the switch fence of a base prefix. They share the hash tag
 * `{gen}`, so one MGET reads both (also on Redis Cluster).
 */
export function generationKeys(base: string): { active: string; fence: string } {
  return { active: `${base}:gen:{gen}`, fence: `${base}:gen:{gen}:fence` };
}

/**
 * Families inside each generation that are bookkeeping, not projections: the applied
 * positions (`pos`, positions.lua). They belong to their generation (a rebuild writes its
 * own, the old generation's go with it) but hold no unread state.
 */
export const BOOKKEEPING_FAMILIES: readonly string[] = ['pos'];

/**
 * Families of keys under REDIS_KEY_PREFIX that are not projections and therefore belong to
 * no generation: the generation pointer, the rate-limit counters, QChat nonces. A rebuild
 * neither copies nor deletes them. Any new non-projection key under the prefix must use a
 * family listed here.
 */
export const NON_PROJECTION_FAMILIES: readonly string[] = ['gen', 'rl', 'nonce', 'ver'];

/**
 * True when `key` (a full key name) is a projection key of generation `generation` under
 * `base`. Generation 0 is the bare prefix, so its keys are told apart from the other
 * generations' and from NON_PROJECTION_FAMILIES by their first segment.
 */
export function isGenerationKey(key: string, base: string, generation: number): boolean {
  const prefix = generationPrefix(base, generation);
  if (!key.startsWith(`${prefix}:`)) return false;
  if (generation !== 0) return true;
  const family = key.slice(prefix.length + 1).split(':', 1)[0] ?? '';
  return !/^g\d+$/.test(family) && !NON_PROJECTION_FAMILIES.includes(family);
}

/**
 * The keys of a rate limit (family `rl`, no generation): the window counter `base` (a hash:
 * rate-lease.lua keeps the current window in its field `w` and the calls granted in it in
 * `n`) and the block marker, under one hash tag per (family, tenant, API).
 */
export function rateLimitKeys(base: string, family: string, app: string, api: string): { base: string; block: string } {
  const counters = `${base}:rl:{${esc(family)}:${esc(app)}:${esc(api)}}`;
  return { base: counters, block: `${counters}:blocked` };
}

/** The marker of a used QChat Nonce (family `nonce`, no generation). */
export function nonceKey(base: string, app: string, nonce: string): string {
  return `${base}:nonce:{${esc(app)}:${esc(nonce)}}`;
}

/**
 * The change feed's version of an account (family `ver`, no generation: versions keep
 * growing across a rebuild's switch). Its hash tag is the account's own, the slot of its
 * one-to-one counts (`C2cKeys.counts`).
 */
export function feedVersionKey(base: string, app: string, account: string): string {
  return `${base}:ver:{${esc(app)}:${esc(account)}}`;
}

/**
 * The field of an account's c2c counts hash that says the account is registered. It holds a
 * control character, which no account id may contain (contracts' isId), so it never meets
 * a peer's field; its value is "1".
 */
export const ACCOUNT_FIELD = '\u0001registered';

/** The field of an account's c2c counts hash that holds its one-to-one total (account ids are never empty). */
export const C2C_TOTAL_FIELD = '';

/** An owner's one-to-one keys (hash tag `{app:owner}`), C2cStore's layout. */
export class C2cKeys {
  /** Every key of the owner starts with it (`<prefix>:c2c:{app:owner}`). */
  readonly base: string;
  /** Hash peer → the owner's read time for that peer, and the owner's tombstones. */
  readonly reads: string;
  /** Hash: field '' the total, one field per peer, and ACCOUNT_FIELD. */
  readonly counts: string;
  /** The account's receive options (receive-option.lua), beside its counts so the badge reads both in one round trip. */
  readonly options: string;

  constructor(base: string) {
    this.base = base;
    this.reads = `${base}:r`;
    this.counts = `${base}:n`;
    this.options = `${base}:o`;
  }

  /** Zset of the owner's unread message ids from `peer`, scored by time. */
  unread(peer: string): string {
    return `${this.base}:z:${peer}`;
  }
}

/** A group's keys (hash tag `{app:groupId}`), GroupStore's layout. */
export class GroupKeys {
  /** Every key of the group starts with it. */
  readonly base: string;
  /** Hash: max, nc, type, name, state and one record per member (`m:<account>`). */
  readonly state: string;
  /** Zset of the seqs that do not count (recalled, or sent with noUnread): score = member = seq. */
  readonly uncounted: string;

  constructor(base: string) {
    this.base = base;
    this.state = `${base}:state`;
    this.uncounted = `${base}:nc`;
  }
}

/** An account's own group-side keys (hash tag `{app:account}`). */
export class MemberKeys {
  readonly base: string;
  /** Zset: the account's group index (group id; score 0 after leaving, else the group's type class: group.store.ts INDEX_UNKNOWN, TYPE_CLASS). */
  readonly groups: string;

  constructor(base: string) {
    this.base = base;
    this.groups = `${base}:groups`;
  }
}

/**
 * The suffix of a channel's target set in `ChannelKeys.target` and in the `tgt` entries that
 * list a message's targets: `all`, `r:<roleId>`, `a:<escaped account>`.
 */
export const channelTarget = {
  all: 'all',
  role: (roleId: string): string => `r:${roleId}`,
  account: (account: string): string => `a:${esc(account)}`,
} as const;

/** A QChat channel's keys (hash tag `{app:serverId:channelId}`), ChannelProjection's layout. */
export class ChannelKeys {
  readonly base: string;
  /** Zset: every mention message of the channel by time. */
  readonly ix: string;
  /** Hash: a message's sender, time and target sets. */
  readonly tgt: string;
  /** Hash: a message's last-writer-wins record. */
  readonly upd: string;
  /** Zset: updates whose mention has not arrived. */
  readonly pend: string;
  /** Hash: a message's answer JSON. */
  readonly out: string;
  /** Zset: account → ack time. */
  readonly ack: string;
  /** Zset: the target sets' members that the count checks one by one (channel-message.lua). */
  readonly chk: string;
  /** String: the newest message time held before `chk` and the senders' sets were kept. */
  readonly since: string;

  constructor(base: string) {
    this.base = base;
    this.ix = `${base}:ix`;
    this.tgt = `${base}:tgt`;
    this.upd = `${base}:upd`;
    this.pend = `${base}:pend`;
    this.out = `${base}:out`;
    this.ack = `${base}:ack`;
    this.chk = `${base}:chk`;
    this.since = `${base}:since`;
  }

  /** The target set of suffix `suffix` (channelTarget): the messages that mention it. */
  target(suffix: string): string {
    return `${this.base}:${suffix}`;
  }

  /** Zset: the account's own members of the channel's @all and role sets (the messages it sent to them). */
  sent(account: string): string {
    return `${this.base}:o:${esc(account)}`;
  }
}

/** A QChat server's keys (hash tag `{app:serverId}`). */
export class ServerKeys {
  readonly base: string;
  /** Set of member accounts. */
  readonly members: string;
  /** Set of channel ids. */
  readonly channels: string;

  constructor(base: string) {
    this.base = base;
    this.members = `${base}:members`;
    this.channels = `${base}:channels`;
  }

  /** Set of the role ids granted to `account` in the server. */
  roles(account: string): string {
    return `${this.base}:roles:${esc(account)}`;
  }
}

/** An account's own QChat index keys (hash tag `{app:account}`). */
export class QchatAccountKeys {
  readonly base: string;
  /** Zset "serverId:channelId" → when the account's data there expires. */
  readonly channels: string;
  /** Set of the servers where the account has keys. */
  readonly servers: string;

  constructor(base: string) {
    this.base = base;
    this.channels = `${base}:chn`;
    this.servers = `${base}:srv`;
  }
}

/**
 * Every projection key, by family: one object per entity (C2cKeys, GroupKeys, …) that names
 * each of its keys, used by the stores and the tests alike, so each key has one spelling.
 */
export class Keyspace {
  /**
   * @param base REDIS_KEY_PREFIX, or a generation's full prefix when `generations` is omitted
   * @param generations when given, every key is built under the active generation
   */
  constructor(
    private readonly base: string,
    private readonly generations?: GenerationSource,
  ) {}

  /** The prefix every key starts with now: the base plus the active generation. */
  get prefix(): string {
    return this.generations ? generationPrefix(this.base, this.generations.current()) : this.base;
  }

  /**
   * Where an account's existence is kept: field ACCOUNT_FIELD of its one-to-one counts hash
   * (`c2c(…).counts`), under the account's own hash tag beside its projections, so the c2c
   * total and the existence check are one HMGET on the owner's slot and a tenant of any size
   * spreads over a cluster (docs/projections.md, "Directory").
   */
  account(app: string, account: string): { key: string; field: string } {
    return { key: this.c2c(app, account).counts, field: ACCOUNT_FIELD };
  }

  /** A one-to-one owner's keys. */
  c2c(app: string, owner: string): C2cKeys {
    return new C2cKeys(`${this.prefix}:c2c:{${esc(app)}:${esc(owner)}}`);
  }

  /** A group's keys. */
  group(app: string, groupId: string): GroupKeys {
    return new GroupKeys(`${this.prefix}:grp:{${esc(app)}:${esc(groupId)}}`);
  }

  /** An account's own group-side keys (the groups it is in). */
  member(app: string, account: string): MemberKeys {
    return new MemberKeys(`${this.prefix}:mbr:{${esc(app)}:${esc(account)}}`);
  }

  /** A QChat channel's keys. */
  channel(app: string, serverId: string, channelId: string): ChannelKeys {
    return new ChannelKeys(`${this.prefix}:chn:{${esc(app)}:${serverId}:${channelId}}`);
  }

  /** An account's own QChat index keys (the channels and servers where it has keys). */
  qchatAccount(app: string, account: string): QchatAccountKeys {
    return new QchatAccountKeys(`${this.prefix}:qacc:{${esc(app)}:${esc(account)}}`);
  }

  /** A QChat server's keys (members, role grants, channels). */
  server(app: string, serverId: string): ServerKeys {
    return new ServerKeys(`${this.prefix}:srv:{${esc(app)}:${serverId}}`);
  }

  /**
   * How far this generation holds each partition's events (positions.lua). One hash per
   * Redis node on a cluster (the tag picks a slot of the node), one in all otherwise.
   */
  positions(tag = 'pos'): string {
    return `${this.prefix}:pos:{${tag}}`;
  }
}
