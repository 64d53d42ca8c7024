import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the projector, served on PROJECTOR_METRICS_PORT (see main.ts). */
@Injectable()
export class ProjectorMetrics {
  readonly registry = new Registry();
  readonly applied = new Counter({ name: 'unread_projector_events_applied_total', help: 'Events applied to Redis', registers: [this.registry] });
  readonly deadLettered = new Counter({ name: 'unread_projector_events_dead_lettered_total', help: 'Events refused and written to the dead-letter topic', registers: [this.registry] });
  readonly retries = new Counter({ name: 'unread_projector_retries_total', help: 'Retries of Redis writes or dead-letter produces', labelNames: ['what'], registers: [this.registry] });
  readonly rewinds = new Counter({ name: 'unread_projector_rewinds_total', help: 'Batches refused because Redis held less than the previous batch (the partition was applied again from what Redis holds)', registers: [this.registry] });
  readonly batchSeconds = new Histogram({ name: 'unread_projector_batch_seconds', help: 'Time to apply one batch', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [this.registry] });

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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
