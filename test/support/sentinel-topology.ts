import { randomInt } from 'node:crypto';
/**
 * A Sentinel deployment of real processes on free ports: a primary, one replica and three
 * `redis-server --sentinel` (quorum 2), with low timeouts so a failover takes seconds, and
 * waits on what Sentinel did. `stop()` stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostPort } from '@app/config';
import { Harness } from './harness';
import { freePort, reapOnExit, RedisServer } from './processes';
import { HOST, ask, exited, pingable, replicationInfo, stallReplica } from './redis-faults';
import { redisTlsArgs, type TlsFiles } from './tls-certs';
import { waitFor } from './wait';
import type { Ev } from './workload';

/** One `redis-server --sentinel` with its own (rewritable) configuration file. */
class SentinelProcess {
  paused = false;

  private constructor(
    private readonly child: ChildProcess,
    /** Plain port (the rig's own probes). */
    readonly port: number,
    /** TLS port, when the topology runs TLS (what the apps connect to). */
    readonly tlsPort?: number,
  ) {}

  /** SIGSTOP: it accepts connections (the kernel does) but answers nothing, as a hung host would. */
  pause(): void {
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  static async start(
    dir: string,
    masterName: string,
    primaryPort: number,
    opts: { downAfterMs: number; failoverTimeoutMs: number; tls?: TlsFiles },
  ): Promise<SentinelProcess> {
    const port = await freePort();
    const tlsPort = opts.tls ? await freePort() : undefined;
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
        ...(opts.tls
          ? [`tls-port ${tlsPort}`, `tls-cert-file ${opts.tls.cert}`, `tls-key-file ${opts.tls.key}`, `tls-ca-cert-file ${opts.tls.ca}`, 'tls-auth-clients no', 'tls-replication yes']
          : []),
        '',
      ].join('\n'),
    );
    const child = reapOnExit(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
    const s = new SentinelProcess(child, port, tlsPort);
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
    this.child.kill('SIGCONT');
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
  /**
   * TLS everywhere the apps connect and for replication: every node and Sentinel gets a TLS
   * port besides its plain one (kept for the rig's probes), Sentinel names the TLS ports.
   */
  tls?: TlsFiles;
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
    private readonly tls?: { files: TlsFiles; nodePorts: Map<RedisServer, number> },
  ) {}

  /** The port Sentinel hands out for a node (its TLS port under TLS). */
  announcedPort(node: RedisServer): number {
    return this.tls?.nodePorts.get(node) ?? node.port;
  }

  /** The node that was primary at start. */
  get primary(): RedisServer {
    return this.nodes[0]!;
  }

  /** The node that was the replica at start. */
  get replica(): RedisServer {
    return this.nodes[1]!;
  }

  /** The Sentinels' addresses for the apps (their TLS ports under TLS). */
  get sentinels(): HostPort[] {
    return this.sentinelProcesses.map((s) => ({ host: HOST, port: s.tlsPort ?? s.port }));
  }

  /** The variables that make an app use this deployment (for testConfig's overrides; REDIS_URL emptied). */
  env(): Record<string, string> {
    return {
      REDIS_URL: '',
      REDIS_SENTINELS: this.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_SENTINEL_MASTER: this.masterName,
      ...(this.tls ? { REDIS_TLS: 'true', REDIS_TLS_CA_FILE: this.tls.files.ca, REDIS_TLS_SERVERNAME: this.tls.files.serverName } : {}),
    };
  }

  static async start(opts: SentinelTopologyOptions = {}): Promise<SentinelTopology> {
    const masterName = opts.masterName ?? `m${randomInt(1e9).toString(36)}`;
    const dir = mkdtempSync(join(tmpdir(), 'unread-sentinel-'));
    const tlsPorts = opts.tls ? [await freePort(), await freePort()] : [];
    const tlsArgs = (i: number) => (opts.tls ? redisTlsArgs(opts.tls, tlsPorts[i]!) : []);
    const primary = await RedisServer.start(tlsArgs(0));
    const replica = await RedisServer.start([...tlsArgs(1), '--replicaof', HOST, String(opts.tls ? tlsPorts[0]! : primary.port)]);
    const sentinels: SentinelProcess[] = [];
    const tls = opts.tls ? { files: opts.tls, nodePorts: new Map([[primary, tlsPorts[0]!], [replica, tlsPorts[1]!]]) } : undefined;
    const topology = new SentinelTopology(dir, masterName, [primary, replica], sentinels, tls);
    try {
      await waitFor(() => replicationInfo(replica.port), (i) => i.master_link_status === 'up', { what: 'the replica to sync with the primary' });
      for (let i = 0; i < 3; i++) {
        sentinels.push(
          await SentinelProcess.start(dir, masterName, topology.announcedPort(primary), {
            downAfterMs: opts.downAfterMs ?? 1_000,
            failoverTimeoutMs: opts.failoverTimeoutMs ?? 3_000,
            tls: opts.tls,
          }),
        );
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
    for (const s of this.sentinelProcesses.filter((x) => !x.paused)) {
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
    const node = this.nodes.find((n) => this.announcedPort(n) === port);
    if (!node) throw new Error(`Sentinel names ${port}, which is none of this topology's nodes`);
    return node;
  }

  /** SIGSTOP the replica and cut its link: it falls behind by everything written from now on (see stallReplica). */
  stallReplica(replica: RedisServer = this.replica, primary: RedisServer = this.primary): Promise<void> {
    return stallReplica(replica, primary);
  }

  /** SIGSTOP the i-th Sentinel (of `sentinels`): it hangs, connections to it time out. */
  pauseSentinel(i: number): void {
    this.sentinelProcesses[i]!.pause();
  }

  resumeSentinel(i: number): void {
    this.sentinelProcesses[i]!.resume();
  }

  /** SIGCONT the stalled replica. */
  resumeReplica(replica: RedisServer = this.replica): void {
    replica.resume();
  }

  /** SIGKILL a primary (default: the one at start): a crash, nothing is flushed to the replica. */
  killPrimary(primary: RedisServer = this.primary): Promise<void> {
    return primary.kill();
  }

  /** Waits until every Sentinel (but paused ones) names `node` as primary and the node itself says role:master. */
  async waitForPromotion(node: RedisServer, timeoutMs = 45_000): Promise<void> {
    await waitFor(
      async () => {
        const live = this.sentinelProcesses.filter((s) => !s.paused);
        const named = await Promise.all(live.map((s) => s.master(this.masterName).then((m) => m.port)));
        const role = (await replicationInfo(node.port)).role;
        return { named, role };
      },
      (s) => s.named.every((p) => p === this.announcedPort(node)) && s.role === 'master',
      { timeoutMs, intervalMs: 100, what: `Sentinel to promote ${node.port}` },
    );
  }

  async stop(): Promise<void> {
    for (const s of this.sentinelProcesses) await s.stop();
    for (const n of this.nodes) await n.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A Sentinel deployment and a harness whose apps use it (with `env` besides), for the describe
 * block that calls this: started in its beforeAll, stopped in its afterAll (then `cleanup`).
 * Read `topo` and `h` inside the tests.
 */
export function sentinelHarness(
  env: Record<string, string> = {},
  opts: { topology?: () => Promise<SentinelTopologyOptions>; cleanup?: () => void } = {},
): { readonly topo: SentinelTopology; readonly h: Harness } {
  let topo: SentinelTopology | undefined;
  let h: Harness | undefined;
  beforeAll(async () => {
    topo = await SentinelTopology.start(await (opts.topology?.() ?? Promise.resolve({})));
    h = await Harness.start({ env: { ...topo.env(), ...env } });
  });
  afterAll(async () => {
    await h?.stop();
    await topo?.stop();
    opts.cleanup?.();
  });
  const started = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('sentinelHarness: read it inside a test (it starts in beforeAll)');
    return x;
  };
  return {
    get topo() {
      return started(topo);
    },
    get h() {
      return started(h);
    },
  };
}

/** A failover under traffic: kills the primary, sends `during` while there is none (adding it to `sent`), waits until the replica is promoted. */
export async function failOverUnderTraffic(topo: SentinelTopology, h: Harness, sent: Ev[], during: Ev[]): Promise<void> {
  await topo.killPrimary();
  sent.push(...during);
  await h.send(...during);
  await topo.waitForPromotion(topo.replica);
}
