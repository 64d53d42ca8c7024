import type { LoggerService } from '@nestjs/common';
import type { UnreadEvent } from '@app/contracts';
import { Keyspace } from '@app/store';
import { startProjector, type RunningProjector } from '../apps/projector/src/projector';
import { ProjectorMetrics } from '../apps/projector/src/projector.metrics';
import { Harness, TENCENT_APP, uniq } from './support/harness';
import { CountModel } from './support/count-model';
import { lastPerKey, readFeed } from './support/feed';
import { drainedGroup, offsets } from './support/projector-process';
import { waitFor } from './support/wait';

const APP = TENCENT_APP.sdkAppId;
/** Kafka's TOPIC_AUTHORIZATION_FAILED: the mock broker answers the feed topic's metadata with it. */
const REFUSED = 29;

/** Keeps the projector's warnings (the feed's back-pressure line). */
class Warnings implements LoggerService {
  readonly lines: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
}

describe('change feed back-pressure', () => {
  let h: Harness;
  let p: RunningProjector | undefined;
  const warnings = new Warnings();
  jest.setTimeout(120_000);

  beforeAll(async () => {
    h = await Harness.start({
      projector: false,
      gateway: false,
      partitions: 2,
      env: { CHANGE_FEED: 'true' },
    });
  });
  afterAll(async () => {
    await p?.close();
    await h.stop();
  });

  async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const m = p!.app.get(ProjectorMetrics).registry.getSingleMetric(name);
    const { values } = await m!.get();
    return values
      .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
      .reduce((s, v) => s + v.value, 0);
  }

  it('while the feed topic cannot be written the batches wait uncommitted and say so; once it can, every account gets its final record', async () => {
    const tag = uniq();
    const accounts = Array.from({ length: 6 }, (_, i) => `bp${i}-${tag}`);
    const events: UnreadEvent[] = accounts.map((account) => ({
      type: 'account-registered',
      appId: APP,
      account,
    }));
    let n = 0;
    for (const [i, to] of accounts.entries()) {
      for (let k = 0; k <= i; k++) {
        events.push({
          type: 'message-sent',
          scope: 'c2c',
          appId: APP,
          msgId: `bp-${tag}-${n++}`,
          from: accounts[(i + 1) % accounts.length]!,
          to,
          time: 1_700_000_000_000 + n,
        });
      }
    }
    const model = new CountModel().apply(events);

    // Join first (a client's first metadata request lists every topic, and one refused topic
    // fails all of it): a message to oneself is applied and reports no one.
    p = await startProjector(h.config, { logger: warnings });
    await h.send({
      type: 'message-sent',
      scope: 'c2c',
      appId: APP,
      msgId: `bp-${tag}-self`,
      from: accounts[0],
      to: accounts[0],
      time: 1_700_000_000_000,
    });
    await drainedGroup(h.kafka, h.config, undefined, 60_000);
    const admin = h.kafka.admin();
    await admin.connect();
    const before = (await offsets(admin, h.config)).committed;
    // The feed producer connects on its first record: refused from then on.
    await h.broker.command(`topic-error ${h.topics.unreadChanged} ${REFUSED}`);
    await h.send(...events);

    // The writes are applied (Redis holds the counts) but the feed cannot be written: the batches wait.
    await waitFor(
      async () => [
        await metric('unread_feed_blocked_batches'),
        await metric('unread_feed_retries_total', { what: 'produce' }),
        await metric('unread_feed_records_total'),
        await metric('unread_projector_events_applied_total'),
      ],
      ([blocked, retries]) => blocked! > 0 && retries! >= 4,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: 'the feed to block and retry its produce 4 times (blocked, retries, records, events applied)',
      },
    );
    const counts = await Promise.all(
      accounts.map((a) => h.redis.hget(new Keyspace(h.config.redis.keyPrefix).c2c(APP, a).counts, '')),
    );
    expect(counts.map(Number)).toEqual(accounts.map((a) => model.c2cTotal(APP, a)));
    expect(await metric('unread_feed_records_total')).toBe(0);
    // 100 + 200 + 400 ms of backing off passed, several commit intervals: nothing was committed past the waiting batches.
    try {
      const { committed, high } = await offsets(admin, h.config);
      expect(Object.values(high).reduce((s, x) => s + x, 0)).toBe(events.length + 1);
      expect(committed).toEqual(before);
    } finally {
      await admin.disconnect();
    }
    expect(
      warnings.lines.some(
        (l) =>
          l.includes(`writing the change feed (${h.topics.unreadChanged}) failed for`) &&
          l.includes('the batch waits'),
      ),
    ).toBe(true);

    // Lift the fault: the records arrive, the offsets are committed, nothing waits.
    await h.broker.command(`topic-error ${h.topics.unreadChanged} 0`);
    await drainedGroup(h.kafka, h.config, undefined, 60_000);
    expect(await metric('unread_feed_blocked_batches')).toBe(0);
    const last = lastPerKey(await readFeed(h.kafka, h.topics.unreadChanged));
    for (const a of accounts) {
      const r = last.get(`${APP}:${a}`);
      expect(r?.value).toMatchObject({
        account: a,
        c2c: model.c2cTotal(APP, a),
        groups: 0,
        channels: 0,
        badge: model.badge(APP, a),
      });
    }
  });
});
