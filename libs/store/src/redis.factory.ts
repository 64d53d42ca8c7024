import Redis, { Cluster, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import type { RedisConfig, RedisTls } from '@app/config';
import { registerScripts } from './write';

/** The client type the store works with: a single Redis or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** Queue commands while disconnected (the projector wants this; the gateway fails fast instead). */
  offlineQueue: boolean;
  /** Per-command timeout in ms (0 = none). */
  commandTimeoutMs?: number;
  connectionName: string;
}

/** How long one Sentinel may take to answer before the next one is asked. */
const SENTINEL_COMMAND_TIMEOUT_MS = 1_000;

/** Clients being closed on purpose (closeRedisClient): the only ones allowed to end. */
const closing = new WeakSet<RedisClient>();

/**
 * Closes a client made by createRedisClient for good: QUIT, then disconnect(), which also
 * closes the Sentinel failover detector's subscriptions (QUIT alone leaves them open, and
 * they would reconnect for ever).
 */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  closing.add(client);
  await client.quit().catch(() => undefined);
  client.disconnect();
}

function tlsOptions(tls: RedisTls | undefined): ConnectionOptions | undefined {
  if (!tls) return undefined;
  return { ...(tls.ca !== undefined ? { ca: tls.ca } : {}), ...(tls.servername !== undefined ? { servername: tls.servername } : {}) };
}

/**
 * A demoted primary (a Sentinel failover that found the old primary alive, or a managed
 * endpoint that moved) answers writes with READONLY: drop the connection so the next one
 * goes to the current primary. The failed command is rejected, not resent (`1`, not `2`):
 * resending it alone would apply it after the commands that followed it in the pipeline,
 * while the projector retries the whole batch in order and the gateway answers its
 * documented internal error.
 */
export function reconnectOnReadonly(err: Error): 1 | false {
  return err.message.startsWith('READONLY') ? 1 : false;
}

/**
 * Creates the ioredis client for a configuration: a single Redis (REDIS_URL), a Redis
 * Cluster (REDIS_CLUSTER_NODES) or the primary that Sentinel names (REDIS_SENTINELS).
 * Auto-pipelining batches every command issued in one tick into one round trip per node,
 * which is how both apps pipeline without giving up Redis Cluster support (ioredis
 * pipelines must stay on one node).
 *
 * Under Sentinel, every (re)connection asks the Sentinels for the current primary and
 * checks the node's role before it is used, so after a failover the client reaches the
 * promoted replica by itself; it also subscribes to the Sentinels' `+switch-master` and
 * reconnects at once when the primary changes (failoverDetector), instead of waiting
 * for the old primary to fail.
 */
export function createRedisClient(config: RedisConfig, opts: RedisClientOptions): RedisClient {
  const common: RedisOptions = {
    enableAutoPipelining: true,
    enableOfflineQueue: opts.offlineQueue,
    maxRetriesPerRequest: opts.offlineQueue ? null : 1,
    commandTimeout: opts.commandTimeoutMs || undefined,
    connectionName: opts.connectionName,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    reconnectOnError: reconnectOnReadonly,
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
  };
  const tls = tlsOptions(config.tls);
  if (config.clusterNodes?.length) {
    return new Cluster(config.clusterNodes, {
      enableAutoPipelining: true,
      enableOfflineQueue: opts.offlineQueue,
      redisOptions: { ...common, ...(tls ? { tls } : {}) },
      clusterRetryStrategy: (times: number) => Math.min(100 * times, 2_000),
    });
  }
  if (config.sentinel) {
    const s = config.sentinel;
    const sentinelTls = tlsOptions(s.tls);
    const client = new Redis({
      ...common,
      sentinels: s.sentinels,
      name: s.masterName,
      role: 'master',
      ...(s.username !== undefined ? { sentinelUsername: s.username } : {}),
      ...(s.password !== undefined ? { sentinelPassword: s.password } : {}),
      ...(config.db !== undefined ? { db: config.db } : {}),
      ...(tls ? { tls, enableTLSForSentinelMode: true } : {}),
      ...(sentinelTls ? { sentinelTLS: sentinelTls } : {}),
      failoverDetector: true,
      updateSentinels: true,
      sentinelCommandTimeout: SENTINEL_COMMAND_TIMEOUT_MS,
      // Ask the Sentinels again and again (never give up: they may all be restarting).
      sentinelRetryStrategy: (times: number) => Math.min(100 * times, 2_000),
      // The failover detector's own connections (ioredis waits a minute by default).
      sentinelReconnectStrategy: (times: number) => Math.min(200 * times, 5_000),
    });
    // ioredis gives a Sentinel client up for good (status "end", "Connection is closed.") when
    // a disconnect lands while it is asking the Sentinels for the primary, as the failover
    // detector's does when `+switch-master` arrives during a reconnection (likely when a
    // Sentinel hangs: test/redis-sentinel.e2e-spec.ts, "… a Sentinel hanging during the
    // failover"; without this, both apps stay stuck after the switch). Nothing but
    // closeRedisClient may end these clients, so start it again.
    client.on('end', () => {
      if (closing.has(client)) return;
      setTimeout(() => void client.connect().catch(() => undefined), 100).unref();
    });
    registerScripts(client);
    return client;
  }
  const client = new Redis(config.url ?? 'redis://127.0.0.1:6379', { ...common, ...(tls ? { tls } : {}) });
  // the whole script catalog, before any command can build an auto-pipeline (write.ts)
  registerScripts(client);
  return client;
}
