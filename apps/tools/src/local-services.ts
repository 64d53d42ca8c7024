/**
 * Local stand-ins for production services, started as child processes: the librdkafka mock
 * cluster (tools/mock-broker) and a private redis-server. Used by the local runner, the
 * benchmark and the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

/** The repository root (the nearest folder above this file with a package.json), from source or dist. */
export const ROOT = ((): string => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const MOCK_BROKER_BIN = join(ROOT, 'tools', 'mock-broker', 'bin', 'mock-broker');

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

const living = new Set<ChildProcess>();
let reaping = false;

/**
 * Kill `child` when this process exits, if it still runs: a test run or local runner that
 * ends without stopping what it started (a failed hook, jest's forceExit, an uncaught error)
 * leaves no broker, Redis or app behind, and none holding its output pipe open.
 */
export function reapOnExit<T extends ChildProcess>(child: T): T {
  if (!reaping) process.once('exit', () => living.forEach((c) => c.kill('SIGKILL')));
  reaping = true;
  living.add(child);
  child.once('exit', () => living.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

/** The librdkafka mock cluster (tools/mock-broker), with its fault-injection commands. */
export class MockBroker {
  private pending: ((line: string) => void)[] = [];
  private constructor(
    private readonly child: ChildProcess,
    readonly bootstrap: string,
  ) {}

  get brokers(): string[] {
    return this.bootstrap.split(',');
  }

  static async start(opts: { brokers?: number; topics?: Record<string, number> } = {}): Promise<MockBroker> {
    const args = ['--brokers', String(opts.brokers ?? 1)];
    for (const [name, partitions] of Object.entries(opts.topics ?? {})) args.push('--topic', `${name}:${partitions}`);
    const child = reapOnExit(spawn(MOCK_BROKER_BIN, args, { stdio: ['pipe', 'pipe', 'inherit'] }));
    const lines = createInterface({ input: child.stdout });
    const holder: { broker?: MockBroker } = {};
    const bootstrap = await new Promise<string>((resolveBoot, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`mock-broker exited with ${code} before it was ready (did "npm run build:broker" run?)`)));
      lines.on('line', (line) => {
        if (!holder.broker && line.startsWith('BOOTSTRAP ')) resolveBoot(line.slice('BOOTSTRAP '.length).trim());
        else holder.broker?.pending.shift()?.(line);
      });
    });
    holder.broker = new MockBroker(child, bootstrap);
    return holder.broker;
  }

  /** Sends a command (`down 1`, `up 1`, `topic name 4`, `topic-error name 29`) and waits for its answer. */
  command(line: string): Promise<string> {
    return new Promise((resolveCmd, reject) => {
      this.pending.push((answer) => (answer.startsWith('OK') ? resolveCmd(answer) : reject(new Error(answer))));
      this.child.stdin!.write(`${line}\n`);
    });
  }

  async createTopics(topics: Record<string, number>): Promise<void> {
    for (const [name, partitions] of Object.entries(topics)) await this.command(`topic ${name} ${partitions}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await exited(this.child);
  }

  /** SIGKILL, for tests of a broker that vanishes. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await exited(this.child);
  }
}

/** A private redis-server on a free port, keeping nothing on disk. */
export class RedisServer {
  private constructor(
    private child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(extraArgs: string[] = [], port?: number): Promise<RedisServer> {
    port ??= await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'unread-redis-'));
    const server = new RedisServer(RedisServer.spawn(port, dir, extraArgs), port, dir, extraArgs);
    await server.waitReady();
    return server;
  }

  private static spawn(port: number, dir: string, extraArgs: string[]): ChildProcess {
    return reapOnExit(
      spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs],
        { stdio: 'ignore' },
      ),
    );
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`redis-server on ${this.port} exited with ${this.child.exitCode}`);
      const ok = await new Promise<boolean>((r) => {
        const s = new Socket();
        s.once('error', () => r(false));
        s.connect(this.port, '127.0.0.1', () => {
          s.write('PING\r\n');
          s.once('data', (d) => {
            s.destroy();
            r(d.toString().startsWith('+PONG'));
          });
        });
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not answer PING`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops the server (SIGKILL: an outage, not a shutdown). Data is lost, as with --save "". */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await exited(this.child);
  }

  /** SIGSTOP: the server stops reading and answering, as a stalled host would (resume() undoes it). */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  /** SIGCONT, after pause(). */
  resume(): void {
    this.child.kill('SIGCONT');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it again on the same port (after kill). */
  async restart(): Promise<void> {
    this.child = RedisServer.spawn(this.port, this.dir, this.extraArgs);
    await this.waitReady();
  }

  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGCONT'); // a paused server would not act on SIGTERM
      this.child.kill('SIGTERM');
      await exited(this.child);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
