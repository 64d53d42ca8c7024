import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../local-services';
import { BenchContext, type BenchMode } from './bench-context';
import { BenchEnv } from './bench-env';
import { unavailable, type BenchReport, type BenchRow } from './bench-result';
import { parseProjectorFetch } from './fetch-settings';
import { measureCosts } from './measure-costs';
import { measureFetch } from './measure-fetch';
import { measureFreshness } from './measure-freshness';
import { measureIngest } from './measure-ingest';
import { measureQueries } from './measure-queries';
import { measureReads } from './measure-reads';
import { measureRecall } from './measure-recall';
import { measureScale } from './measure-scale';
import { measureYear } from './measure-year';
import { profileText } from './profile-summary';
import { environmentText, markdownTable, writeResults } from './report';

export const MEASUREMENTS = ['ingest', 'freshness', 'queries', 'reads', 'scale', 'costs'] as const;
/** Measurements run only when named in --only (`fetch`: the fetch-settings sweep, measure-fetch.ts). */
export const OPTIONAL_MEASUREMENTS = ['fetch'] as const;
export type Measurement = (typeof MEASUREMENTS)[number] | (typeof OPTIONAL_MEASUREMENTS)[number];

const RUNNERS: Record<Measurement, (ctx: BenchContext) => Promise<BenchRow[]>> = {
  ingest: measureIngest,
  freshness: measureFreshness,
  queries: measureQueries,
  reads: measureReads,
  // group recall cost (measure-recall.ts) and the compressed year (measure-year.ts) run with the scale rows
  scale: async (ctx) => [...(await measureScale(ctx)), ...(await measureRecall(ctx)), ...(await measureYear(ctx))],
  costs: measureCosts,
  fetch: measureFetch,
};

export interface BenchOptions {
  mode: BenchMode;
  only: Measurement[];
  kafkaBrokers?: string;
  redisUrl?: string;
  profile: boolean;
  appsDist?: string;
  /** JSON of the projector's FETCH_SETTINGS to run it with (`--projector-fetch`). */
  projectorFetch?: string;
  outDir: string;
  seed: number;
  verbose: boolean;
}

const USAGE = `usage: npm run bench -- [options]
  --quick               a short smoke run (~1 min): small world, short durations
  --only a,b            run only these measurements (${MEASUREMENTS.join(', ')}; also ${OPTIONAL_MEASUREMENTS.join(', ')}: the
                        fetch-settings sweep of the baselines and the projector, docs/performance.md)
  --kafka-brokers h:p   use this Kafka cluster (default: start the mock broker; env BENCH_KAFKA_BROKERS)
  --redis-url url       use this Redis (default: start redis-server; env BENCH_REDIS_URL)
  --profile             CPU-profile the projector (ingest, freshness) and gateway (each query); summaries in the
                        output and the JSON, .cpuprofile files under $TMPDIR/unread-bench-profiles
  --apps-dist dir       run the projector and gateway from this build instead of ./dist (compare builds)
  --projector-fetch js  run the projector with these FETCH_SETTINGS, e.g. '{"maxWaitTimeInMs":20,"partitionsConsumedConcurrently":1}'
                        (env BENCH_PROJECTOR_FETCH; no projector code changes)
  --out dir             where results go (default bench/results)
  --seed n              PRNG seed of the event streams (default 7)
`;

export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const opts: BenchOptions = {
    mode: 'full',
    only: [...MEASUREMENTS] as Measurement[],
    kafkaBrokers: env.BENCH_KAFKA_BROKERS || undefined,
    redisUrl: env.BENCH_REDIS_URL || undefined,
    projectorFetch: env.BENCH_PROJECTOR_FETCH || undefined,
    profile: false,
    outDir: join(ROOT, 'bench', 'results'),
    seed: 7,
    verbose: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--quick') opts.mode = 'quick';
    else if (a === '--tiny') opts.mode = 'tiny';
    else if (a === '--profile') opts.profile = true;
    else if (a === '--kafka-brokers') opts.kafkaBrokers = value();
    else if (a === '--redis-url') opts.redisUrl = value();
    else if (a === '--out') opts.outDir = value();
    else if (a === '--apps-dist') opts.appsDist = value();
    else if (a === '--projector-fetch') opts.projectorFetch = value();
    else if (a === '--seed') opts.seed = Number(value());
    else if (a === '--only') {
      const list = value().split(',');
      const bad = list.filter((m) => !([...MEASUREMENTS, ...OPTIONAL_MEASUREMENTS] as readonly string[]).includes(m));
      if (bad.length) throw new Error(`unknown measurement ${bad.join(', ')}\n${USAGE}`);
      opts.only = list as Measurement[];
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  if (!Number.isSafeInteger(opts.seed)) throw new Error('--seed must be an integer');
  if (opts.projectorFetch !== undefined) {
    try {
      opts.projectorFetch = JSON.stringify(parseProjectorFetch(opts.projectorFetch));
    } catch (err) {
      throw new Error(`--projector-fetch: ${(err as Error).message}\n${USAGE}`);
    }
  }
  return opts;
}

/** Runs the benchmark and returns its report (also written to opts.outDir). */
export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg();
  const startedMs = Date.now();
  const env = await BenchEnv.start({
    kafkaBrokers: opts.kafkaBrokers,
    redisUrl: opts.redisUrl,
    partitions: 8,
    verbose: opts.verbose,
    appsDist: opts.appsDist,
    projectorFetch: opts.projectorFetch,
    // profiles are large: kept out of the repository, their summaries go into the report
    profileDir: opts.profile ? join(tmpdir(), 'unread-bench-profiles', startedAt.replace(/[:.]/g, '-')) : undefined,
  });
  const rows: BenchRow[] = [];
  let ctx: BenchContext | undefined;
  let failed = true;
  try {
    ctx = await BenchContext.create(env, opts.mode, opts.seed);
    if (!ctx.caps.channels) env.log(`note: ${ctx.caps.channelsWhy}; QChat events are left out of the streams`);
    await ctx.seedWorld();
    env.log(`seeded in ${ctx.phases.seedSeconds?.toFixed(1)} s`);
    for (const m of opts.only) {
      try {
        rows.push(...(await RUNNERS[m](ctx)));
      } catch (err) {
        env.log(`${m} failed: ${(err as Error).stack ?? String(err)}`);
        rows.push(unavailable({ id: `${m}.error`, group: m, measurement: `${m}: failed`, unit: '', baselineLabel: '—', target: { on: 'value', op: '<=', limit: 0 } }, (err as Error).message.slice(0, 300)));
      }
    }
    const cpuList = cpus();
    const redisVersion = /^redis_version:(\S+)/m.exec(await env.redis.info('server'))?.[1] ?? '?';
    const report: BenchReport = {
      startedAt,
      finishedAt: new Date().toISOString(),
      mode: opts.mode,
      seed: opts.seed,
      profiled: opts.profile,
      environment: {
        cpus: cpuList.length,
        cpuModel: cpuList[0]?.model ?? 'unknown',
        node: process.version,
        redis: `redis ${redisVersion}${opts.redisUrl ? ' (given)' : ' (own redis-server)'}`,
        kafka: opts.kafkaBrokers ? `Kafka at ${opts.kafkaBrokers}` : 'librdkafka mock cluster (tools/mock-broker)',
        platform: `${platform()} ${release()}`,
        loadavgAtStart: loadAtStart,
        sharing: `Load generators, projector, gateway, Redis and broker all share these ${cpuList.length} cores (${cpuList[0]?.model ?? 'unknown'}); every figure is compared with a baseline measured in this run on this machine.`,
      },
      settings: { appsDist: opts.appsDist ?? 'dist', projectorFetch: opts.projectorFetch ?? 'as built (FETCH_SETTINGS)', sizes: ctx.sizes, world: { groups: ctx.world.groups.length, largestGroup: ctx.world.largestGroup().size }, capabilities: ctx.caps, only: opts.only },
      rows,
      profiles: opts.profile ? ctx.profiles : undefined,
      phases: { ...ctx.phases, totalSeconds: (Date.now() - startedMs) / 1000 },
    };
    failed = rows.some((r) => r.id.endsWith('.error'));
    return report;
  } finally {
    await env.stop(failed);
  }
}

/** `bench` command: runs, prints the table, writes JSON + SVG. */
export async function runBenchCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const opts = parseBenchArgs(argv, env);
  const report = await runBench(opts);
  const paths = writeResults(report, opts.outDir);
  const out: string[] = ['', environmentText(report), '', markdownTable(report.rows), ''];
  for (const [label, s] of Object.entries(report.profiles ?? {})) out.push(profileText(label, s), '');
  out.push(`results: ${paths.json}`, `         ${paths.latest}`, `chart:   ${paths.svg}`, `took ${Math.round(report.phases.totalSeconds ?? 0)} s`, '');
  process.stdout.write(out.join('\n'));
  // the apps and workers are gone; kafkajs/ioredis timers must not keep the command alive
  process.exit(0);
}
