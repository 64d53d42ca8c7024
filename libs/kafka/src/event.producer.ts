import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { topicRoleOf, type TopicNames, type UnreadEvent } from '@app/contracts';

export class ProduceTimeoutError extends Error {
  constructor(ms: number) {
    super(`the broker did not acknowledge within ${ms} ms`);
    this.name = 'ProduceTimeoutError';
  }
}

/**
 * Appends events to their topics (acks = all). Used by the gateway for admin writes, by the
 * local runner for sample data, and by tests and the benchmark. The key is the event's
 * conversation or entity (docs/events.md), so events about one thing stay ordered.
 */
export class EventProducer {
  private readonly producer: Producer;
  private connected?: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly topics: TopicNames,
  ) {
    // The mock broker (and some managed clusters) lack what the idempotent producer needs;
    // projections are idempotent, so a plain producer with acks = all is enough.
    this.producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false, retry: { retries: 3 } });
  }

  connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
    this.connected = undefined;
  }

  /** The partition key of an event (docs/events.md: conversation for messages and acks, entity for directory). */
  static keyOf(e: UnreadEvent): string {
    switch (e.type) {
      case 'message-sent':
        if (e.scope === 'c2c') return `${e.appId}:c2c:${[e.from, e.to].sort().join(':')}`;
        if (e.scope === 'group') return `${e.appId}:group:${e.groupId}`;
        return `${e.appId}:channel:${e.serverId}:${e.channelId}`;
      case 'read-ack':
        if (e.scope === 'c2c') return `${e.appId}:c2c:${[e.account, e.peer].sort().join(':')}`;
        if (e.scope === 'group') return `${e.appId}:group:${e.groupId}`;
        return `${e.appId}:channel:${e.serverId}:${e.channelId}`;
      case 'group-unread-set':
        return `${e.appId}:group:${e.groupId}`;
      case 'channel-mention':
      case 'channel-message-updated':
        return `${e.appId}:channel:${e.serverId}:${e.channelId}`;
      case 'account-registered':
      case 'account-deleted':
        return `${e.appId}:account:${e.account}`;
      case 'group-created':
      case 'group-dismissed':
      case 'group-member-joined':
      case 'group-member-left':
        return `${e.appId}:group:${e.groupId}`;
      default:
        return `${e.appId}:server:${e.serverId}`;
    }
  }

  /** Sends events (plain objects following the contracts) and resolves once the broker acknowledged all. */
  async send(events: readonly UnreadEvent[], timeoutMs = 0): Promise<void> {
    const byTopic = new Map<string, { key: string; value: string }[]>();
    for (const e of events) {
      const topic = this.topics[topicRoleOf(e.type)];
      const list = byTopic.get(topic) ?? [];
      list.push({ key: EventProducer.keyOf(e), value: JSON.stringify(e) });
      byTopic.set(topic, list);
    }
    const work = (async () => {
      await this.connect();
      await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    })();
    if (!timeoutMs) return work;
    work.catch(() => undefined); // a late failure after the timeout answered is not unhandled
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new ProduceTimeoutError(timeoutMs)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends raw records (tests and tools: invalid events, other topics). */
  async sendRaw(topic: string, messages: { key?: string; value: Buffer | string | null }[]): Promise<void> {
    await this.connect();
    await this.producer.send({ topic, acks: -1, messages });
  }
}
