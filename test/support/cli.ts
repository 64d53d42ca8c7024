import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt } from './private-redis';
import { ROOT, reapOnExit } from './processes';

export const CLI = join(ROOT, 'dist', 'apps', 'tools', 'src', 'cli.js');

/** Builds dist/apps/tools when a source is newer than it. */
export function ensureCliBuilt(): void {
  ensureBuilt('tools', CLI);
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
