import { Cluster } from 'ioredis';
import type { ProjectionStore } from './projection.store';

/** What `unread prune-unregistered` found (docs/cli.md). */
export interface PruneReport {
  /** One-to-one owners looked at (every owner with unread messages or read times). */
  owners: number;
  /** Owners never registered and idle since the cutoff: removed (or, checking only, removable). */
  pruned: number;
  /** Their unread counts, summed. */
  unread: number;
  /** Owners never registered but with something at or after the cutoff: kept. */
  recent: number;
}

/** The inverse of keyspace.ts's esc(). */
function unesc(id: string): string {
  return id.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * The bound on recipients that are never registered (docs/projections.md, "Recipients never
 * registered"): walks every one-to-one owner of the store's generation (SCAN on every
 * master) and removes the keys of each owner that has no registration marker and no unread
 * message and no read time at or after `now − idleMs` (one checked call per owner on its
 * slot: C2cStore.pruneUnregistered). `app` limits it to one tenant; `check` only counts.
 */
export async function pruneUnregistered(store: ProjectionStore, opts: { idleMs: number; app?: string; now?: number; check?: boolean }): Promise<PruneReport> {
  const cutoff = (opts.now ?? Date.now()) - opts.idleMs;
  const prefix = `${store.keys.prefix}:c2c:`;
  const nodes = store.redis instanceof Cluster ? store.redis.nodes('master') : [store.redis];
  const report: PruneReport = { owners: 0, pruned: 0, unread: 0, recent: 0 };
  const seen = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}{*}:[nr]`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const m = /^\{([^:}]*):([^}]*)\}:[nr]$/.exec(key.slice(prefix.length));
        if (!m || seen.has(`${m[1]}:${m[2]}`)) continue;
        seen.add(`${m[1]}:${m[2]}`);
        const app = unesc(m[1]!);
        if (opts.app !== undefined && app !== opts.app) continue;
        report.owners++;
        const r = await store.pruneUnregisteredOwner(app, unesc(m[2]!), cutoff, opts.check);
        if (r.outcome === 'pruned') {
          report.pruned++;
          report.unread += r.unread;
        } else if (r.outcome === 'recent') report.recent++;
      }
    } while (cursor !== '0');
  }
  return report;
}
