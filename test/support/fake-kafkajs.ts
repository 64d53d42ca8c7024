/**
 * A fake of the part of kafkajs the projector's transport uses (consumer events, run with
 * eachBatch, seek/pause/resume, commitOffsets; admin fetchOffsets/fetchTopicOffsets), for
 * unit tests of the transport's state machine. Batches are delivered by the test, one
 * eachBatch call each, as kafkajs does per fetched partition; every admin answer can be held
 * back (a Gate) to open the windows a real broker opens by being slow.
 */
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';

export class Gate {
  private opened = false;
  private waiters: (() => void)[] = [];
  /** Calls that are waiting behind the gate. */
  waiting = 0;
  constructor(open = true) {
    this.opened = open;
  }
  close(): void {
    this.opened = false;
  }
  open(): void {
    this.opened = true;
    for (const w of this.waiters.splice(0)) w();
  }
  async pass(): Promise<void> {
    if (this.opened) return;
    this.waiting++;
    await new Promise<void>((r) => this.waiters.push(r));
    this.waiting--;
  }
}

export interface Delivered {
  /** eachBatch resolved (kafkajs would fetch on). */
  done: Promise<void>;
  /** Offsets the transport resolved (resolveOffset). */
  resolved: string[];
}

type Listener = (event: { payload: unknown }) => void;

export function message(offset: bigint | number, value = `v${offset}`): KafkaMessage {
  return { offset: String(offset), key: null, value: Buffer.from(value), timestamp: '0', attributes: 0, headers: {} };
}

export class FakeConsumer {
  readonly events = {
    CRASH: 'consumer.crash',
    GROUP_JOIN: 'consumer.group_join',
    STOP: 'consumer.stop',
    DISCONNECT: 'consumer.disconnect',
  } as const;
  private readonly listeners = new Map<string, Listener[]>();
  private eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  readonly seeks: { topic: string; partition: number; offset: string }[] = [];
  readonly paused: string[] = [];
  readonly resumed: string[] = [];
  readonly commits: { topic: string; partition: number; offset: string }[][] = [];
  /** What commitOffsets does (default: succeed). */
  commitImpl: (offsets: { topic: string; partition: number; offset: string }[]) => Promise<void> = () => Promise.resolve();
  running = true;
  disconnected = false;
  /** Bumped by join(): a payload of an older generation is stale. */
  private generation = 0;

  constructor(readonly config: unknown) {}

  on(event: string, listener: Listener): () => void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () => undefined;
  }
  private emit(event: string, payload: unknown): void {
    for (const l of this.listeners.get(event) ?? []) l({ payload });
  }
  async connect(): Promise<void> {}
  async subscribe(): Promise<void> {}
  run(config: { eachBatch: (payload: EachBatchPayload) => Promise<void> }): Promise<void> {
    this.eachBatch = config.eachBatch;
    return Promise.resolve();
  }
  get isRunningLoop(): boolean {
    return this.eachBatch !== undefined;
  }
  seek(s: { topic: string; partition: number; offset: string }): void {
    this.seeks.push(s);
  }
  pause(ts: { topic: string; partitions: number[] }[]): void {
    for (const t of ts) for (const p of t.partitions) this.paused.push(`${t.topic}/${p}`);
  }
  resume(ts: { topic: string; partitions: number[] }[]): void {
    for (const t of ts) for (const p of t.partitions) this.resumed.push(`${t.topic}/${p}`);
  }
  async commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    this.commits.push(offsets);
    await this.commitImpl(offsets);
  }
  disconnect(): Promise<void> {
    this.running = false;
    this.disconnected = true;
    return Promise.resolve();
  }

  /** The group (re)joined with this assignment (kafkajs emits GROUP_JOIN). */
  join(assignment: Record<string, number[]>): void {
    this.generation++;
    this.emit(this.events.GROUP_JOIN, { memberAssignment: assignment });
  }
  crash(error: Error, restart = false): void {
    this.running = false;
    this.emit(this.events.CRASH, { error, restart });
  }

  /** Hands one fetched batch of `count` records from `first` to eachBatch. */
  deliver(topic: string, partition: number, first: bigint | number, count: number, opts: { bytes?: number } = {}): Delivered {
    if (!this.eachBatch) throw new Error('run() was not called');
    const messages = Array.from({ length: count }, (_, i) => message(BigInt(first) + BigInt(i), opts.bytes ? 'x'.repeat(opts.bytes) : undefined));
    const generation = this.generation;
    const resolved: string[] = [];
    const batch = {
      topic,
      partition,
      highWatermark: String(BigInt(first) + BigInt(count)),
      messages,
      isEmpty: () => messages.length === 0,
      firstOffset: () => messages[0]?.offset ?? null,
      lastOffset: () => messages[messages.length - 1]!.offset,
      offsetLag: () => '0',
      offsetLagLow: () => '0',
    };
    const payload = {
      batch,
      resolveOffset: (o: string) => void resolved.push(o),
      heartbeat: () => Promise.resolve(),
      pause: () => () => undefined,
      commitOffsetsIfNecessary: () => Promise.resolve(),
      uncommittedOffsets: () => ({ topics: [] }),
      isRunning: () => this.running,
      isStale: () => generation !== this.generation,
    } as unknown as EachBatchPayload;
    return { done: this.eachBatch(payload), resolved };
  }
}

export class FakeAdmin {
  /** The group's committed offsets ('topic/partition' → next offset to read). */
  readonly committed = new Map<string, bigint>();
  /** The first offset each partition's log still has ('topic/partition' → low). */
  readonly low = new Map<string, bigint>();
  readonly fetchOffsetsGate = new Gate();
  readonly topicOffsetsGate = new Gate();
  partitionsOf = new Map<string, number[]>();
  fetchOffsetsCalls = 0;
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async fetchOffsets({ topics }: { groupId: string; topics: string[] }) {
    this.fetchOffsetsCalls++;
    await this.fetchOffsetsGate.pass();
    return topics.map((topic) => ({
      topic,
      partitions: (this.partitionsOf.get(topic) ?? [0]).map((partition) => ({
        partition,
        offset: String(this.committed.get(`${topic}/${partition}`) ?? -1n),
        metadata: null,
      })),
    }));
  }
  async fetchTopicOffsets(topic: string) {
    await this.topicOffsetsGate.pass();
    return (this.partitionsOf.get(topic) ?? [0]).map((partition) => ({
      partition,
      offset: '0',
      high: '0',
      low: String(this.low.get(`${topic}/${partition}`) ?? 0n),
    }));
  }
}

export class FakeKafka {
  readonly consumers: FakeConsumer[] = [];
  readonly admins: FakeAdmin[] = [];
  readonly sharedAdmin = new FakeAdmin();
  consumer(config: unknown): FakeConsumer {
    const c = new FakeConsumer(config);
    this.consumers.push(c);
    return c;
  }
  admin(): FakeAdmin {
    return this.sharedAdmin;
  }
  get last(): FakeConsumer {
    return this.consumers[this.consumers.length - 1]!;
  }
}

/** Polls `cond` (on timers, so every promise settles in between) until true, at most `ms`. */
export async function until(cond: () => boolean, what: string, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Resolves when `listen` reports success, rejects with its error. */
export function listening(listen: (cb: (err?: unknown) => void) => Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    void listen((err?: unknown) => (err === undefined ? resolve() : reject(err instanceof Error ? err : new Error('listen failed'))));
  });
}
