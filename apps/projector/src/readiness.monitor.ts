import type { Consumer, Kafka } from 'kafkajs';
import type { Histogram } from 'prom-client';
import { Cluster } from 'ioredis';
import type { RedisClient } from '@app/store';

/**
 * Whether the projector's consumer is in its group. It watches every consumer created from
 * the projector's kafkajs client (the transport replaces its consumer after a crash): joined
 * after GROUP_JOIN, not joined after CRASH, STOP or DISCONNECT, and a new consumer starts
 * as not joined.
 */
export class ConsumerWatch {
  private current?: Consumer;
  private joined = false;

  /** Wraps `kafka.consumer` so each consumer it creates is watched (call before the transport starts). */
  observe(kafka: Kafka): void {
    const create = kafka.consumer.bind(kafka);
    kafka.consumer = (config) => {
      const consumer = create(config);
      this.current = consumer;
      this.joined = false;
      const set = (joined: boolean) => () => {
        if (this.current === consumer) this.joined = joined;
      };
      consumer.on(consumer.events.GROUP_JOIN, set(true));
      consumer.on(consumer.events.CRASH, set(false));
      consumer.on(consumer.events.STOP, set(false));
      consumer.on(consumer.events.DISCONNECT, set(false));
      return consumer;
    };
  }

  get isJoined(): boolean {
    return this.joined;
  }
}

/**
 * Redis round trips: a PING to every node (each master of a cluster), timed into the
 * histogram, every interval and on each readiness check. Reachable = the last PING of every
 * node answered within `timeoutMs`. (The projector's client queues commands while Redis is
 * away, so an unanswered PING is a timeout, not an error.)
 */
export class RedisProbe {
  private timer?: NodeJS.Timeout;
  private reachable = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly histogram?: Histogram,
    private readonly timeoutMs = 1_000,
  ) {}

  /** PINGs now; true when every node answered in time. */
  async probe(): Promise<boolean> {
    const nodes = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    const results = await Promise.all(
      nodes.map(async (node) => {
        const started = process.hrtime.bigint();
        let timer: NodeJS.Timeout | undefined;
        const ping = node.ping();
        ping.catch(() => undefined); // one that loses the race may still fail later
        try {
          await Promise.race([
            ping,
            new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), this.timeoutMs))),
          ]);
          this.histogram?.observe(Number(process.hrtime.bigint() - started) / 1e9);
          return true;
        } catch {
          return false;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    this.reachable = nodes.length > 0 && results.every(Boolean);
    return this.reachable;
  }

  get isReachable(): boolean {
    return this.reachable;
  }

  start(intervalMs: number): void {
    void this.probe();
    this.timer = setInterval(() => void this.probe(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
