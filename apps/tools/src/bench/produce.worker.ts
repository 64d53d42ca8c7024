import 'reflect-metadata';
import { Kafka, logLevel } from 'kafkajs';
import type { TopicNames } from '@app/contracts';
import { EventProducer } from '@app/kafka';
import { MixedStream, World, type StreamOptions, type WorldSpec } from './event-stream';
import { nowMs, sleep } from './stats';
import { runWorker } from './worker';

export interface ProduceInput {
  brokers: string[];
  topics: TopicNames;
  /** Events per second to hold. */
  rate: number;
  /** One send (a batch per partition) every tickMs. */
  tickMs: number;
  world: { spec: WorldSpec; tencentApp: string; qchatApp: string; seed: number };
  streamSeed: number;
  stream: StreamOptions;
  seqs: Record<string, number>;
}

export interface ProduceResult {
  sent: number;
  seconds: number;
  rate: number;
}

/**
 * Steady background load for the freshness measurement, in its own process: the mixed
 * stream at `rate` events/s, one send per tick (acks = all), until stopped.
 *
 * The tick matters on the mock broker: it answers a fetch with at most one producer batch
 * per partition, so a consumer needs one fetch round per produce round to keep up. A real
 * broker returns everything up to the fetch size; there the tick is irrelevant.
 */
runWorker<ProduceInput, ProduceResult>(async (input, control) => {
  const world = new World(input.world.spec, input.world.tencentApp, input.world.qchatApp, input.world.seed);
  const stream = new MixedStream(world, input.streamSeed, Date.now(), input.stream);
  stream.continueSeqs(input.seqs);
  const kafka = new Kafka({ clientId: 'bench-load', brokers: input.brokers, logLevel: logLevel.NOTHING });
  const producer = new EventProducer(kafka, input.topics);
  await producer.connect();
  let stopping = false;
  void control.stopped.then(() => (stopping = true));
  control.ready();
  const start = nowMs();
  let sent = 0;
  while (!stopping) {
    const due = Math.floor(((nowMs() - start) / 1000) * input.rate) - sent;
    if (due > 0) {
      await producer.send(stream.take(due));
      sent += due;
    }
    await sleep(Math.max(1, input.tickMs - ((nowMs() - start) % input.tickMs)));
  }
  const seconds = (nowMs() - start) / 1000;
  await producer.disconnect();
  return { sent, seconds, rate: sent / seconds };
});
