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
  ) {
    for (const t of topics) this.rows.set(t, { row: progress.row(t), read: 0 });
  }

  async start(refreshMs = 1_000): Promise<void> {
    await this.admin.connect();
    await this.refresh();
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
    for (const topic of this.topics) {
      const offsets = await this.admin.fetchTopicOffsets(topic);
      this.rows.get(topic)?.row.setTotal(offsets.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Number(p.low)), 0));
    }
  }
}
