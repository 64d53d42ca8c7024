import type { Admin } from 'kafkajs';
import type { Progress, ProgressRow } from './progress';

/**
 * Progress of `unread rebuild`, per topic: records the rebuild consumed against what the
 * topic holds (end minus start offsets, summed over partitions), re-read every
 * `refreshMs` because live events keep arriving while it runs.
 */
export class RebuildProgress {
  private readonly rows = new Map<string, { row: ProgressRow; read: number }>();
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;

  constructor(
    private readonly admin: Admin,
    private readonly topics: readonly string[],
    private readonly progress: Progress,
  ) {}

  /** Reads the end offsets, then shows one row per topic (with its total from the start). */
  async start(refreshMs = 1_000): Promise<void> {
    await this.admin.connect();
    const totals = await this.totals();
    for (const t of this.topics) this.rows.set(t, { row: this.progress.row(t, totals.get(t)), read: 0 });
    this.timer = setInterval(() => {
      this.refreshing ??= this.refresh()
        .catch(() => undefined)
        .finally(() => (this.refreshing = undefined));
    }, refreshMs);
    this.timer.unref();
  }

  /** RebuildOptions.onBatch */
  readonly onBatch = (topic: string, _partition: number, records: number): void => {
    const r = this.rows.get(topic);
    if (!r) return;
    r.read += records;
    r.row.update(r.read);
  };

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing;
    this.progress.stop();
    await this.admin.disconnect();
  }

  private async refresh(): Promise<void> {
    for (const [topic, total] of await this.totals()) this.rows.get(topic)?.row.setTotal(total);
  }

  /** What each topic holds: end minus start offsets, summed over its partitions. */
  private async totals(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const topic of this.topics) {
      const offsets = await this.admin.fetchTopicOffsets(topic);
      out.set(topic, offsets.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Number(p.low)), 0));
    }
    return out;
  }
}
