import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, freePort, reapOnExit } from './processes';
import { waitFor } from './wait';

const MAIN = join(ROOT, 'dist', 'apps', 'gateway', 'src', 'main.js');

/** A gateway running as its own process (node dist/apps/gateway/src/main.js), as in production. */
export class GatewayProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly adminUrl: string,
  ) {}

  /** `env` is the whole environment of the process (PATH is added). */
  static async start(env: Record<string, string>): Promise<GatewayProcess> {
    const port = await freePort();
    const adminPort = await freePort();
    const child = reapOnExit(
      spawn(process.execPath, [MAIN], {
        env: { PATH: process.env.PATH, LOG_LEVEL: 'fatal', ...env, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', GATEWAY_ADMIN_PORT: String(adminPort) },
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
    const g = new GatewayProcess(child, `http://127.0.0.1:${port}`, `http://127.0.0.1:${adminPort}`);
    await waitFor(
      async () => (await fetch(`${g.url}/health/ready`)).status === 200,
      Boolean,
      { timeoutMs: 20_000, intervalMs: 100, what: 'the gateway process to be ready' },
    );
    return g;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await gone;
  }
}
