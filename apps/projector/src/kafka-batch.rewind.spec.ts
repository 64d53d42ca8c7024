import type { Kafka } from 'kafkajs';
import { FakeKafka, listening, until } from '../../../test/support/fake-kafkajs';
import { KafkaBatchTransport, type BatchOutcome, type RecordBatch, type TransportApplier } from './kafka-batch.transport';

/**
 * Redis as positions.lua sees it: the offsets applied and the recorded position. The oracle
 * of the invariant "a position is recorded only when Redis holds every offset before it".
 */
class RedisModel {
  held = -1n;
  readonly applied = new Set<bigint>();
  readonly violations: string[] = [];
  apply(batch: RecordBatch): BatchOutcome {
    for (const m of batch.messages) this.applied.add(BigInt(m.offset));
    if (this.held < batch.prevOffset) return { applied: false, heldOffset: this.held };
    for (let o = 0n; o <= batch.lastOffset; o++) {
      if (!this.applied.has(o)) this.violations.push(`position ${batch.lastOffset} recorded without offset ${o}`);
    }
    if (batch.lastOffset > this.held) this.held = batch.lastOffset;
    return { applied: true };
  }
  /** A failover to a replica that missed everything after `to`. */
  lose(to: bigint): void {
    for (const o of [...this.applied]) if (o > to) this.applied.delete(o);
    this.held = to;
  }
}

describe('KafkaBatchTransport: the rewind window', () => {
  it('never hands over a batch fetched from the old position after a rewind as the continuation of what Redis holds', async () => {
    const kafka = new FakeKafka();
    const redis = new RedisModel();
    const calls: RecordBatch[] = [];
    const applier: TransportApplier = {
      apply: (b) => {
        calls.push(b);
        return Promise.resolve(redis.apply(b));
      },
      positions: (ps) => Promise.resolve(ps.map(() => redis.held)),
      watchHoldings: () => () => undefined,
    };
    const transport = new KafkaBatchTransport({ kafka: kafka as unknown as Kafka, applier, groupId: 'g', topics: ['t'], commitIntervalMs: 5 });
    await listening((cb) => transport.listen(cb));
    const consumer = kafka.last;
    consumer.join({ t: [0] });

    await consumer.deliver('t', 0, 0, 5).done;
    await until(() => redis.held === 4n, 'batch 0..4 applied');
    redis.lose(2n); // Redis failed over to a replica that has 0..2 only
    kafka.sharedAdmin.topicOffsetsGate.close(); // the admin round trip of the rewind is slow
    await consumer.deliver('t', 0, 5, 5).done; // refused: Redis holds 2
    await until(() => calls.length === 2, 'batch 5..9 handed over');
    // Fetched from the old position before the consumer is repositioned:
    await consumer.deliver('t', 0, 10, 5).done;
    await new Promise((r) => setTimeout(r, 20));
    kafka.sharedAdmin.topicOffsetsGate.open();
    await until(() => consumer.seeks.length > 0, 'the seek');
    expect(consumer.seeks).toEqual([{ topic: 't', partition: 0, offset: '3' }]);
    await consumer.deliver('t', 0, 3, 12).done; // what the seek fetches
    await until(() => redis.held === 14n, 'caught up to 14');

    expect(redis.violations).toEqual([]);
    for (const b of calls) expect(b.prevOffset).toBe(BigInt(b.messages[0]!.offset) - 1n);
    await transport.close();
  });
});
