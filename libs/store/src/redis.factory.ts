import Redis, { Cluster, type RedisOptions } from 'ioredis';
import type { AppConfig } from '@app/config';

/** The client type the store works with: a single Redis or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** Queue commands while disconnected (the projector wants this; the gateway fails fast instead). */
  offlineQueue: boolean;
  /** Per-command timeout in ms (0 = none). */
  commandTimeoutMs?: number;
  connectionName: string;
}

/**
 * Creates the ioredis client for a configuration. Auto-pipelining batches every command
 * issued in one tick into one round trip per node, which is how both apps pipeline
 * without giving up Redis Cluster support (ioredis pipelines must stay on one node).
 */
export function createRedisClient(config: AppConfig['redis'], opts: RedisClientOptions): RedisClient {
  const common: RedisOptions = {
    enableAutoPipelining: true,
    enableOfflineQueue: opts.offlineQueue,
    maxRetriesPerRequest: opts.offlineQueue ? null : 1,
    commandTimeout: opts.commandTimeoutMs || undefined,
    connectionName: opts.connectionName,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
  };
  if (config.clusterNodes?.length) {
    return new Cluster(config.clusterNodes, {
      enableAutoPipelining: true,
      enableOfflineQueue: opts.offlineQueue,
      redisOptions: common,
      clusterRetryStrategy: (times: number) => Math.min(100 * times, 2_000),
    });
  }
  return new Redis(config.url ?? 'redis://127.0.0.1:6379', common);
}
