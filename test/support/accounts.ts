import type Redis from 'ioredis';
import type { Keyspace } from '@app/store';

/** 1 when the account is registered in `keys` (its marker field, Keyspace.account), else 0. */
export function registered(redis: Redis, keys: Keyspace, app: string, account: string): Promise<number> {
  const { key, field } = keys.account(app, account);
  return redis.hexists(key, field);
}
