import type { BenchContext } from './bench-context';
import { row, type BenchRow } from './bench-result';
import type { ConsumeResult } from './consume.worker';
import { nowMs, sleep } from './stats';

/** Reads the projector's applied + dead-lettered counters from its Prometheus endpoint. */
export async function projectorCount(metricsUrl: string): Promise<ProjectorCounters> {
  const text = await (await fetch(metricsUrl)).text();
  // Summed over label sets (the applied and dead-lettered counters are by type and by reason class).
  const get = (name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
  return {
    applied: get('unread_projector_events_applied_total'),
    deadLettered: get('unread_projector_events_dead_lettered_total'),
    batches: get('unread_projector_batch_seconds_count'),
    batchSeconds: get('unread_projector_batch_seconds_sum'),
  };
}

export interface ProjectorCounters {
  applied: number;
  deadLettered: number;
  batches: number;
  batchSeconds: number;
}

/** What the projector did between two readings: batches, events per batch, handler time per batch. */
export function batchStats(a: ProjectorCounters, b: ProjectorCounters): { batches: number; eventsPerBatch: number; msPerBatch: number } {
  const batches = b.batches - a.batches;
  return {
    batches,
    eventsPerBatch: batches ? (b.applied + b.deadLettered - a.applied - a.deadLettered) / batches : 0,
    msPerBatch: batches ? ((b.batchSeconds - a.batchSeconds) * 1000) / batches : 0,
  };
}

/**
 * Ingest: N mixed events are produced first; then (1) the baseline, a plain kafkajs consumer
 * that only JSON.parses each record, and (2) the projector, each with a fresh consumer group,
 * read all N. Each rate is taken from the end of its first batch to its last record, so
 * process start and the group join are left out of both. The projector's progress is its
 * own counter (unread_projector_events_applied_total), sampled every 25 ms.
 */
export async function measureIngest(ctx: BenchContext): Promise<BenchRow[]> {
  const { env } = ctx;
  const n = ctx.sizes.ingestEvents;
  const started = Date.now();
  env.log(`ingest: producing ${n} mixed events`);
  await env.produce('live', ctx.stream.take(n), { chunk: 5_000 });

  env.log('ingest: baseline consumer (kafkajs eachBatch + JSON.parse)');
  const baseline = await env.startWorker<ConsumeResult>('consume.worker', {
    brokers: env.brokers,
    topics: env.consumedTopics('live'),
    groupId: `bench-${env.id}-ceiling`,
    mode: 'count',
    expected: n,
  }).result;

  env.log('ingest: projector');
  const live = await ctx.liveProjector();
  const measure = async () => {
    let first: { t: number; c: number } | undefined;
    let last = { t: 0, c: 0 };
    let dead = 0;
    const c0 = await projectorCount(live.metricsUrl);
    let cN = c0;
    const deadline = Date.now() + 600_000;
    for (;;) {
      cN = await projectorCount(live.metricsUrl);
      const { applied, deadLettered } = cN;
      const c = applied + deadLettered;
      const t = nowMs();
      dead = deadLettered;
      if (c > 0 && !first) first = { t, c };
      last = { t, c };
      if (c >= n) break;
      if (live.app.child.exitCode !== null) throw new Error('the projector exited during the ingest measurement');
      if (Date.now() > deadline) throw new Error(`the projector applied ${c} of ${n} events in 10 minutes`);
      await sleep(25);
    }
    const seconds = first ? (last.t - first.t) / 1000 : 0;
    return { rate: seconds > 0 ? (last.c - first!.c) / seconds : 0, seconds, dead, measured: first ? last.c - first.c : 0, batches: batchStats(c0, cN) };
  };
  const projector = env.options.profileDir ? await ctx.profile(live.app, 'projector (ingest)', measure) : await measure();
  ctx.phases.ingestSeconds = (Date.now() - started) / 1000;
  return [
    row({
      id: 'ingest',
      group: 'ingest',
      measurement: 'Ingest: projector events/s (mixed stream)',
      value: projector.rate,
      unit: 'events/s',
      baseline: baseline.eventsPerSecond,
      baselineLabel: 'kafkajs eachBatch + JSON.parse',
      target: { on: 'ratio', op: '>=', limit: 0.5 },
      note: projector.dead ? `${projector.dead} events dead-lettered` : undefined,
      details: {
        events: n,
        projector: { measuredEvents: projector.measured, seconds: projector.seconds, deadLettered: projector.dead, ...projector.batches },
        baseline,
        stream: ctx.caps.channels ? 'c2c, group, channel, directory' : `c2c, group, directory (${ctx.caps.channelsWhy ?? ''})`,
      },
    }),
  ];
}
