/**
 * Failed authentications per app and second, counted by this process alone: once an app
 * has had `limit` failures in the current second, `exhausted` says so until the second
 * ends, and the callers refuse further unproven credentials of that app without doing the
 * expensive work (inflating and HMAC-checking a UserSig, hashing a key). A flood of bad
 * signatures then costs a Map lookup per request; credentials already proven (a cached
 * UserSig) are not held up. Bounded: at most `maxApps` apps are tracked (the oldest go).
 */
export class FailureBudget {
  private readonly windows = new Map<string, { second: number; failures: number }>();

  constructor(
    private readonly limit: number,
    private readonly maxApps = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while `app` has used up its failures of the current second. */
  exhausted(app: string): boolean {
    const w = this.windows.get(app);
    return w !== undefined && w.second === Math.floor(this.now() / 1000) && w.failures >= this.limit;
  }

  /** Counts one failed authentication of `app`. */
  fail(app: string): void {
    const second = Math.floor(this.now() / 1000);
    const w = this.windows.get(app);
    if (w && w.second === second) {
      w.failures++;
      return;
    }
    this.windows.delete(app);
    this.windows.set(app, { second, failures: 1 });
    if (this.windows.size > this.maxApps) {
      const oldest = this.windows.keys().next();
      if (!oldest.done) this.windows.delete(oldest.value);
    }
  }
}
