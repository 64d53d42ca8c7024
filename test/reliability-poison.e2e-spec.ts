import { registered } from './support/accounts';
import { DEAD_LETTER_HEADERS, MAX_EVENT_BYTES, MAX_MENTION_TARGETS } from '@app/contracts';
import { EventProducer } from '@app/kafka';
import { Keyspace } from '@app/store';
import { Harness, NETEASE_APP, TENCENT_APP, uniq } from './support/harness';
import { drainedGroup } from './support/projector-process';
import { waitFor } from './support/wait';

describe('reliability: poison events', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ gateway: false });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('dead-letters every refused record with its reason and source, and the partition keeps flowing', async () => {
    const app = TENCENT_APP.sdkAppId;
    const account = `p-${uniq()}`;
    // One key, so every record lands in the same partition, poison first.
    const key = EventProducer.keyOf({ type: 'account-registered', appId: app, account });
    const mentionKey = `${NETEASE_APP.appKey}:channel:1:2`;
    const mention = (extra: Record<string, unknown>) =>
      JSON.stringify({
        type: 'channel-mention',
        appId: NETEASE_APP.appKey,
        serverId: '1',
        channelId: '2',
        message: { msgIdServer: '9', fromAccount: 'a', time: 1, updateTime: 1, status: 0, type: 0, body: 'x' },
        mentionAll: false,
        ...extra,
      });
    const oversized = JSON.stringify({ type: 'account-registered', appId: app, account: 'x'.repeat(MAX_EVENT_BYTES) });
    await h.producer.sendRaw(h.topics.directory, [
      { key, value: '{not json' },
      { key, value: null },
      { key, value: JSON.stringify({ type: 'account-registered', appId: app, account: { $ne: 1 } }) },
      { key, value: JSON.stringify({ type: 'account-registered', appId: 1400000001, account }) },
      { key, value: JSON.stringify({ type: 'no-such-type', appId: app, account }) },
      { key, value: JSON.stringify([1, 2, 3]) },
      { key, value: oversized },
      { key, value: JSON.stringify({ type: 'account-registered', appId: app, account: 'bad\u0000id' }) },
      { key, value: JSON.stringify({ type: 'account-registered', appId: app, account }) },
    ]);
    await h.producer.sendRaw(h.topics.mention, [
      { key: mentionKey, value: mention({ mentionAccids: Array.from({ length: MAX_MENTION_TARGETS + 1 }, (_, i) => `a${i}`) }) },
      { key: mentionKey, value: mention({ mentionAccids: [{}], mentionRoleIds: 'not-an-array' }) },
    ]);
    const letters = await h.deadLetters(10, 30_000);
    expect(letters).toHaveLength(10);
    const fromDirectory = letters.filter((l) => l.headers[DEAD_LETTER_HEADERS.topic] === h.topics.directory);
    expect(fromDirectory.map((l) => l.headers[DEAD_LETTER_HEADERS.offset])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    for (const l of letters) {
      expect(l.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/\S/);
      expect(l.headers[DEAD_LETTER_HEADERS.partition]).toMatch(/^\d+$/);
    }
    const reasons = fromDirectory.map((l) => l.headers[DEAD_LETTER_HEADERS.reason]);
    expect(reasons[0]).toMatch(/^invalid JSON: /);
    expect(reasons[1]).toBe('empty value');
    expect(reasons[6]).toBe(`event is ${Buffer.byteLength(oversized)} bytes, more than the ${MAX_EVENT_BYTES} allowed`);
    const fromMention = letters.filter((l) => l.headers[DEAD_LETTER_HEADERS.topic] === h.topics.mention);
    expect(fromMention.map((l) => l.headers[DEAD_LETTER_HEADERS.offset])).toEqual(['0', '1']);
    expect(fromMention[0]!.value.length).toBeGreaterThan(MAX_MENTION_TARGETS * 2);

    // The valid record behind the poison, in the same partition, is applied.
    const keys = new Keyspace(h.config.redis.keyPrefix);
    await waitFor(() => registered(h.redis, keys, app, account), (v) => v === 1, { what: 'the valid record after the poison' });
    await drainedGroup(h.kafka, h.config);
    expect(await registered(h.redis, keys, app, 'bad\u0000id')).toBe(0);
  });
});
