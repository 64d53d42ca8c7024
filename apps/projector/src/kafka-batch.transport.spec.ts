import type { Kafka } from 'kafkajs';
import { FakeKafka, listening, until } from '../../../test/support/fake-kafkajs';
import { KafkaBatchTransport, type BatchOutcome, type RecordBatch, type TransportApplier } from './kafka-batch.transport';

type Handler = (b: RecordBatch) => Promise<BatchOutcome>;
const span = (b: RecordBatch) => `${b.prevOffset}|${b.messages[0]!.offset}..${b.lastOffset}`;

/**
 * An applier answering with `handler`; what Redis holds is `held` when given, else what the
 * outcomes said (the last offset applied, or the offset held).
 */
async function start(handler: Handler, opts: { maxInFlightEvents?: number; held?: () => bigint[] } = {}) {
  const kafka = new FakeKafka();
  const calls: RecordBatch[] = [];
  const holds = new Map<string, bigint>();
  const applier: TransportApplier = {
    apply: async (b) => {
      calls.push(b);
      const outcome = await handler(b);
      holds.set(`${b.topic}/${b.partition}`, outcome.applied ? b.lastOffset : outcome.heldOffset);
      return outcome;
    },
    positions: (ps) => Promise.resolve(ps.map((p, i) => (opts.held ? opts.held()[i] : holds.get(`${p.topic}/${p.partition}`)) ?? -1n)),
    watchHoldings: () => () => undefined,
  };
  const transport = new KafkaBatchTransport({
    kafka: kafka as unknown as Kafka,
    applier,
    groupId: 'g',
    topics: ['t'],
    commitIntervalMs: 2,
    maxInFlightEvents: opts.maxInFlightEvents,
  });
  await listening((cb) => transport.listen(cb));
  return { kafka, transport, calls, admin: kafka.sharedAdmin };
}

const applied: Handler = () => Promise.resolve({ applied: true });

describe('KafkaBatchTransport', () => {
  it("refetches a batch whose handler failed unexpectedly from the batch's own start, even a first batch on a log that no longer starts at 0", async () => {
    let failures = 1;
    const { kafka, transport, calls, admin } = await start((b) => {
      if (failures-- > 0) return Promise.reject(new Error('unexpected'));
      return Promise.resolve({ applied: true });
      void b;
    });
    admin.low.set('t/0', 100n); // retention removed 0..99; the group never committed
    const c = kafka.last;
    c.join({ t: [0] });
    await c.deliver('t', 0, 100, 5).done;
    await until(() => c.seeks.length === 1, 'the refetch', 3_000);
    expect(c.seeks).toEqual([{ topic: 't', partition: 0, offset: '100' }]);
    expect(c.paused).toEqual([]);
    expect(transport.behind()).toEqual([]);
    await c.deliver('t', 0, 100, 5).done;
    await until(() => c.commits.length > 0, 'the commit');
    expect(calls.map(span)).toEqual(['-1|100..104', '99|100..104']);
    expect(c.commits.at(-1)).toEqual([{ topic: 't', partition: 0, offset: '105' }]);
    await transport.close();
  });

  it('drops a batch that does not start where the last queued one ended, and seeks back to there', async () => {
    const { kafka, transport, calls } = await start(applied);
    const c = kafka.last;
    c.join({ t: [0] });
    await c.deliver('t', 0, 0, 5).done;
    const skipped = c.deliver('t', 0, 8, 5);
    await skipped.done;
    expect(skipped.resolved).toEqual([]);
    expect(c.seeks).toEqual([{ topic: 't', partition: 0, offset: '5' }]);
    await c.deliver('t', 0, 5, 8).done;
    await until(() => calls.length === 2, 'both batches');
    expect(calls.map(span)).toEqual(['-1|0..4', '4|5..12']);
    await transport.close();
  });

  it('hands batches queued while the previous one applies over together, in order', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { kafka, transport, calls } = await start(async (b) => {
      if (b.messages[0]!.offset === '0') await gate;
      return { applied: true };
    });
    const c = kafka.last;
    c.join({ t: [0] });
    await c.deliver('t', 0, 0, 2).done;
    await c.deliver('t', 0, 2, 2).done;
    await c.deliver('t', 0, 4, 2).done;
    release();
    await until(() => calls.length === 2, 'the merged batch');
    expect(calls.map(span)).toEqual(['-1|0..1', '1|2..5']);
    await until(() => c.commits.some((o) => o[0]?.offset === '6'), 'commit of 6');
    await transport.close();
  });

  it('holds the fetch loop while too many events are in flight (back-pressure)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { kafka, transport } = await start(
      async () => {
        await gate;
        return { applied: true };
      },
      { maxInFlightEvents: 10 },
    );
    const c = kafka.last;
    c.join({ t: [0] });
    let second = false;
    await c.deliver('t', 0, 0, 8).done;
    const held = c.deliver('t', 0, 8, 8).done.then(() => (second = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBe(false);
    release();
    await held;
    expect(second).toBe(true);
    await transport.close();
  });

  it('commits applied positions only: a batch Redis refused moves no offset', async () => {
    const { kafka, transport, admin } = await start((b) =>
      Promise.resolve(b.messages[0]!.offset === '0' ? { applied: true } : { applied: false, heldOffset: 4n }),
    );
    admin.topicOffsetsGate.close();
    const c = kafka.last;
    c.join({ t: [0] });
    await c.deliver('t', 0, 0, 5).done;
    await until(() => c.commits.length === 1, 'the first commit');
    await c.deliver('t', 0, 5, 5).done;
    await new Promise((r) => setTimeout(r, 20));
    expect(c.commits).toEqual([[{ topic: 't', partition: 0, offset: '5' }]]);
    admin.topicOffsetsGate.open();
    await transport.close();
  });

  it('checks what Redis holds on every assignment, with no traffic: a Redis emptied while the projector was away is refilled from the log', async () => {
    const { kafka, transport, admin } = await start(applied, { held: () => [-1n, 7n] });
    admin.partitionsOf.set('t', [0, 1]);
    admin.committed.set('t/0', 10n);
    admin.committed.set('t/1', 8n);
    const c = kafka.last;
    c.join({ t: [0, 1] });
    await until(() => c.seeks.length === 1, 'the rewind of t/0');
    expect(c.seeks).toEqual([{ topic: 't', partition: 0, offset: '0' }]);
    await transport.close();
  });

  it('starts a fresh consumer after a crash kafkajs does not restart from, and checks its assignment at once', async () => {
    const { kafka, transport, admin, calls } = await start(applied, { held: () => [-1n] });
    admin.committed.set('t/0', 3n);
    const first = kafka.last;
    first.join({ t: [0] });
    await until(() => first.seeks.length === 1, 'the first check');
    first.crash(new Error('unexpected broker answer'));
    await until(() => kafka.consumers.length === 2 && kafka.last.isRunningLoop, 'a new consumer', 3_000);
    expect(first.disconnected).toBe(true);
    const second = kafka.last;
    second.join({ t: [0] });
    await until(() => second.seeks.length === 1, 'the check of the new consumer');
    expect(second.seeks).toEqual([{ topic: 't', partition: 0, offset: '0' }]);
    await second.deliver('t', 0, 0, 3).done;
    await until(() => calls.length === 1, 'the batch of the new consumer');
    expect(calls.map(span)).toEqual(['-1|0..2']);
    await transport.close();
  });
});
