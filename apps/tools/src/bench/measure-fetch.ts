import type { BenchContext } from './bench-context';
import { row, type BenchRow } from './bench-result';
import type { ConsumeResult } from './consume.worker';
import { MixedStream } from './event-stream';
import { fetchLabel, type FetchSettings } from './fetch-settings';
import { projectorRate } from './measure-ingest';

/** The plain consumers' candidates: kafkajs defaults, each knob alone, and the projector's pair. */
export const PLAIN_CANDIDATES: FetchSettings[] = [
  {},
  { maxWaitTimeInMs: 20 },
  { maxWaitTimeInMs: 100 },
  { partitionsConsumedConcurrently: 2 },
  { partitionsConsumedConcurrently: 8 },
  { partitionsConsumedConcurrently: 32 },
  { maxWaitTimeInMs: 20, partitionsConsumedConcurrently: 32 },
  { maxBytesPerPartition: 4 * 1024 * 1024 },
  { maxBytesPerPartition: 256 * 1024 },
];

/** The projector's candidates (the two fields of its FETCH_SETTINGS; 5000 is kafkajs's default wait). */
export const PROJECTOR_CANDIDATES: { maxWaitTimeInMs: number; partitionsConsumedConcurrently: number }[] = [
  { maxWaitTimeInMs: 20, partitionsConsumedConcurrently: 32 },
  { maxWaitTimeInMs: 20, partitionsConsumedConcurrently: 8 },
  { maxWaitTimeInMs: 20, partitionsConsumedConcurrently: 1 },
  { maxWaitTimeInMs: 100, partitionsConsumedConcurrently: 1 },
  { maxWaitTimeInMs: 5000, partitionsConsumedConcurrently: 1 },
  { maxWaitTimeInMs: 5000, partitionsConsumedConcurrently: 8 },
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : 0;
};

/**
 * `npm run bench -- --only fetch` (not part of the default run): how fetch settings change
 * each consumer's rate on one c2c backlog (sends of 1 000, as in ingest-c2c). Every candidate
 * of the parse-only consumer and the naive counter reads the whole backlog with a fresh group,
 * `rounds` times, candidates interleaved so a drift of the shared machine spreads over all;
 * then the projector with each candidate of its FETCH_SETTINGS (fetch-settings.preload.ts), on
 * a key prefix of its own each time. One row per consumer and candidate: the median rate,
 * with the fastest candidate of that consumer as the baseline. This is how BASELINE_FETCH
 * was chosen (docs/performance.md); freshness of a projector candidate is measured with
 * `--only ingest,freshness --projector-fetch '{…}'`.
 */
export async function measureFetch(ctx: BenchContext): Promise<BenchRow[]> {
  const { env } = ctx;
  const n = ctx.sizes.ingestEvents;
  const rounds = ctx.mode === 'full' ? 3 : 1;
  env.log(`fetch: producing ${n} one-to-one messages in sends of 1000`);
  const stream = new MixedStream(ctx.world, ctx.seed + 9, Date.now(), { channels: false, tag: 'fs', only: ['c2c-msg'] });
  await env.produce('c2c', stream.take(n), { chunk: 1_000 });
  const topics = env.consumedTopics('c2c');

  const plain = new Map<string, { mode: 'count' | 'naive'; fetch: FetchSettings; rates: number[] }>();
  let run = 0;
  for (let r = 0; r < rounds; r++) {
    for (const fetch of PLAIN_CANDIDATES) {
      for (const mode of ['count', 'naive'] as const) {
        const key = `${mode}|${fetchLabel(fetch)}`;
        const prefix = `fnaive${env.id}${run}`;
        const result = await env.startWorker<ConsumeResult>('consume.worker', {
          brokers: env.brokers, topics, groupId: `bench-${env.id}-fetch-${run++}`, mode, expected: n, fetch, redisUrl: env.redisUrl, keyPrefix: prefix,
        }).result;
        if (mode === 'naive') await env.deleteKeys(`${prefix}:*`);
        const entry = plain.get(key) ?? { mode, fetch, rates: [] };
        entry.rates.push(result.eventsPerSecond);
        plain.set(key, entry);
        env.log(`fetch: ${mode === 'count' ? 'parse-only' : 'naive'} ${fetchLabel(fetch)}: ${Math.round(result.eventsPerSecond)} events/s`);
      }
    }
  }

  const projector: { fetch: (typeof PROJECTOR_CANDIDATES)[number]; rates: number[]; cpu: number[]; batch: number[] }[] = PROJECTOR_CANDIDATES.map((fetch) => ({ fetch, rates: [], cpu: [], batch: [] }));
  for (let r = 0; r < Math.min(rounds, 2); r++) {
    for (const p of projector) {
      const prefix = `fp${env.id}${run}`;
      const { app, metricsUrl } = await env.projector('c2c', `bench-${env.id}-fetch-${run++}`, `projector-fetch-${run}`, {
        fetch: JSON.stringify(p.fetch),
        env: { REDIS_KEY_PREFIX: prefix },
      });
      const result = await projectorRate(app, metricsUrl, n);
      await app.stop();
      await env.deleteKeys(`${prefix}:*`);
      p.rates.push(result.rate);
      p.cpu.push(result.cpuMicrosPerEvent);
      p.batch.push(result.batches.eventsPerBatch);
      env.log(`fetch: projector ${fetchLabel(p.fetch)}: ${Math.round(result.rate)} events/s, ${result.cpuMicrosPerEvent.toFixed(1)} µs CPU/event`);
    }
  }

  const rows: BenchRow[] = [];
  for (const mode of ['count', 'naive'] as const) {
    const mine = [...plain.values()].filter((e) => e.mode === mode);
    const best = Math.max(...mine.map((e) => median(e.rates)));
    const name = mode === 'count' ? 'parse-only consumer' : 'naive counter';
    for (const e of mine) {
      rows.push(
        row({
          id: `fetch.${mode === 'count' ? 'parse-only' : 'naive'}.${fetchLabel(e.fetch).replace(/ /g, ',')}`,
          group: 'fetch',
          measurement: `Fetch sweep: ${name}, ${fetchLabel(e.fetch)} (c2c backlog)`,
          value: median(e.rates),
          unit: 'events/s',
          baseline: best,
          baselineLabel: `the fastest ${name} candidate`,
          target: null,
          details: { fetch: e.fetch, rates: e.rates, events: n },
        }),
      );
    }
  }
  const bestProjector = Math.max(...projector.map((p) => median(p.rates)));
  for (const p of projector) {
    rows.push(
      row({
        id: `fetch.projector.${fetchLabel(p.fetch).replace(/ /g, ',')}`,
        group: 'fetch',
        measurement: `Fetch sweep: projector, ${fetchLabel(p.fetch)} (c2c backlog)`,
        value: median(p.rates),
        unit: 'events/s',
        baseline: bestProjector,
        baselineLabel: 'the fastest projector candidate',
        target: null,
        details: { fetch: p.fetch, rates: p.rates, cpuMicrosPerEvent: p.cpu, eventsPerBatch: p.batch, events: n },
      }),
    );
  }
  return rows;
}
