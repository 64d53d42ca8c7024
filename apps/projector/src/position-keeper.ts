import type { Logger } from '@nestjs/common';
import type { PartitionQueues, PartitionState } from './batch-queue';

/** The part of a kafkajs admin client the keeper needs. */
export interface OffsetsAdmin {
  fetchTopicOffsets(topic: string): Promise<{ partition: number; low: string }[]>;
  fetchOffsets(opts: { groupId: string; topics: string[] }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/** The part of a kafkajs consumer the keeper needs. */
export interface Positioner {
  seek(s: { topic: string; partition: number; offset: string }): void;
  pause(ts: { topic: string; partitions: number[] }[]): void;
  resume(ts: { topic: string; partitions: number[] }[]): void;
}

/** Reads what the current generation of Redis holds per partition (-1: nothing). */
export type PositionReader = (partitions: { topic: string; partition: number }[]) => Promise<bigint[]>;

const tp = (topic: string, partition: number) => `${topic}/${partition}`;

/**
 * Keeps Redis and the consumer's position in step (docs/reliability.md, "Applied positions"):
 *
 * - `rewind`: Redis holds a partition only up to `held`. The partition opens a new epoch and
 *   is marked repositioning at once (every batch fetched meanwhile is dropped, the rewind
 *   window), the log's start is read, and the consumer is sought to held + 1; only then
 *   are batches queued again, and only from there. If the log no longer has held + 1, the
 *   partition is paused and reported (`behind`), never skipped.
 * - `refetch`: a batch failed for a reason nobody expected: fetch it again from its own
 *   first offset (a statement about the batch, not about what Redis holds: never a pause).
 * - `verify`: compares what Redis holds with what the partition should have, for every
 *   assigned partition, traffic or not: the last applied offset when one was applied since
 *   the assignment, else the group's committed offset minus one; it rewinds those Redis is
 *   behind on. Run on every assignment (start, rebalance, a new consumer after a crash), on
 *   Redis reconnects, on generation switches and periodically, so a quiet partition of a
 *   Redis emptied or restored from an old snapshot comes back too. Paused partitions whose
 *   missing events Redis now holds (a rebuild) are resumed.
 */
export class PositionKeeper {
  private assigned: { topic: string; partition: number }[] = [];
  private committed = new Map<string, Promise<Map<number, bigint>>>();

  constructor(
    private readonly admin: () => OffsetsAdmin,
    private readonly groupId: string,
    private readonly queues: PartitionQueues,
    private readonly logger: Pick<Logger, 'warn' | 'error' | 'log'>,
    /** What the current generation holds (BatchApplier.positions). */
    private readonly reader: PositionReader,
  ) {}

  /** A (re)join: the partitions now assigned; committed offsets read before are forgotten. */
  assign(assignment: Record<string, number[]>): void {
    this.committed = new Map();
    this.assigned = Object.entries(assignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
  }

  get assignment(): readonly { topic: string; partition: number }[] {
    return this.assigned;
  }

  /** The group's committed offset of a partition (-1 when none), read once per assignment. */
  async committedOffset(topic: string, partition: number): Promise<bigint> {
    let offsets = this.committed.get(topic);
    if (!offsets) {
      offsets = this.admin()
        .fetchOffsets({ groupId: this.groupId, topics: [topic] })
        .then((r) => new Map(r.flatMap((t) => t.partitions.map((p) => [p.partition, BigInt(p.offset)] as const))));
      offsets.catch(() => this.committed.delete(topic));
      this.committed.set(topic, offsets);
    }
    return (await offsets).get(partition) ?? -1n;
  }

  rewind(consumer: Positioner, state: PartitionState, held: bigint, isCurrent: () => boolean): void {
    state.epoch++;
    state.repositioning = true;
    state.lastQueued = undefined;
    state.applied = held < 0n ? undefined : held;
    state.dirty = false;
    const epoch = state.epoch;
    const { topic, partition } = state;
    void (async () => {
      const offsets = await this.admin().fetchTopicOffsets(topic);
      const low = BigInt(offsets.find((o) => o.partition === partition)?.low ?? '0');
      if (epoch !== state.epoch || !isCurrent()) return;
      if (held + 1n < low) {
        state.behind = { topic, partition, heldOffset: held, logStart: low };
        state.repositioning = false;
        consumer.pause([{ topic, partitions: [partition] }]);
        this.logger.error(
          `Redis holds ${topic}[${partition}] only up to offset ${held}, but the log starts at ${low}: ` +
            `the events between are gone from Kafka. The partition is paused and the projector not ready; ` +
            `rebuild the projections from what the log holds (npm run rebuild, docs/reliability.md).`,
        );
        return;
      }
      this.logger.warn(`Redis holds ${topic}[${partition}] only up to offset ${held}: applying again from ${held + 1n}`);
      consumer.seek({ topic, partition, offset: String(held + 1n) });
      state.lastQueued = held;
      state.repositioning = false;
    })().catch((err: Error) => {
      this.logger.warn(`could not rewind ${topic}[${partition}] (${err.message}); retrying`);
      setTimeout(() => {
        if (epoch === state.epoch && isCurrent()) this.rewind(consumer, state, held, isCurrent);
      }, 1_000).unref();
    });
  }

  /** Fetches a partition again from `from` (a batch failed unexpectedly); what was applied stays applied. */
  refetch(consumer: Positioner, state: PartitionState, from: bigint): void {
    state.epoch++;
    consumer.seek({ topic: state.topic, partition: state.partition, offset: String(from) });
    state.lastQueued = from - 1n;
    state.repositioning = false;
  }

  async verify(consumer: Positioner, isCurrent: () => boolean): Promise<void> {
    const states = this.assigned
      .map((p) => this.queues.get(p.topic, p.partition))
      .filter((s) => !s.repositioning);
    if (states.length === 0) return;
    const epochs = states.map((s) => s.epoch);
    const expected = await Promise.all(
      states.map(async (s) => s.applied ?? (s.behind ? undefined : (await this.committedOffset(s.topic, s.partition)) - 1n)),
    );
    const held = await this.reader(states.map((s) => ({ topic: s.topic, partition: s.partition })));
    states.forEach((s, i) => {
      const h = held[i] ?? -1n;
      if (s.epoch !== epochs[i] || !isCurrent() || this.queues.find(s.topic, s.partition) !== s) return;
      if (s.behind) {
        if (h + 1n >= s.behind.logStart) {
          s.behind = undefined;
          consumer.resume([{ topic: s.topic, partitions: [s.partition] }]);
          this.rewind(consumer, s, h, isCurrent);
        }
        return;
      }
      const want = expected[i];
      if (want !== undefined && want >= 0n && h < want) this.rewind(consumer, s, h, isCurrent);
    });
  }

  /** The key of a partition, as the queues use it. */
  static key = tp;
}
