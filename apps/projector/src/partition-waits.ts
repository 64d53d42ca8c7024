import type { RedisWaitClass } from '@app/contracts';
import type { BehindPartition } from './batch-queue';

/**
 * How long a partition may wait on Redis (a refusal of its own state, docs/reliability.md
 * "When Redis says no") before the projector reports itself not ready. Short waits (a
 * failover, a BUSY script) are normal and need no operator.
 */
export const WAIT_READY_BOUND_MS = 10_000;

/** A partition held at an offset because Redis refuses (or cannot take) its batch. */
export interface PartitionWait {
  topic: string;
  partition: number;
  /** The first offset of the batch that waits: nothing at or after it is applied until Redis takes it. */
  offset: bigint;
  class: RedisWaitClass;
  /** The last error Redis answered. */
  error: string;
  /** Local ms at which the wait began. */
  since: number;
}

const key = (topic: string, partition: number) => `${topic}/${partition}`;

/** The partitions waiting on Redis, for the metric, the log and /ready. */
export class PartitionWaits {
  private readonly waits = new Map<string, PartitionWait>();

  /** Records a failed attempt; a wait already under way keeps its start. Returns the wait. */
  begin(topic: string, partition: number, offset: bigint, cls: RedisWaitClass, error: string, now = Date.now()): PartitionWait {
    const k = key(topic, partition);
    const before = this.waits.get(k);
    const since = before && before.offset === offset ? before.since : now;
    const wait = { topic, partition, offset, class: cls, error, since };
    this.waits.set(k, wait);
    return wait;
  }

  /** The partition's batch went through (or the partition is no longer ours). */
  end(topic: string, partition: number): void {
    this.waits.delete(key(topic, partition));
  }

  all(): PartitionWait[] {
    return [...this.waits.values()];
  }

  /** Waits longer than `boundMs`: the projector is not ready while there is one. */
  overdue(boundMs = WAIT_READY_BOUND_MS, now = Date.now()): PartitionWait[] {
    return this.all().filter((w) => now - w.since >= boundMs);
  }
}

/** A partition that keeps the projector from being ready (the `partitions` of /ready's body). */
export interface HeldPartition {
  topic: string;
  partition: number;
  /** `behind` (paused: Redis is behind what the log still has) or `waiting: <class>`. */
  state: string;
  /** The first offset not applied. */
  offset: string;
}

/**
 * The partitions that make /ready false: every paused ("behind") partition, and every one
 * waiting on Redis for WAIT_READY_BOUND_MS or longer.
 */
export function heldPartitions(behind: readonly BehindPartition[], waits: PartitionWaits, now = Date.now()): HeldPartition[] {
  return [
    ...behind.map((b) => ({ topic: b.topic, partition: b.partition, state: 'behind', offset: String(b.heldOffset + 1n) })),
    ...waits.overdue(WAIT_READY_BOUND_MS, now).map((w) => ({ topic: w.topic, partition: w.partition, state: `waiting: ${w.class}`, offset: String(w.offset) })),
  ];
}
