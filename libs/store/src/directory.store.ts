import type { AccountDeleted, AccountRegistered } from '@app/contracts';
import type { ChannelStore } from './channel.store';
import type { C2cStore } from './c2c.store';
import type { GroupStore } from './group.store';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';

/**
 * Accounts of each tenant. Existence is a member of one set per tenant (`acct:{app}`), so
 * checking up to 10 peers is one SMISMEMBER on one slot. Deleting an account removes
 * every projection key of that account, family by family.
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
    await this.redis.sadd(this.keys.accounts(e.appId), e.account);
  }

  async accountDeleted(e: AccountDeleted): Promise<void> {
    await Promise.all([
      this.redis.srem(this.keys.accounts(e.appId), e.account),
      this.c2c.deleteAccount(e.appId, e.account),
      this.group.deleteAccount(e.appId, e.account),
      this.channel.deleteAccount(e.appId, e.account),
    ]);
  }

  async exists(app: string, account: string): Promise<boolean> {
    return (await this.redis.sismember(this.keys.accounts(app), account)) === 1;
  }

  /** Existence of several accounts, in the order given. */
  async existMany(app: string, accounts: readonly string[]): Promise<boolean[]> {
    if (accounts.length === 0) return [];
    const r = await this.redis.smismember(this.keys.accounts(app), ...accounts);
    return r.map((v) => v === 1);
  }
}
