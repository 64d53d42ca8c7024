import type { AccountDeleted, AccountRegistered } from '@app/contracts';
import type { ChannelStore } from './channel.store';
import type { C2cStore } from './c2c.store';
import type { GroupStore } from './group.store';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';

/**
 * Accounts of each tenant. An account's existence is a field of its own one-to-one counts
 * hash (`Keyspace.account`), on the account's slot: no key grows with the tenant, and the
 * c2c total answers existence and count in one HMGET. Deleting an account removes every
 * projection key of that account, family by family (the counts hash with its marker among
 * them).
 *
 * Data written before this layout kept existence in one set per tenant
 * (`Keyspace.legacyAccounts`): readers that do not find an account per account look there
 * too (one more command, for unknown accounts only) until `migrate-accounts` has moved
 * the set (docs/projections.md, "Directory").
 */
export class DirectoryStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    private readonly c2c: C2cStore,
    private readonly group: GroupStore,
    private readonly channel: ChannelStore,
  ) {}

  async accountRegistered(e: AccountRegistered): Promise<void> {
    const { key, field } = this.keys.account(e.appId, e.account);
    await this.redis.hset(key, field, '1');
  }

  async accountDeleted(e: AccountDeleted): Promise<void> {
    const { key, field } = this.keys.account(e.appId, e.account);
    await Promise.all([
      this.redis.hdel(key, field),
      this.redis.srem(this.keys.legacyAccounts(e.appId), e.account),
      this.c2c.deleteAccount(e.appId, e.account),
      this.group.deleteAccount(e.appId, e.account),
      this.channel.deleteAccount(e.appId, e.account),
    ]);
  }

  async exists(app: string, account: string): Promise<boolean> {
    const { key, field } = this.keys.account(app, account);
    return (await this.redis.hexists(key, field)) === 1 || this.legacyExists(app, account);
  }

  /** Existence of several accounts, in the order given (one HEXISTS per account, issued in one tick). */
  existMany(app: string, accounts: readonly string[]): Promise<boolean[]> {
    return Promise.all(accounts.map((a) => this.exists(app, a)));
  }

  /**
   * The fallback for an account not found per account: the tenant's set of the previous
   * layout. A deployment that never had it (or migrated) pays one SISMEMBER on a missing
   * key, for unknown accounts only.
   */
  legacyExists(app: string, account: string): Promise<boolean> {
    return this.redis.sismember(this.keys.legacyAccounts(app), account).then((v) => v === 1);
  }
}
