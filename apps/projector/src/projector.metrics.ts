import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REDIS_WAIT_CLASSES, REFUSAL_CLASSES, refusalClassOf, type UnreadEvent } from '@app/contracts';
import { PRUNED_ENTRIES, type PruningTally } from '@app/store';
import type { PartitionWait } from './partition-waits';

/** The `type` label of an applied event: the event type, with the scope for the scoped ones (`message-sent/c2c`). */
export function eventTypeLabel(e: UnreadEvent): string {
  return e.type === 'message-sent' || e.type === 'read-ack' ? `${e.type}/${e.scope}` : e.type;
}

/** prom-client default metrics that are gauges with a `_total` suffix. */
export const PROM_CLIENT_TOTAL_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

/** What the projector retries (the `what` label of unread_projector_retries_total, batch-applier.ts). */
const RETRIED = ['redis', 'dead-letter', 'generation'] as const;

/** Prometheus metrics of the projector, served on PROJECTOR_METRICS_PORT (projector.ts; docs/operations.md). */
@Injectable()
export class ProjectorMetrics {
  readonly registry = new Registry();
  readonly applied = new Counter({
    name: 'unread_projector_events_applied_total',
    help: 'Events applied to Redis, by event type (and scope)',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'unread_projector_events_dead_lettered_total',
    help: 'Events refused and written to the dead-letter topic, by reason class',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly retries = new Counter({ name: 'unread_projector_retries_total', help: 'Retries of Redis writes or dead-letter produces', labelNames: ['what'], registers: [this.registry] });
  readonly rewinds = new Counter({ name: 'unread_projector_rewinds_total', help: 'Batches refused because Redis held less than the previous batch (the partition was applied again from what Redis holds)', registers: [this.registry] });
  readonly batchSeconds = new Histogram({ name: 'unread_projector_batch_seconds', help: 'Time to apply one batch', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [this.registry] });
  /** Set by LagMonitor: the end offset of each partition minus the group's committed offset. */
  readonly consumerLag = new Gauge({
    name: 'unread_projector_consumer_lag',
    help: "Records not yet applied per partition: end offset minus the consumer group's committed offset",
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
  });
  /** Observed by RedisProbe. */
  readonly redisRoundTrip = new Histogram({
    name: 'unread_projector_redis_ping_seconds',
    help: 'Round-trip time of a PING to Redis (every node of a cluster)',
    buckets: [0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly ready = new Gauge({
    name: 'unread_projector_ready',
    help: '1 when the consumer has joined its group and Redis answers (what /ready says), else 0',
    registers: [this.registry],
  });

  /** Failed attempts to apply a batch, by the class of what Redis answered (classifyRedisError). */
  readonly redisWaits = new Counter({
    name: 'unread_projector_redis_waits_total',
    help: 'Attempts to write a batch that Redis refused or could not take (the partition waits and retries), by class',
    labelNames: ['class'],
    registers: [this.registry],
  });
  private waitSource: () => PartitionWait[] = () => [];
  /** Partitions held at an offset because Redis refuses their batch, by class (PartitionWaits). */
  readonly partitionsWaiting = new Gauge({
    name: 'unread_projector_partitions_waiting',
    help: 'Partitions waiting on Redis at an offset (nothing after it is applied), by class of the last error',
    labelNames: ['class'],
    registers: [this.registry],
    collect: () => {
      this.partitionsWaiting.reset();
      for (const cls of REDIS_WAIT_CLASSES) this.partitionsWaiting.set({ class: cls }, 0);
      for (const w of this.waitSource()) this.partitionsWaiting.inc({ class: w.class });
    },
  });

  /** Where partitionsWaiting reads the waiting partitions. */
  watchWaits(source: () => PartitionWait[]): void {
    this.waitSource = source;
  }

  private behindSource: () => { topic: string; partition: number }[] = () => [];
  /**
   * 1 for each partition the projector holds back because Redis is behind what the log still
   * has (docs/reliability.md, "Applied positions"): the operator's cue to run a rebuild.
   */
  readonly redisBehind = new Gauge({
    name: 'unread_projector_redis_behind',
    help: 'Partitions paused because Redis holds less than the log still has (run npm run rebuild)',
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
    collect: () => {
      this.redisBehind.reset();
      for (const p of this.behindSource()) this.redisBehind.set({ topic: p.topic, partition: String(p.partition) }, 1);
    },
  });

  /** Where redisBehind reads the paused partitions (the transport). */
  watchBehind(source: () => { topic: string; partition: number }[]): void {
    this.behindSource = source;
  }

  private pruning?: PruningTally;
  /** What the tally held at the last scrape (the counters took it up to there). */
  private readonly scraped = { pruned: new Map<string, number>(), capped: 0 };
  /** Projection entries pruned, by entry (PRUNED_ENTRIES): read from the store's PruningTally at each scrape. */
  readonly pruned = new Counter({
    name: 'unread_projection_pruned_total',
    help: 'Projection entries pruned, by entry: c2c_unread_id (unread ids trimmed at a conversation cap), c2c_tombstone (recall tombstones dropped), group_uncounted_seq (group seqs that do not count, removed at the horizon)',
    labelNames: ['entry'],
    registers: [this.registry],
    collect: () => {
      const tally = this.pruning;
      if (!tally) return;
      for (const entry of PRUNED_ENTRIES) {
        const now = tally.pruned[entry];
        const delta = now - (this.scraped.pruned.get(entry) ?? 0);
        if (delta > 0) this.pruned.inc({ entry }, delta);
        this.scraped.pruned.set(entry, now);
      }
    },
  });
  /** One-to-one conversation writes that trimmed at C2C_UNREAD_CAP. */
  readonly c2cCapped = new Counter({
    name: 'unread_c2c_capped_total',
    help: 'One-to-one conversation writes that trimmed the unread ids at C2C_UNREAD_CAP',
    registers: [this.registry],
    collect: () => {
      const tally = this.pruning;
      if (!tally) return;
      if (tally.c2cCapped > this.scraped.capped) this.c2cCapped.inc(tally.c2cCapped - this.scraped.capped);
      this.scraped.capped = tally.c2cCapped;
    },
  });

  /** Where the pruning counters read what the store's writes pruned (ProjectionStore.pruning). */
  watchPruning(tally: PruningTally): void {
    this.pruning = tally;
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // prom-client's gauges named *_total break the Prometheus naming rule (promtool check
    // metrics); their by-type companions (nodejs_active_handles etc.) carry the same numbers.
    for (const name of PROM_CLIENT_TOTAL_GAUGES) this.registry.removeSingleMetric(name);
    // Every label value exists from the start, so a rate() over it never misses the first increase.
    for (const reason of REFUSAL_CLASSES) this.deadLettered.inc({ reason }, 0);
    for (const what of RETRIED) this.retries.inc({ what }, 0);
    for (const cls of REDIS_WAIT_CLASSES) this.redisWaits.inc({ class: cls }, 0);
    for (const entry of PRUNED_ENTRIES) this.pruned.inc({ entry }, 0);
  }

  /** Counts events applied to Redis, by type. */
  countApplied(events: readonly UnreadEvent[]): void {
    const byType = new Map<string, number>();
    for (const e of events) {
      const t = eventTypeLabel(e);
      byType.set(t, (byType.get(t) ?? 0) + 1);
    }
    for (const [type, n] of byType) this.applied.inc({ type }, n);
  }

  /** Counts records written to the dead-letter topic, by the class of their reason. */
  countDeadLettered(refused: readonly { reason: string }[]): void {
    for (const { reason } of refused) this.deadLettered.inc({ reason: refusalClassOf(reason) });
  }
}
