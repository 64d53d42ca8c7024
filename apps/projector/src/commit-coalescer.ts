import type { Logger } from '@nestjs/common';
import type { PartitionState } from './batch-queue';

/** The part of a kafkajs consumer the coalescer needs. */
export interface OffsetCommitter {
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
}

/** Consecutive failed commits logged at debug only (a rebalance in progress fails one or two); from then on at warn. */
export const QUIET_COMMIT_FAILURES = 2;

/**
 * Commits applied positions to Kafka, coalesced: at most one commit every `intervalMs` and
 * one in flight, carrying every partition applied beyond its last commit. Only positions
 * the handler applied and recorded in Redis are committed (`applied`, set by the
 * transport), so a committed offset never passes an event Redis does not hold. A failed
 * commit leaves the partitions dirty and is tried again; one that keeps failing is logged
 * at warn with the number of failures in a row.
 */
export class CommitCoalescer {
  private timer?: NodeJS.Timeout;
  private committing?: Promise<void>;
  private closed = false;
  /** Failed commits in a row. */
  failures = 0;

  constructor(
    private readonly partitions: () => PartitionState[],
    private readonly intervalMs: number,
    private readonly logger: Pick<Logger, 'warn' | 'debug'>,
  ) {}

  schedule(consumer: OffsetCommitter): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.commit(consumer);
    }, this.intervalMs);
  }

  /** Commits every applied position not committed yet, in one request; at most one in flight. */
  async commit(consumer: OffsetCommitter): Promise<void> {
    if (this.committing) {
      await this.committing;
      if (!this.closed) this.schedule(consumer);
      return;
    }
    const dirty = this.partitions().filter((s) => s.dirty && s.applied !== undefined);
    if (dirty.length === 0) return;
    const offsets = dirty.map((s) => {
      s.dirty = false;
      return { state: s, epoch: s.epoch, offset: s.applied! + 1n };
    });
    this.committing = consumer
      .commitOffsets(offsets.map((o) => ({ topic: o.state.topic, partition: o.state.partition, offset: String(o.offset) })))
      .then(
        () => {
          if (this.failures > QUIET_COMMIT_FAILURES) this.logger.warn(`offsets committed again after ${this.failures} failed commits`);
          this.failures = 0;
        },
        (err: Error) => {
          // A rebalance in progress or a broker away: commit again later (what was applied stays applied).
          this.failures++;
          const what = `commit of ${offsets.length} partition(s) failed (${this.failures} in a row: ${err.message}); retrying`;
          if (this.failures > QUIET_COMMIT_FAILURES && (this.failures === QUIET_COMMIT_FAILURES + 1 || this.failures % 10 === 0)) {
            this.logger.warn(`${what}; the group's offsets (and the lag) stand still until one succeeds`);
          } else {
            this.logger.debug?.(what);
          }
          for (const o of offsets) if (o.epoch === o.state.epoch && o.state.applied !== undefined) o.state.dirty = true;
        },
      )
      .finally(() => (this.committing = undefined));
    await this.committing;
    if (this.partitions().some((s) => s.dirty)) this.schedule(consumer);
  }

  /** Stops scheduling; `flush` then commits what is left once. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  async flush(consumer: OffsetCommitter): Promise<void> {
    await this.committing;
    await this.commit(consumer).catch(() => undefined);
  }
}
