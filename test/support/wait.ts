/** Polls `probe` until `done(value)` holds, or fails after `timeoutMs` with the last value seen. */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean = (v) => Boolean(v),
  { timeoutMs = 15_000, intervalMs = 20, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}${lastErr instanceof Error ? `; last error: ${lastErr.message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
