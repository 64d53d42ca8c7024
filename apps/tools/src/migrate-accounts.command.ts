import { Cluster } from 'ioredis';
import type { AppConfig } from '@app/config';
import { Generations, Keyspace, createRedisClient, generationPrefix, type RedisClient } from '@app/store';

export interface MigrateAccountsResult {
  generation: number;
  /** Tenants whose per-tenant account set was found. */
  tenants: number;
  /** Accounts moved to their per-account marker. */
  accounts: number;
}

/** Reverses Keyspace.legacyAccounts' escaping of the tenant id. */
function unesc(id: string): string {
  return id.replace(/%(25|7B|7D|3A)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * `migrate-accounts`: moves account existence of the active generation from the per-tenant
 * sets of the previous layout (`<prefix>:acct:{<app>}`) to each account's marker field
 * (Keyspace.account, docs/projections.md, "Directory"). Batches of 500: each batch writes
 * the markers, then removes those members from the set, so the command can be stopped and
 * run again; gateways find an account in either place meanwhile. The empty set disappears.
 */
export async function migrateAccounts(config: AppConfig, log: (line: string) => void = () => undefined): Promise<MigrateAccountsResult> {
  const redis = createRedisClient(config.redis, { offlineQueue: true, connectionName: 'unread-migrate-accounts' });
  try {
    const generation = (await new Generations(redis, config.redis.keyPrefix).read()).active;
    const keys = new Keyspace(generationPrefix(config.redis.keyPrefix, generation));
    const pattern = keys.legacyAccounts('*'); // esc leaves '*' alone: a SCAN pattern
    const sets = new Set<string>();
    const nodes: RedisClient[] = redis instanceof Cluster ? redis.nodes('master') : [redis];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        for (const k of found) if (/^.*:acct:\{[^}]*\}$/.test(k)) sets.add(k);
      } while (cursor !== '0');
    }
    let accounts = 0;
    for (const set of sets) {
      const app = unesc(set.slice(set.lastIndexOf('{') + 1, -1));
      for (;;) {
        const batch = await redis.srandmember(set, 500);
        if (batch.length === 0) break;
        await Promise.all(batch.map((a) => {
          const { key, field } = keys.account(app, a);
          return redis.hset(key, field, '1');
        }));
        await redis.srem(set, ...batch);
        accounts += batch.length;
      }
      log(`migrate-accounts: ${app} done (${accounts} accounts so far)`);
    }
    return { generation, tenants: sets.size, accounts };
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
