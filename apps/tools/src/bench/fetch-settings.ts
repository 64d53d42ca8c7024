/**
 * Fetch settings of a kafkajs consumer, as the bench varies them: `undefined` fields are
 * kafkajs's own defaults (maxWaitTimeInMs 5000, partitionsConsumedConcurrently 1,
 * maxBytesPerPartition 1 MiB, maxBytes 10 MiB, minBytes 1).
 */
export interface FetchSettings {
  maxWaitTimeInMs?: number;
  partitionsConsumedConcurrently?: number;
  maxBytesPerPartition?: number;
  maxBytes?: number;
  minBytes?: number;
}

/**
 * The settings that make each plain baseline fastest on the mock broker, found with
 * `npm run bench -- --only fetch` (the sweep in measure-fetch.ts; figures in
 * docs/performance.md). The baselines are the best plain programs, not copies of the
 * projector's configuration.
 */
export const BASELINE_FETCH: Record<'parseOnly' | 'naive' | 'probe', FetchSettings> = {
  // kafkajs defaults: on a backlog the wait never applies, and partitionsConsumedConcurrently
  // ≥ 8 cut its rate about 3× in every round of the sweep
  parseOnly: {},
  // the best median of the sweep; any partitionsConsumedConcurrently > 1 was slower
  naive: { maxWaitTimeInMs: 20 },
  // freshness: a fetch that finds nothing must come back at once, not after kafkajs's 5 s
  probe: { maxWaitTimeInMs: 20 },
};

/** A short label, e.g. `wait=20 pcc=32` (`kafkajs defaults` when nothing is set). */
export function fetchLabel(s: FetchSettings): string {
  const parts = [
    s.maxWaitTimeInMs !== undefined ? `wait=${s.maxWaitTimeInMs}` : '',
    s.partitionsConsumedConcurrently !== undefined ? `pcc=${s.partitionsConsumedConcurrently}` : '',
    s.maxBytesPerPartition !== undefined ? `partBytes=${s.maxBytesPerPartition}` : '',
    s.maxBytes !== undefined ? `maxBytes=${s.maxBytes}` : '',
    s.minBytes !== undefined ? `minBytes=${s.minBytes}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' ') : 'kafkajs defaults';
}

/** Parses `--projector-fetch` / BENCH_PROJECTOR_FETCH: JSON of the projector's FETCH_SETTINGS fields. */
export function parseProjectorFetch(json: string): { maxWaitTimeInMs?: number; partitionsConsumedConcurrently?: number } {
  const v = JSON.parse(json) as Record<string, unknown>;
  const out: { maxWaitTimeInMs?: number; partitionsConsumedConcurrently?: number } = {};
  for (const [k, x] of Object.entries(v)) {
    if (k !== 'maxWaitTimeInMs' && k !== 'partitionsConsumedConcurrently') throw new Error(`projector fetch setting ${k}: only maxWaitTimeInMs and partitionsConsumedConcurrently`);
    if (!Number.isSafeInteger(x) || (x as number) < 1) throw new Error(`projector fetch setting ${k}: a positive integer, got ${JSON.stringify(x)}`);
    out[k] = x as number;
  }
  return out;
}
