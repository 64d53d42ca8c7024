import { randomBytes } from 'node:crypto';
import type { AppConfig } from '@app/config';
import { unreadChangedKey, type UnreadChanged } from '@app/contracts';
import { createKafka } from '@app/kafka';

export interface WatchOptions {
  app: string;
  /** Only this account's records. */
  account?: string;
  /** Start at the oldest record kept (the compacted topic holds the last of every account) instead of new records only. */
  fromBeginning?: boolean;
  /** Stop after this many records. */
  count?: number;
  /** Print each record's JSON as it is on the topic. */
  json?: boolean;
}

/** One line of `unread watch`: the record's time, key and totals. */
export function formatFeedLine(r: UnreadChanged): string {
  return `${new Date(r.time).toISOString()} ${r.appId}:${r.account} c2c=${r.c2c} groups=${r.groups} channels=${r.channels} badge=${r.badge} version=${r.version}`;
}

/**
 * `unread watch APP [ACCOUNT]`: tails the change feed (docs/events.md, "The change feed"),
 * one line per record of the app (or of one account), with a consumer group of its own
 * that commits nothing. Resolves after `count` records or when `stop` resolves.
 */
export async function watchFeed(config: AppConfig, opts: WatchOptions, write: (line: string) => void, stop: Promise<void>): Promise<number> {
  const kafka = createKafka(config.kafka, `${config.kafka.clientId}-watch`, () => undefined);
  const consumer = kafka.consumer({ groupId: `unread-watch-${randomBytes(6).toString('hex')}`, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const exact = opts.account === undefined ? undefined : unreadChangedKey(opts.app, opts.account);
  const prefix = `${opts.app}:`;
  let seen = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: config.kafka.topics.unreadChanged, fromBeginning: opts.fromBeginning ?? false });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ message }) => {
        const key = message.key?.toString('utf8') ?? '';
        if (exact !== undefined ? key !== exact : !key.startsWith(prefix)) return Promise.resolve();
        if (opts.count !== undefined && seen >= opts.count) return Promise.resolve();
        const text = message.value?.toString('utf8') ?? '';
        let line = text;
        if (!opts.json) {
          try {
            line = formatFeedLine(JSON.parse(text) as UnreadChanged);
          } catch {
            line = `${key} (not JSON) ${text}`;
          }
        }
        write(line);
        seen++;
        if (opts.count !== undefined && seen >= opts.count) finish();
        return Promise.resolve();
      },
    });
    await Promise.race([done, stop]);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return seen;
}
