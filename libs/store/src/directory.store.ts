import type { AccountDeleted, AccountRegistered } from '@app/contracts';
import type { ChannelStore } from './channel.store';
import type { C2cStore } from './c2c.store';
import type { GroupStore } from './group.store';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';
import { command, type Write, type Writer } from './write';

/**
 * Accounts of each tenant. An account's existence is a field of its own one-to-one counts
 * hash (`Keyspace.account`), on the account's slot: no key grows with the tenant, and the
 * c2c total answers existence and count in one HMGET. Deleting an account removes every
 * projection key of that account, family by family (the counts hash with its marker among
 * them).
 */
export class DirectoryStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    private readonly c2c: C2cStore,
    private readonly group: GroupStore,
    private readonly channel: ChannelStore,
  ) {}

  /** The write of account-registered: the marker. */
  registeredWrites(e: AccountRegistered): Write[] {
    const { key, field } = this.keys.account(e.appId, e.account);
    return [command('HSET', [key], [field, '1'])];
  }

  /** account-deleted: the marker, then every family's keys of the account (each reads, then writes). */
  async accountDeleted(writer: Writer, e: AccountDeleted): Promise<void> {
    const { key, field } = this.keys.account(e.appId, e.account);
    await Promise.all([
      writer.run([command('HDEL', [key], [field])]),
      this.c2c.deleteAccount(writer, e.appId, e.account),
      this.group.deleteAccount(writer, e.appId, e.account),
      this.channel.deleteAccount(writer, e.appId, e.account),
    ]);
  }

  async exists(app: string, account: string): Promise<boolean> {
    const { key, field } = this.keys.account(app, account);
    return (await this.redis.hexists(key, field)) === 1;
  }

  /** Existence of several accounts, in the order given (one HEXISTS per account, issued in one tick). */
  existMany(app: string, accounts: readonly string[]): Promise<boolean[]> {
    return Promise.all(accounts.map((a) => this.exists(app, a)));
  }
}
