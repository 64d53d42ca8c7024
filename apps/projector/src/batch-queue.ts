import type { EachBatchPayload, KafkaMessage } from 'kafkajs';

/** What the batch handler receives: the records of one partition, in order. */
export interface RecordBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /**
   * The offset Redis must already hold for this batch to be recorded: the batch's own first
   * offset minus one (-1 for the first batch of a group that never committed on the
   * partition: it starts at the log's start, nothing before it to hold). The handler records
   * the batch's position only from there (positions.lua).
   */
  prevOffset: bigint;
  lastOffset: bigint;
  /** Keeps the consumer's group membership alive during long work (retries). */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping, the partition was revoked or rewound: stop retrying. */
  isRunning(): boolean;
}

/** What the handler answers: applied and recorded, or Redis holds the partition only up to `heldOffset`. */
export type BatchOutcome = { applied: true } | { applied: false; heldOffset: bigint };

/** A partition the projector cannot continue: Redis is behind and the log no longer has what it misses. */
export interface BehindPartition {
  topic: string;
  partition: number;
  /** What Redis holds (-1: nothing). */
  heldOffset: bigint;
  /** The first offset the log still has. */
  logStart: bigint;
}

export interface PartitionState {
  topic: string;
  partition: number;
  /** Bumped on every rewind, refetch, refetch from earlier or revocation: queued batches of an older epoch are dropped. */
  epoch: number;
  /** Last offset queued in this epoch: the next batch must start right after it (undefined: the first batch, any start). */
  lastQueued?: bigint;
  /** A rewind or refetch is under way and the consumer not repositioned yet: every batch is dropped. */
  repositioning: boolean;
  /** Last offset applied and recorded in Redis. */
  applied?: bigint;
  /** Applied beyond what was committed. */
  dirty: boolean;
  /** Batches of this partition waiting to be applied, in log order. */
  queue: QueuedBatch[];
  /** The partition's applier while it runs (batches of one partition apply one after the other). */
  chain: Promise<void>;
  running: boolean;
  behind?: BehindPartition;
}

export interface QueuedBatch {
  state: PartitionState;
  epoch: number;
  messages: KafkaMessage[];
  prev: bigint;
  last: bigint;
  bytes: number;
  payload: EachBatchPayload;
}

/** Why a fetched batch was not queued. */
export type Refusal = 'paused' | 'repositioning' | 'gap';

/** Queued batches of one partition handed to the handler together, at most. */
export const MERGE_BATCHES = 16;

const tp = (topic: string, partition: number) => `${topic}/${partition}`;

/**
 * The partitions in hand and their queues. The rule every queued batch obeys (what keeps a
 * position from being recorded past a gap): it starts right after the partition's last
 * queued batch, or, fetched from earlier (a rejoin, a seek back), it opens a new epoch;
 * its prevOffset is its own first offset minus one. A batch that starts later than the
 * last queued one ended, or that arrives while the consumer is being repositioned, is
 * refused (the caller drops it; it is fetched again from the right place).
 */
export class PartitionQueues {
  private readonly states = new Map<string, PartitionState>();

  get(topic: string, partition: number): PartitionState {
    const key = tp(topic, partition);
    let s = this.states.get(key);
    if (!s) {
      s = { topic, partition, epoch: 0, repositioning: false, dirty: false, queue: [], chain: Promise.resolve(), running: false };
      this.states.set(key, s);
    }
    return s;
  }

  find(topic: string, partition: number): PartitionState | undefined {
    return this.states.get(tp(topic, partition));
  }

  all(): PartitionState[] {
    return [...this.states.values()];
  }

  /** Forgets the partitions not in `assignment` (their queued batches are dropped by epoch). */
  keepOnly(assignment: Record<string, number[]>): void {
    for (const [key, state] of this.states) {
      if (assignment[state.topic]?.includes(state.partition)) continue;
      state.epoch++;
      this.states.delete(key);
    }
  }

  /**
   * Queues a fetched batch, or says why not. `startsLog`: this is the first batch of the
   * partition and the group never committed on it (the consumer starts at the log's start).
   */
  admit(
    state: PartitionState,
    messages: KafkaMessage[],
    payload: EachBatchPayload,
    startsLog = false,
  ): QueuedBatch | Refusal {
    if (state.behind) return 'paused';
    if (state.repositioning) return 'repositioning';
    const first = BigInt(messages[0]!.offset);
    const last = BigInt(messages[messages.length - 1]!.offset);
    if (state.lastQueued !== undefined) {
      if (first > state.lastQueued + 1n) return 'gap';
      if (first <= state.lastQueued) state.epoch++; // fetched from earlier (a rejoin went back to the committed offset)
    }
    const prev = state.lastQueued === undefined && startsLog ? -1n : first - 1n;
    const bytes = messages.reduce((n, m) => n + (m.value?.length ?? 0), 0);
    const item: QueuedBatch = { state, epoch: state.epoch, messages, prev, last, bytes, payload };
    state.lastQueued = last;
    state.queue.push(item);
    return item;
  }

  /**
   * The next work of a partition: the live batches at the head of its queue (up to
   * MERGE_BATCHES), merged into one (they are consecutive in the log), and the batches of an
   * older epoch dropped on the way (`dropped` is told about each). Undefined when the queue
   * is empty.
   */
  take(state: PartitionState, dropped: (item: QueuedBatch) => void, closing = false): QueuedBatch | undefined {
    while (state.queue.length > 0) {
      const live: QueuedBatch[] = [];
      for (const item of state.queue.splice(0, MERGE_BATCHES)) {
        if (item.epoch === state.epoch && !closing) live.push(item);
        else dropped(item);
      }
      if (live.length === 0) continue;
      const first = live[0]!;
      if (live.length === 1) return first;
      return {
        ...first,
        messages: live.flatMap((i) => i.messages),
        last: live[live.length - 1]!.last,
        bytes: live.reduce((n, i) => n + i.bytes, 0),
        payload: live[live.length - 1]!.payload,
      };
    }
    return undefined;
  }
}

/**
 * Back-pressure on the fetch loop: events and bytes fetched but not yet applied, at most.
 * `eachBatch` waits (`room()`) while either bound is passed, which holds kafkajs' fetch.
 */
export class InFlightBudget {
  private events = 0;
  private bytes = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly maxEvents: number,
    private readonly maxBytes: number,
  ) {}

  take(events: number, bytes: number): void {
    this.events += events;
    this.bytes += bytes;
  }

  release(events: number, bytes: number): void {
    this.events -= events;
    this.bytes -= bytes;
    if (!this.full) for (const w of this.waiters.splice(0)) w();
  }

  get full(): boolean {
    return this.events > this.maxEvents || this.bytes > this.maxBytes;
  }

  get inFlight(): { events: number; bytes: number } {
    return { events: this.events, bytes: this.bytes };
  }

  /** Resolves once there is room again (or at once when there is). */
  async room(stop: () => boolean): Promise<void> {
    while (!stop() && this.full) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Lets every waiter go (closing). */
  wakeAll(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
