/**
 * Faults and probes for real Redis processes, shared by the HA rigs (sentinel-topology.ts,
 * cluster-rig.ts) and the failover tests: stall a replica, wait for replication, flush or
 * restart a Redis empty, and an endpoint that follows the primary. Every helper opens its
 * own short-lived connection, so a dead or paused node never leaves a client retrying.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { Socket, connect, createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import type { HostPort } from '@app/config';
import type { RedisServer } from './processes';

export const run = promisify(execFile);
export const HOST = '127.0.0.1';

/** Runs `work` on a fresh connection to a node (no retries: a dead or paused node fails within `timeoutMs`). */
export async function ask<T>(port: number, work: (r: Redis) => Promise<T>, timeoutMs = 1_000): Promise<T> {
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

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

export function pingable(port: number): Promise<boolean> {
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

