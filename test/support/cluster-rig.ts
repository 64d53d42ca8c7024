/**
 * A Redis Cluster of real processes on free ports, with or without replicas, created by
 * `redis-cli --cluster create`, with the faults the failover tests inject and waits on the
 * cluster's own failover. `stop()` stops every node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { type Cluster } from 'ioredis';
import type { HostPort } from '@app/config';
import { createRedisClient } from '@app/store';
import { RedisServer } from './processes';
import { HOST, ask, replicationInfo, run, stallReplica } from './redis-faults';
import { snapshot, type Snapshot } from './snapshot';
import { waitFor } from './wait';

/** A node of a Redis Cluster as CLUSTER NODES describes it. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** For a replica: the id of its master. */
  masterId?: string;
  failed: boolean;
  /** For a master: the slot ranges it serves. */
  slots: [number, number][];
}

function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, addr, flags, master, , , , , ...slots] = line.trim().split(' ');
      const f = flags!.split(',');
      return {
        id: id!,
        port: Number(addr!.split('@')[0]!.split(':').pop()),
        role: f.includes('master') ? ('master' as const) : ('replica' as const),
        ...(master && master !== '-' ? { masterId: master } : {}),
        failed: f.includes('fail') || f.includes('fail?'),
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s): [number, number] => {
            const [a, b] = s.split('-');
            return [Number(a), Number(b ?? a)];
          }),
      };
    });
}

export interface RedisClusterOptions {
  masters?: number;
  /** Replicas per master (0 or more). */
  replicas?: number;
  /** cluster-node-timeout: how long a silent master takes to be failed over. */
  nodeTimeoutMs?: number;
}

/**
 * A Redis Cluster of real `redis-server --cluster-enabled yes` processes, created with
 * `redis-cli --cluster create … --cluster-replicas N --cluster-yes`. Replicas always take
 * over from a dead master (cluster-replica-validity-factor 0), however long they were cut
 * off, since the tests stall them on purpose.
 */
export class RedisClusterRig {
  private constructor(
    private readonly dir: string,
    readonly nodes: RedisServer[],
  ) {}

  /** Seed nodes for the apps' cluster client. */
  get seeds(): HostPort[] {
    return this.nodes.map((n) => ({ host: HOST, port: n.port }));
  }

  /** The variables that make an app use this cluster (for testConfig's overrides; REDIS_URL emptied). */
  env(): Record<string, string> {
    return { REDIS_URL: '', REDIS_CLUSTER_NODES: this.seeds.map((s) => `${s.host}:${s.port}`).join(',') };
  }

  static async start(opts: RedisClusterOptions = {}): Promise<RedisClusterRig> {
    const masters = opts.masters ?? 3;
    const replicas = opts.replicas ?? 0;
    const dir = mkdtempSync(join(tmpdir(), 'unread-cluster-'));
    const nodes: RedisServer[] = [];
    const rig = new RedisClusterRig(dir, nodes);
    try {
      for (let i = 0; i < masters * (1 + replicas); i++) {
        nodes.push(
          await RedisServer.start([
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${i}.conf`),
            '--cluster-node-timeout',
            String(opts.nodeTimeoutMs ?? 2_000),
            '--cluster-replica-validity-factor',
            '0',
          ]),
        );
      }
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${HOST}:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
      await rig.waitHealthy(masters, replicas);
    } catch (err) {
      await rig.stop();
      throw err;
    }
    return rig;
  }

  /** The cluster as one live node sees it (CLUSTER NODES). */
  async topology(): Promise<ClusterNodeInfo[]> {
    let last: unknown;
    for (const n of this.nodes.filter((x) => x.running)) {
      try {
        return parseClusterNodes(String(await ask(n.port, (r) => r.call('CLUSTER', 'NODES'))));
      } catch (err) {
        last = err;
      }
    }
    throw new Error(`no cluster node answered: ${(last as Error | undefined)?.message}`);
  }

  node(port: number): RedisServer {
    const n = this.nodes.find((x) => x.port === port);
    if (!n) throw new Error(`no node on ${port}`);
    return n;
  }

  /** Waits until every live node says cluster_state:ok and every master has `replicas` replicas with their link up. */
  async waitHealthy(masters: number, replicas: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        const live = this.nodes.filter((n) => n.running);
        const states = await Promise.all(live.map((n) => ask(n.port, (r) => r.cluster('INFO')).then((i) => String(i).includes('cluster_state:ok'))));
        const topo = await this.topology();
        const links = await Promise.all(
          topo.filter((t) => t.role === 'replica' && !t.failed).map((t) => replicationInfo(t.port).then((i) => i.master_link_status === 'up')),
        );
        const liveMasters = topo.filter((t) => t.role === 'master' && !t.failed && t.slots.length > 0);
        return states.every(Boolean) && links.every(Boolean) && liveMasters.length === masters && links.length === masters * replicas;
      },
      Boolean,
      { timeoutMs, intervalMs: 100, what: `cluster_state:ok with ${masters} masters and ${replicas} linked replica(s) each` },
    );
  }

  /** Every live master serving slots, with its live replicas. */
  async shards(): Promise<{ master: RedisServer; replicas: RedisServer[]; slots: [number, number][] }[]> {
    const topo = await this.topology();
    return topo
      .filter((t) => t.role === 'master' && !t.failed && t.slots.length > 0)
      .map((m) => ({
        master: this.node(m.port),
        replicas: topo.filter((t) => t.masterId === m.id && !t.failed).map((t) => this.node(t.port)),
        slots: m.slots,
      }));
  }

  /** The master that serves `key`'s slot, and its replicas. */
  async shardOf(key: string): Promise<{ master: RedisServer; replicas: RedisServer[] }> {
    const slot = Number(await ask(this.nodes.find((n) => n.running)!.port, (r) => r.call('CLUSTER', 'KEYSLOT', key)));
    const shard = (await this.shards()).find((s) => s.slots.some(([a, b]) => slot >= a && slot <= b));
    if (!shard) throw new Error(`no master serves slot ${slot}`);
    return shard;
  }

  /** SIGSTOP a master's replica and cut its link: it falls behind by everything written from now on (see stallReplica). */
  stallReplica(replica: RedisServer, master: RedisServer): Promise<void> {
    return stallReplica(replica, master);
  }

  /** SIGCONT the stalled replica. */
  resumeReplica(replica: RedisServer): void {
    replica.resume();
  }

  /** SIGKILL a master: a crash, nothing more reaches its replicas. */
  killMaster(master: RedisServer): Promise<void> {
    return master.kill();
  }

  /** Waits until every live node sees `replica` as a master serving slots, and the cluster is ok again. */
  async waitForPromotion(replica: RedisServer, timeoutMs = 45_000): Promise<void> {
    await waitFor(
      async () => {
        const live = this.nodes.filter((n) => n.running);
        const views = await Promise.all(live.map((n) => ask(n.port, (r) => r.call('CLUSTER', 'NODES')).then((t) => parseClusterNodes(String(t)))));
        const promoted = views.every((v) => v.some((t) => t.port === replica.port && t.role === 'master' && t.slots.length > 0));
        const ok = await Promise.all(live.map((n) => ask(n.port, (r) => r.cluster('INFO')).then((i) => String(i).includes('cluster_state:ok'))));
        return promoted && ok.every(Boolean);
      },
      Boolean,
      { timeoutMs, intervalMs: 100, what: `the cluster to promote ${replica.port}` },
    );
  }

  /** Every live master's projection keys under `prefix`, merged (each key lives on exactly one master). */
  async snapshot(prefix: string): Promise<Snapshot> {
    const masters = (await this.topology()).filter((t) => t.role === 'master' && !t.failed && t.slots.length > 0);
    const parts: Snapshot[] = [];
    for (const m of masters) {
      const client = new Redis({ host: HOST, port: m.port });
      try {
        parts.push(await snapshot(client, prefix));
      } finally {
        client.disconnect();
      }
    }
    return Object.fromEntries(parts.flatMap((p) => Object.entries(p)).sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) await n.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A three-master Redis Cluster with the apps' own client of it (`connectionName`), and one
 * plain Redis beside it with a client, for differential checks: started in the beforeAll of
 * the describe block that calls this, stopped in its afterAll. Read them inside the tests.
 */
export function clusterBesideOneRedis(connectionName: string): { readonly rig: RedisClusterRig; readonly cluster: Cluster; readonly single: RedisServer; readonly singleClient: Redis } {
  let started: { rig: RedisClusterRig; cluster: Cluster; single: RedisServer; singleClient: Redis } | undefined;
  let rig: RedisClusterRig | undefined;
  let cluster: Cluster | undefined;
  let single: RedisServer | undefined;
  let singleClient: Redis | undefined;
  beforeAll(async () => {
    rig = await RedisClusterRig.start({ masters: 3 });
    cluster = createRedisClient({ clusterNodes: rig.seeds, keyPrefix: 'u' }, { offlineQueue: true, connectionName }) as Cluster;
    single = await RedisServer.start();
    singleClient = new Redis(single.url);
    started = { rig, cluster, single, singleClient };
  });
  afterAll(async () => {
    cluster?.disconnect();
    singleClient?.disconnect();
    await single?.stop();
    await rig?.stop();
  });
  const get = () => {
    if (!started) throw new Error('clusterBesideOneRedis: read it inside a test (it starts in beforeAll)');
    return started;
  };
  return {
    get rig() {
      return get().rig;
    },
    get cluster() {
      return get().cluster;
    },
    get single() {
      return get().single;
    },
    get singleClient() {
      return get().singleClient;
    },
  };
}
