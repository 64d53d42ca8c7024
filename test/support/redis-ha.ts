/**
 * Highly available Redis topologies made of real processes on free ports, for the failover
 * tests: a Sentinel deployment (primary, replica, three Sentinels) and a Redis Cluster
 * (with or without one replica per master), with the faults those tests inject (stall a
 * replica, SIGKILL a primary, flush or restart a Redis empty) and waits on what Sentinel
 * or the cluster did about them. Everything is stopped by `stop()`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket, connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import type { HostPort } from '@app/config';
import { freePort, RedisServer } from './processes';
import { snapshot, type Snapshot } from './snapshot';
import { waitFor } from './wait';

const run = promisify(execFile);
const HOST = '127.0.0.1';

/** One short-lived connection per call, so a dead or paused node never leaves a client retrying. */
async function ask<T>(port: number, work: (r: Redis) => Promise<T>, timeoutMs = 1_000): Promise<T> {
  const r = new Redis({ host: HOST, port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, commandTimeout: timeoutMs });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await work(r);
  } finally {
    r.disconnect();
  }
}

/** `INFO replication` of a node as a map (role, master_link_status, connected_slaves, …). */
export async function replicationInfo(port: number): Promise<Record<string, string>> {
  const text = await ask(port, (r) => r.info('replication'));
  return Object.fromEntries(
    text
      .split('\r\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
  );
}

/** FLUSHALL on a node: Redis keeps running, empty (as after a restore of an empty snapshot). */
export async function flushAll(server: RedisServer): Promise<void> {
  await ask(server.port, (r) => r.flushall());
}

/** How many keys a node holds. */
export function keyCount(server: RedisServer): Promise<number> {
  return ask(server.port, (r) => r.dbsize());
}

/**
 * SIGKILL and start again on the same port: a Redis that came back empty, for a server
 * started without persistence (RedisServer's default: `--save "" --appendonly no`).
 * `whileDown` runs between the two (e.g. to produce events the projector must hold).
 */
export async function restartEmpty(server: RedisServer, whileDown: () => Promise<void> = () => Promise.resolve()): Promise<void> {
  await server.kill();
  await whileDown();
  await server.restart();
}

/** Waits until a replica has received everything its primary wrote so far (WAIT on the primary). */
export async function waitReplicated(primary: RedisServer, replicas = 1, timeoutMs = 10_000): Promise<void> {
  const acked = await ask(primary.port, (r) => r.call('WAIT', String(replicas), String(timeoutMs)) as Promise<number>, timeoutMs + 1_000);
  if (acked < replicas) throw new Error(`only ${acked} of ${replicas} replicas of ${primary.port} acknowledged within ${timeoutMs} ms`);
}

/**
 * Stalls a replica so that it falls behind by exactly what its primary writes from now on:
 * SIGSTOP, then the primary drops its replication links. (With SIGSTOP alone, the kernel's
 * socket buffers would still carry megabytes of the stream to it, delivered when it
 * resumes.) A paused replica cannot reconnect; `resume()` on it lets it try again.
 */
export async function stallReplica(replica: RedisServer, primary: RedisServer): Promise<void> {
  replica.pause();
  await ask(primary.port, (r) => r.call('CLIENT', 'KILL', 'TYPE', 'replica'));
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

function pingable(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = new Socket();
    s.once('error', () => r(false));
    s.connect(port, HOST, () => {
      s.write('PING\r\n');
      s.once('data', (d) => {
        s.destroy();
        r(d.toString().startsWith('+PONG'));
      });
    });
  });
}

/** One `redis-server --sentinel` with its own (rewritable) configuration file. */
class SentinelProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(dir: string, masterName: string, primaryPort: number, opts: { downAfterMs: number; failoverTimeoutMs: number }): Promise<SentinelProcess> {
    const port = await freePort();
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        `sentinel monitor ${masterName} ${HOST} ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${opts.downAfterMs}`,
        `sentinel failover-timeout ${masterName} ${opts.failoverTimeoutMs}`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'),
    );
    const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    const s = new SentinelProcess(child, port);
    await waitFor(() => (child.exitCode !== null ? Promise.reject(new Error(`sentinel on ${port} exited`)) : pingable(port)), Boolean, {
      timeoutMs: 10_000,
      what: `sentinel on ${port} to answer PING`,
    });
    return s;
  }

  /** The primary this Sentinel names for `masterName` right now. */
  async master(masterName: string): Promise<HostPort> {
    const [host, port] = (await ask(this.port, (r) => r.call('SENTINEL', 'get-master-addr-by-name', masterName))) as [string, string];
    return { host, port: Number(port) };
  }

  /** How many replicas of `masterName` this Sentinel knows. */
  async replicas(masterName: string): Promise<number> {
    return ((await ask(this.port, (r) => r.call('SENTINEL', 'replicas', masterName))) as unknown[]).length;
  }

  /** How many other Sentinels of `masterName` this one knows. */
  async peers(masterName: string): Promise<number> {
    return ((await ask(this.port, (r) => r.call('SENTINEL', 'sentinels', masterName))) as unknown[]).length;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await exited(this.child);
  }
}

export interface SentinelTopologyOptions {
  /** The master name Sentinel monitors (REDIS_SENTINEL_MASTER). */
  masterName?: string;
  /** Sentinel's down-after-milliseconds: how long a silent primary takes to be considered down. */
  downAfterMs?: number;
  /** Sentinel's failover-timeout (a failover that found no good replica is retried after twice this). */
  failoverTimeoutMs?: number;
}

/**
 * A Sentinel deployment: a primary, one replica and three Sentinels (quorum 2), with a low
 * down-after-milliseconds and failover-timeout, so a failover takes a few seconds.
 */
export class SentinelTopology {
  private constructor(
    private readonly dir: string,
    readonly masterName: string,
    /** The two data nodes; which one is primary changes with failovers (`currentPrimary`). */
    readonly nodes: RedisServer[],
    private readonly sentinelProcesses: SentinelProcess[],
  ) {}

  /** The node that was primary at start. */
  get primary(): RedisServer {
    return this.nodes[0]!;
  }

  /** The node that was the replica at start. */
  get replica(): RedisServer {
    return this.nodes[1]!;
  }

  get sentinels(): HostPort[] {
    return this.sentinelProcesses.map((s) => ({ host: HOST, port: s.port }));
  }

  /** The variables that make an app use this deployment (for testConfig's overrides; REDIS_URL emptied). */
  env(): Record<string, string> {
    return {
      REDIS_URL: '',
      REDIS_SENTINELS: this.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_SENTINEL_MASTER: this.masterName,
    };
  }

  static async start(opts: SentinelTopologyOptions = {}): Promise<SentinelTopology> {
    const masterName = opts.masterName ?? `m${Math.floor(Math.random() * 1e9).toString(36)}`;
    const dir = mkdtempSync(join(tmpdir(), 'unread-sentinel-'));
    const primary = await RedisServer.start();
    const replica = await RedisServer.start(['--replicaof', HOST, String(primary.port)]);
    const sentinels: SentinelProcess[] = [];
    const topology = new SentinelTopology(dir, masterName, [primary, replica], sentinels);
    try {
      await waitFor(() => replicationInfo(replica.port), (i) => i.master_link_status === 'up', { what: 'the replica to sync with the primary' });
      for (let i = 0; i < 3; i++) {
        sentinels.push(await SentinelProcess.start(dir, masterName, primary.port, { downAfterMs: opts.downAfterMs ?? 1_000, failoverTimeoutMs: opts.failoverTimeoutMs ?? 3_000 }));
      }
      // A failover needs every Sentinel to know the replica and a quorum of its peers.
      await waitFor(
        () => Promise.all(sentinels.map(async (s) => ({ replicas: await s.replicas(masterName), peers: await s.peers(masterName) }))),
        (all) => all.every((s) => s.replicas === 1 && s.peers === 2),
        { timeoutMs: 30_000, intervalMs: 100, what: 'every Sentinel to know the replica and the two other Sentinels' },
      );
    } catch (err) {
      await topology.stop();
      throw err;
    }
    return topology;
  }

  /** The primary the (first answering) Sentinel names right now. */
  async currentPrimary(): Promise<HostPort> {
    let last: unknown;
    for (const s of this.sentinelProcesses) {
      try {
        return await s.master(this.masterName);
      } catch (err) {
        last = err;
      }
    }
    throw new Error(`no Sentinel answered: ${(last as Error).message}`);
  }

  /** The data node Sentinel names as primary right now. */
  async currentPrimaryNode(): Promise<RedisServer> {
    const { port } = await this.currentPrimary();
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`Sentinel names ${port}, which is none of this topology's nodes`);
    return node;
  }

  /** SIGSTOP the replica and cut its link: it falls behind by everything written from now on (see stallReplica). */
  stallReplica(replica: RedisServer = this.replica, primary: RedisServer = this.primary): Promise<void> {
    return stallReplica(replica, primary);
  }

  /** SIGCONT the stalled replica. */
  resumeReplica(replica: RedisServer = this.replica): void {
    replica.resume();
  }

  /** SIGKILL a primary (default: the one at start): a crash, nothing is flushed to the replica. */
  killPrimary(primary: RedisServer = this.primary): Promise<void> {
    return primary.kill();
  }

  /** Waits until every Sentinel names `node` as primary and the node itself says role:master. */
  async waitForPromotion(node: RedisServer, timeoutMs = 45_000): Promise<void> {
    await waitFor(
      async () => {
        const named = await Promise.all(this.sentinelProcesses.map((s) => s.master(this.masterName).then((m) => m.port)));
        const role = (await replicationInfo(node.port)).role;
        return { named, role };
      },
      (s) => s.named.every((p) => p === node.port) && s.role === 'master',
      { timeoutMs, intervalMs: 100, what: `Sentinel to promote ${node.port}` },
    );
  }

  async stop(): Promise<void> {
    for (const s of this.sentinelProcesses) await s.stop();
    for (const n of this.nodes) await n.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

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
 * One TCP endpoint that forwards every new connection to wherever `target()` says the
 * primary is at that moment, and leaves open connections where they are: what the endpoint
 * of a managed Redis with a replica does (docs/configuration.md, "one Redis"). Apps reach it
 * through REDIS_URL (`url`).
 */
export class PrimaryRelay {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  static async start(target: () => Promise<HostPort> | HostPort): Promise<PrimaryRelay> {
    const sockets = new Set<Socket>();
    const track = (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    };
    const server = createServer((client) => {
      track(client);
      client.pause();
      void Promise.resolve()
        .then(target)
        .then(
          (t) => {
            const upstream = connect(t.port, t.host);
            track(upstream);
            upstream.once('close', () => client.destroy());
            client.once('close', () => upstream.destroy());
            upstream.on('error', () => client.destroy());
            client.on('error', () => upstream.destroy());
            client.pipe(upstream).pipe(client);
            client.resume();
          },
          () => client.destroy(),
        );
    });
    await new Promise<void>((r) => server.listen(0, HOST, r));
    const addr = server.address();
    return new PrimaryRelay(server, sockets, typeof addr === 'object' && addr ? addr.port : 0);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
