/**
 * The child side of BenchEnv.startWorker: one input message in, optional `ready`, one
 * `result` (or `error`) out, then exit. A `stop` message resolves `stopped`, for workers
 * that run until told (background load, servers).
 */
export interface WorkerControl {
  ready(value?: unknown): void;
  stopped: Promise<void>;
}

export function runWorker<TIn, TOut>(fn: (input: TIn, control: WorkerControl) => Promise<TOut>): void {
  const send = (m: unknown) => new Promise<void>((r) => process.send!(m, () => r()));
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  let started = false;
  process.on('message', (m: unknown) => {
    if (started) {
      if (m === 'stop') stop();
      return;
    }
    started = true;
    fn(m as TIn, { ready: (value) => void send({ type: 'ready', value }), stopped })
      .then((result) => send({ type: 'result', result }))
      .catch((err: unknown) => send({ type: 'error', error: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
      .finally(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}
