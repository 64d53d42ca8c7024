/** Maps LOG_LEVEL to the levels Nest's ConsoleLogger prints. */
export function nestLogLevels(level: string): ('fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose')[] {
  const all = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  const upTo = { silent: -1, fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 }[level] ?? 3;
  return all.slice(0, upTo + 1);
}
