import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the projector, served on PROJECTOR_METRICS_PORT (see main.ts). */
@Injectable()
export class ProjectorMetrics {
  readonly registry = new Registry();
  readonly applied = new Counter({ name: 'unread_projector_events_applied_total', help: 'Events applied to Redis', registers: [this.registry] });
  readonly deadLettered = new Counter({ name: 'unread_projector_events_dead_lettered_total', help: 'Events refused and written to the dead-letter topic', registers: [this.registry] });
  readonly retries = new Counter({ name: 'unread_projector_retries_total', help: 'Retries of Redis writes or dead-letter produces', labelNames: ['what'], registers: [this.registry] });
  readonly rewinds = new Counter({ name: 'unread_projector_rewinds_total', help: 'Batches refused because Redis held less than the previous batch (the partition was applied again from what Redis holds)', registers: [this.registry] });
  readonly batchSeconds = new Histogram({ name: 'unread_projector_batch_seconds', help: 'Time to apply one batch', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
