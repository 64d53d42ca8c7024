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

export class Keyspace {
  constructor(readonly prefix: string) {}

  /** The set of registered accounts of a tenant (one slot per tenant). */
  accounts(app: string): string {
    return `${this.prefix}:acct:{${esc(app)}}`;
  }

  /** Base of a one-to-one owner's keys: every key of (app, owner) starts with it. */
  c2c(app: string, owner: string): string {
    return `${this.prefix}:c2c:{${esc(app)}:${esc(owner)}}`;
  }

  /** Base of a group's keys. */
  group(app: string, groupId: string): string {
    return `${this.prefix}:grp:{${esc(app)}:${esc(groupId)}}`;
  }

  /** Base of an account's own group-side keys (the groups it is in). */
  member(app: string, account: string): string {
    return `${this.prefix}:mbr:{${esc(app)}:${esc(account)}}`;
  }

  /** Base of a QChat channel's keys. */
  channel(app: string, serverId: string, channelId: string): string {
    return `${this.prefix}:chn:{${esc(app)}:${serverId}:${channelId}}`;
  }

  /** Base of a QChat server's keys (members, role grants). */
  server(app: string, serverId: string): string {
    return `${this.prefix}:srv:{${esc(app)}:${serverId}}`;
  }

  /** Pattern that matches every key of this keyspace (for SCAN in tests and tooling). */
  all(): string {
    return `${this.prefix}:*`;
  }
}
