import type { Admin } from 'kafkajs';
import type { Gauge } from 'prom-client';

/** Lag of one partition: records after the group's committed offset. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The partition's end offset (high watermark). */
  end: number;
  /** The group's committed offset; -1 when it has none (the projector then starts at the earliest record). */
  committed: number;
  lag: number;
}

/**
 * Consumer lag per topic and partition, from the broker alone: the end offsets
 * (`admin.fetchTopicOffsets`) minus the group's committed offsets (`admin.fetchOffsets`).
 * Neither needs DescribeGroups, which the mock broker lacks. Lag counts records committed
 * as applied, so a batch in flight shows as lag until its commit. A group with no commit on
 * a partition lags by what the partition still holds (the projector reads from the start).
 */
export class LagMonitor {
  private timer?: NodeJS.Timeout;
  private sampling?: Promise<unknown>;
  private connected?: Promise<void>;

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly topics: readonly string[],
    private readonly gauge?: Gauge<'topic' | 'partition'>,
  ) {}

  /** One reading of every partition (and the gauge set from it). */
  async sample(): Promise<PartitionLag[]> {
    const [ends, commits] = await Promise.all([
      Promise.all(this.topics.map(async (topic) => ({ topic, offsets: await this.admin.fetchTopicOffsets(topic) }))),
      this.admin.fetchOffsets({ groupId: this.groupId, topics: [...this.topics] }),
    ]);
    const committed = new Map<string, number>();
    for (const t of commits) for (const p of t.partitions) committed.set(`${t.topic}\u0000${p.partition}`, Number(p.offset));
    const out: PartitionLag[] = [];
    for (const { topic, offsets } of ends) {
      for (const p of offsets) {
        const end = Number(p.high);
        const c = committed.get(`${topic}\u0000${p.partition}`) ?? -1;
        const lag = Math.max(0, end - (c >= 0 ? c : Number(p.low)));
        out.push({ topic, partition: p.partition, end, committed: c, lag });
        this.gauge?.set({ topic, partition: String(p.partition) }, lag);
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /** Samples now and then every `intervalMs` (a failed reading keeps the last values; the next one reconnects). */
  start(intervalMs: number): void {
    const tick = () => {
      this.connected ??= this.admin.connect().catch((err: unknown) => {
        this.connected = undefined;
        throw err;
      });
      this.sampling ??= this.connected
        .then(() => this.sample())
        .catch(() => undefined)
        .finally(() => (this.sampling = undefined));
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sampling;
    await this.admin.disconnect();
  }
}
