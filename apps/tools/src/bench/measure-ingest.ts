import type { BenchContext } from './bench-context';
import type { AppProcess } from './bench-env';
import { MixedStream } from './event-stream';
import { row, type BenchRow } from './bench-result';
import type { ConsumeResult } from './consume.worker';
import type { FeedProducerResult } from './feed-producer.worker';
import { nowMs, processCpuSeconds, sleep } from './stats';

/** Reads the projector's applied + dead-lettered counters from its Prometheus endpoint. */
const COUNTER_NAMES = ['unread_projector_events_applied_total', 'unread_projector_events_dead_lettered_total', 'unread_projector_batch_seconds'];

export async function projectorCount(metricsUrl: string): Promise<ProjectorCounters> {
  // Only the four series read here (the projector renders the rest only when asked): sampled
  // every 25 ms, the whole registry would cost the projector measurable CPU.
  const only = COUNTER_NAMES.map((n) => `name[]=${n}`).join('&');
  const text = await (await fetch(`${metricsUrl}?${only}`)).text();
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

/** Records the projector's change feed wrote (acknowledged by the broker), from its Prometheus endpoint. */
async function feedRecords(metricsUrl: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}?name[]=unread_feed_records_total`)).text();
  const m = /^unread_feed_records_total (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
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
 * The projector's rate over n events: from the end of its first batch to the last event,
 * from its own counters (applied + dead-lettered) sampled every 25 ms.
 */
export async function projectorRate(app: AppProcess, metricsUrl: string, n: number) {
  let first: { t: number; c: number; cpu: number } | undefined;
  let lastCpu = 0;
  let last = { t: 0, c: 0 };
  let dead = 0;
  const c0 = await projectorCount(metricsUrl);
  let cN = c0;
  const deadline = Date.now() + 600_000;
  for (;;) {
    cN = await projectorCount(metricsUrl);
    const { applied, deadLettered } = cN;
    const c = applied + deadLettered;
    const t = nowMs();
    dead = deadLettered;
    if (c > 0 && !first) first = { t, c, cpu: processCpuSeconds(app.pid) };
    last = { t, c };
    if (c >= n) {
      lastCpu = processCpuSeconds(app.pid);
      break;
    }
    if (app.child.exitCode !== null) throw new Error(`${app.name} exited during the ingest measurement`);
    if (Date.now() > deadline) throw new Error(`${app.name} applied ${c} of ${n} events in 10 minutes`);
    await sleep(25);
  }
  const seconds = first ? (last.t - first.t) / 1000 : 0;
  const measured = first ? last.c - first.c : 0;
  const cpuSeconds = first ? lastCpu - first.cpu : 0;
  return {
    rate: seconds > 0 ? measured / seconds : 0,
    seconds,
    dead,
    measured,
    batches: batchStats(c0, cN),
    // the projector's own CPU over the measured window, per event (docs/capacity.md)
    cpuSeconds,
    cpuMicrosPerEvent: measured > 0 ? (cpuSeconds * 1e6) / measured : 0,
  };
}

/**
 * Ingest, c2c-only backlog: N one-to-one messages produced in sends of 1 000 (the way a busy
 * IM core produces: large producer batches), nothing consuming meanwhile; then three
 * consumers with fresh groups read the same backlog, one after the other: the plain
 * parse-only consumer (the Kafka client's ceiling), the naive counter (one HINCRBY per
 * message, one pipeline per batch: what a team writes instead, not exact), and the
 * projector. Rates are timed as in the mixed variant.
 */
export async function measureIngestC2c(ctx: BenchContext): Promise<BenchRow[]> {
  const { env } = ctx;
  const n = ctx.sizes.ingestEvents;
  const started = Date.now();
  env.log(`ingest (c2c backlog): producing ${n} one-to-one messages in sends of 1000`);
  const stream = new MixedStream(ctx.world, ctx.seed + 5, Date.now(), { channels: false, tag: 'b', only: ['c2c-msg'] });
  await env.produce('c2c', stream.take(n), { chunk: 1_000 });
  const topics = env.consumedTopics('c2c');

  env.log('ingest (c2c backlog): baseline consumer (kafkajs eachBatch + JSON.parse)');
  const parseOnly = await env.startWorker<ConsumeResult>('consume.worker', {
    brokers: env.brokers, topics, groupId: `bench-${env.id}-c2c-ceiling`, mode: 'count', expected: n,
  }).result;
  env.log('ingest (c2c backlog): naive counter (HINCRBY per message, one pipeline per batch)');
  const naivePrefix = `naive${env.id}`;
  const naive = await env.startWorker<ConsumeResult>('consume.worker', {
    brokers: env.brokers, topics, groupId: `bench-${env.id}-c2c-naive`, mode: 'naive', expected: n, redisUrl: env.redisUrl, keyPrefix: naivePrefix,
  }).result;
  await env.deleteKeys(`${naivePrefix}:*`);

  env.log('ingest (c2c backlog): projector');
  const { app, metricsUrl } = await env.projector('c2c', `bench-${env.id}-c2c-projector`, 'projector-c2c');
  const measure = () => projectorRate(app, metricsUrl, n);
  const projector = env.options.profileDir ? await ctx.profile(app, 'projector (ingest, c2c backlog)', measure) : await measure();
  await app.stop();
  // The change feed's cost (docs/events.md, "The change feed"): the same backlog once more with the feed on.
  env.log('ingest (c2c backlog): projector with CHANGE_FEED=true');
  const on = await env.projector('c2c', `bench-${env.id}-c2c-projector-feed`, 'projector-c2c-feed', { env: { CHANGE_FEED: 'true' } });
  const measureFeed = () => projectorRate(on.app, on.metricsUrl, n);
  const withFeed = env.options.profileDir ? await ctx.profile(on.app, 'projector (ingest, c2c backlog, change feed on)', measureFeed) : await measureFeed();
  const records = await feedRecords(on.metricsUrl);
  await on.app.stop();
  // The feed's floor: a plain kafkajs producer writing as many records of the feed's shape.
  env.log(`ingest (c2c backlog): plain kafkajs producer of ${records} feed records`);
  const plain = await env.startWorker<FeedProducerResult>('feed-producer.worker', {
    brokers: env.brokers, topic: env.topics('c2c').unreadChanged, appId: env.tencent.sdkAppId, records, accounts: ctx.world.spec.accounts,
  }).result;
  ctx.phases.ingestC2cSeconds = (Date.now() - started) / 1000;
  const recordsPerEvent = records / n;
  const floor = projector.cpuMicrosPerEvent + recordsPerEvent * plain.cpuMicrosPerRecord;
  // One process applies and reports: at one CPU-second per second it applies at most
  // 1e6 / floor events a second with the feed on, against projector.rate without it.
  const bestRatio = floor > 0 && projector.rate > 0 ? Math.min(1, 1e6 / floor / projector.rate) : 0;
  const details = {
    events: n,
    producedInSendsOf: 1_000,
    projector: { measuredEvents: projector.measured, seconds: projector.seconds, deadLettered: projector.dead, cpuMicrosPerEvent: projector.cpuMicrosPerEvent, ...projector.batches },
    parseOnly,
    naive,
  };
  return [
    row({
      id: 'ingest-c2c',
      group: 'ingest',
      measurement: 'Ingest: projector events/s (c2c backlog, sends of 1000)',
      value: projector.rate,
      unit: 'events/s',
      baseline: parseOnly.eventsPerSecond,
      baselineLabel: 'kafkajs eachBatch + JSON.parse',
      target: { on: 'ratio', op: '>=', limit: 0.3 },
      details,
    }),
    row({
      id: 'ingest-c2c-naive',
      group: 'ingest',
      measurement: 'Ingest: projector vs a naive counter (c2c backlog)',
      value: projector.rate,
      unit: 'events/s',
      baseline: naive.eventsPerSecond,
      baselineLabel: 'kafkajs + HINCRBY per message, pipeline per batch',
      // exactness for free: at least the rate of the baseline that double-counts redeliveries
      target: { on: 'ratio', op: '>=', limit: 1.0 },
      details,
    }),
    row({
      id: 'ingest-c2c-feed',
      group: 'ingest',
      measurement: 'Ingest: projector with the change feed vs without (c2c backlog)',
      value: withFeed.rate,
      unit: 'events/s',
      baseline: projector.rate,
      baselineLabel: 'the same projector without the change feed (CHANGE_FEED=false, the default)',
      target: { on: 'ratio', op: '>=', limit: 0.8 },
      details: { ...details, withFeed: { measuredEvents: withFeed.measured, seconds: withFeed.seconds, cpuMicrosPerEvent: withFeed.cpuMicrosPerEvent, records, ...withFeed.batches } },
    }),
    row({
      id: 'ingest-c2c-feed-floor',
      group: 'ingest',
      measurement: "Change feed: projector CPU per event with the feed vs its floor (CPU without it + records per event × a plain kafkajs producer's CPU per record)",
      value: withFeed.cpuMicrosPerEvent,
      unit: 'µs/event',
      baseline: floor,
      baselineLabel: `${projector.cpuMicrosPerEvent.toFixed(1)} µs + ${recordsPerEvent.toFixed(2)} records × ${plain.cpuMicrosPerRecord.toFixed(1)} µs (plain producer, same records, same run)`,
      target: null,
      note: `with this Kafka client the feed-on/off ratio is at most about ${bestRatio.toFixed(2)} (one CPU-second a second at the floor, against the rate without the feed): the feed's own work is ${Math.max(0, withFeed.cpuMicrosPerEvent - floor).toFixed(1)} µs/event above the floor`,
      details: { records, recordsPerEvent, plainProducer: plain, bestFeedRatio: bestRatio },
    }),
    row({
      id: 'cpu.projector.c2c',
      group: 'ingest',
      measurement: 'Projector CPU per event (c2c backlog) vs the naive counter',
      value: projector.cpuMicrosPerEvent,
      unit: 'µs/event',
      baseline: naive.cpuMicrosPerEvent,
      baselineLabel: `naive counter's CPU per event (the parse-only consumer: ${parseOnly.cpuMicrosPerEvent.toFixed(1)} µs)`,
      target: { on: 'value', op: '<=', limit: 10 },
      details: { projector: projector.cpuMicrosPerEvent, naive: naive.cpuMicrosPerEvent, parseOnly: parseOnly.cpuMicrosPerEvent },
    }),
  ];
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
  const measure = () => projectorRate(live.app, live.metricsUrl, n);
  const projector = env.options.profileDir ? await ctx.profile(live.app, 'projector (ingest)', measure) : await measure();
  ctx.phases.ingestSeconds = (Date.now() - started) / 1000;
  const mixed = [
    row({
      id: 'ingest',
      group: 'ingest',
      measurement: 'Ingest: projector events/s (mixed stream)',
      value: projector.rate,
      unit: 'events/s',
      baseline: baseline.eventsPerSecond,
      baselineLabel: 'kafkajs eachBatch + JSON.parse',
      target: { on: 'ratio', op: '>=', limit: 0.6 },
      note: projector.dead ? `${projector.dead} events dead-lettered` : undefined,
      details: {
        events: n,
        projector: { measuredEvents: projector.measured, seconds: projector.seconds, deadLettered: projector.dead, cpuMicrosPerEvent: projector.cpuMicrosPerEvent, ...projector.batches },
        baseline,
        stream: ctx.caps.channels ? 'c2c, group, channel, directory' : `c2c, group, directory (${ctx.caps.channelsWhy ?? ''})`,
      },
    }),
  ];
  const c2c = await measureIngestC2c(ctx);
  return [
    ...mixed,
    ...c2c,
    row({
      id: 'cpu.projector.mixed',
      group: 'ingest',
      measurement: 'Projector CPU per event (mixed stream) vs the parse-only consumer',
      value: projector.cpuMicrosPerEvent,
      unit: 'µs/event',
      baseline: baseline.cpuMicrosPerEvent,
      baselineLabel: "parse-only consumer's CPU per event (kafkajs eachBatch + JSON.parse)",
      target: { on: 'value', op: '<=', limit: 12 },
    }),
  ];
}
