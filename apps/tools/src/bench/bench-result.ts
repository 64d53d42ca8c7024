import type { ProfileSummary } from './profile-summary';

/** One line of the benchmark's table (and of its JSON). */
export interface BenchRow {
  /** Stable id, e.g. `ingest`, `query.c2c-total.rps`. */
  id: string;
  group: 'ingest' | 'freshness' | 'queries' | 'reads' | 'scale' | 'costs' | 'fetch';
  measurement: string;
  value: number | null;
  unit: string;
  /** The same-run baseline, in `unit`. */
  baseline: number | null;
  baselineLabel: string;
  /** value / baseline. */
  ratio: number | null;
  target: Target | null;
  met: 'yes' | 'no' | 'n/a';
  /** Why a value is missing, or what to keep in mind reading it. */
  note?: string;
  details?: Record<string, unknown>;
}

/** A target on the ratio (`≥ 0.5 of the ceiling`) or on the value itself (`p99 ≤ 100 ms`). */
export interface Target {
  on: 'ratio' | 'value';
  op: '>=' | '<=';
  limit: number;
}

export function targetText(t: Target | null, unit: string): string {
  if (!t) return '—';
  const op = t.op === '>=' ? '≥' : '≤';
  return t.on === 'ratio' ? `ratio ${op} ${t.limit}` : `${op} ${t.limit} ${unit}`;
}

/** Builds a row, computing the ratio and whether the target is met. */
export function row(r: Omit<BenchRow, 'ratio' | 'met'> & { ratio?: number | null }): BenchRow {
  const ratio = r.ratio !== undefined ? r.ratio : r.value !== null && r.baseline ? r.value / r.baseline : null;
  let met: BenchRow['met'] = 'n/a';
  if (r.target) {
    const x = r.target.on === 'ratio' ? ratio : r.value;
    if (x === null || !Number.isFinite(x)) met = 'no';
    else met = (r.target.op === '>=' ? x >= r.target.limit : x <= r.target.limit) ? 'yes' : 'no';
  }
  return { ...r, ratio, met };
}

/** A row for a measurement that could not run (its endpoint or projection is not there yet). */
export function unavailable(r: Pick<BenchRow, 'id' | 'group' | 'measurement' | 'unit' | 'baselineLabel' | 'target'>, why: string): BenchRow {
  return { ...r, value: null, baseline: null, ratio: null, met: r.target ? 'no' : 'n/a', note: why };
}

export interface BenchEnvironment {
  cpus: number;
  cpuModel: string;
  node: string;
  redis: string;
  kafka: string;
  platform: string;
  loadavgAtStart: number[];
  /** In plain words, what shared the machine with the measurements. */
  sharing: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  mode: 'full' | 'quick' | 'tiny';
  seed: number;
  profiled: boolean;
  environment: BenchEnvironment;
  settings: Record<string, unknown>;
  rows: BenchRow[];
  /** Top functions per profiled app (with --profile). */
  profiles?: Record<string, ProfileSummary>;
  phases: Record<string, number>;
}
