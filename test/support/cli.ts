import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, reapOnExit } from './processes';

export const CLI = join(ROOT, 'dist', 'apps', 'tools', 'src', 'cli.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist/apps/tools when a source is newer than it (what `bash tools/setup.sh` does for all apps). */
export function ensureCliBuilt(): void {
  const sources = Math.max(newest(join(ROOT, 'apps', 'tools', 'src')), newest(join(ROOT, 'libs')));
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= sources) return;
  spawnSync('npx', ['nest', 'build', 'tools'], { cwd: ROOT, stdio: 'ignore' });
  if (!existsSync(CLI)) throw new Error(`could not build ${CLI}`);
}

/** Runs `unread <args>` (the compiled CLI) with `env` only, and `input` on its standard input. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = reapOnExit(spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
