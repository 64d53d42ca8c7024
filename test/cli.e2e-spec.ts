import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventProducer } from '@app/kafka';
import type { UnreadEvent } from '@app/contracts';
import { Keyspace, ProjectionStore } from '@app/store';
import { explain } from '../apps/tools/src/explain.command';
import { SAMPLE, sampleEvents } from '../apps/tools/src/sample-data';
import { ensureCliBuilt, runCli } from './support/cli';
import { drained } from './support/drain';
import { Harness, uniq } from './support/harness';
import { envOf } from './support/projector-process';
import { waitFor } from './support/wait';

const APP = '1400000001';

describe('unread CLI: produce, explain, rebuild', () => {
  let h: Harness;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    ensureCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'unread-cli-'));
    h = await Harness.start({ gateway: false });
    env = envOf(h.config);
  });
  afterAll(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every record of a topic (fresh group), as key → value. */
  async function records(topic: string, expected: number): Promise<{ key: string; value: string }[]> {
    const consumer = h.kafka.consumer({ groupId: `read-${uniq()}`, sessionTimeout: 10_000, heartbeatInterval: 500 });
    const got: { key: string; value: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        got.push({ key: message.key?.toString('utf8') ?? '', value: message.value?.toString('utf8') ?? '' });
        return Promise.resolve();
      },
    });
    try {
      await waitFor(() => got.length, (n) => n >= expected, { timeoutMs: 20_000, what: `${expected} records on ${topic}` });
    } finally {
      await consumer.disconnect();
    }
    return got.sort((a, b) => a.value.localeCompare(b.value));
  }

  const good: UnreadEvent[] = [
    { type: 'account-registered', appId: APP, account: 'ann' },
    { type: 'message-sent', scope: 'c2c', appId: APP, msgId: 'p1', from: 'ben', to: 'ann', time: 1_700_000_000_001 },
    { type: 'message-sent', scope: 'c2c', appId: APP, msgId: 'p2', from: 'ben', to: 'ann', time: 1_700_000_000_002 },
    { type: 'group-created', appId: APP, groupId: 'g-cli', groupType: 'Work' },
  ];

  it('produce: publishes the valid lines with their partition keys, reports each invalid line, exits 3', async () => {
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify(good[0]),
        '{"type":',
        JSON.stringify(good[1]),
        '',
        JSON.stringify({ ...good[2], time: -1 }),
        JSON.stringify({ type: 'nope', appId: APP }),
        JSON.stringify(good[2]),
        JSON.stringify(good[3]),
      ].join('\n') + '\n',
    );
    const r = await runCli(['produce', file], env);
    expect(r).toEqual({
      code: 3,
      stdout: `8 lines: 4 valid, 3 invalid, 1 blank; produced 4 events (${h.topics.directory} 2, ${h.topics.messageSent} 2)\n`,
      stderr: [
        'line 2: invalid JSON: Unexpected end of JSON input',
        'line 5: time must be Unix milliseconds (a non-negative integer)',
        'line 6: unknown type "nope"',
        '',
      ].join('\n'),
    });

    const sent = await records(h.topics.messageSent, 2);
    // the validated event is what is sent (ids normalised as the parser does), keyed as EventProducer.keyOf
    expect(sent.map((r) => ({ key: r.key, value: JSON.parse(r.value) as unknown }))).toEqual([good[1]!, good[2]!].map((e) => ({ key: EventProducer.keyOf(e), value: e })));
    expect(sent[0]!.key).toBe(`${APP}:c2c:ann:ben`);
    const store = new ProjectionStore(h.redis, new Keyspace(h.config.redis.keyPrefix), { mentionRetentionMs: h.config.mentionRetentionMs });
    await waitFor(async () => (await store.c2c.total(APP, 'ann')).total, (n) => n === 2, { what: 'ann to have the 2 produced messages unread' });
    expect(await store.directory.exists(APP, 'ann')).toBe(true);
  });

  it('produce --dry-run: validates only (nothing reaches the broker); reads standard input with -', async () => {
    const admin = h.kafka.admin();
    await admin.connect();
    const ends = async () => (await Promise.all(Object.values(h.topics).map((t) => admin.fetchTopicOffsets(t)))).flat().map((p) => p.high);
    try {
      const before = await ends();
      const input = `${JSON.stringify(good[0])}\n{"type":"read-ack","scope":"c2c","appId":"${APP}","account":"ann","peer":"ben"}\n`;
      expect(await runCli(['produce', '--dry-run', '-'], env, input)).toEqual({
        code: 3,
        stdout: '2 lines: 1 valid, 1 invalid, 0 blank; dry run: nothing produced\n',
        stderr: 'line 2: readTime must be Unix milliseconds (a non-negative integer)\n',
      });
      expect(await runCli(['produce', '--dry-run', '-'], env, `${JSON.stringify(good[0])}\n`)).toEqual({
        code: 0,
        stdout: '1 lines: 1 valid, 0 invalid, 0 blank; dry run: nothing produced\n',
        stderr: '',
      });
      expect(await ends()).toEqual(before);
    } finally {
      await admin.disconnect();
    }
  });

  it('exits 2 on usage and configuration errors, with the reason', async () => {
    expect(await runCli(['produce', join(dir, 'missing.jsonl')], env)).toEqual({
      code: 2,
      stdout: '',
      stderr: `unread: cannot read ${join(dir, 'missing.jsonl')}: ENOENT: no such file or directory, stat '${join(dir, 'missing.jsonl')}'\n`,
    });
    expect(await runCli(['explain', APP, 'ann', '--peer', 'ben', '--group', 'g'], env)).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: option '--peer <account>' cannot be used with option '--group <groupId>'\n",
    });
    expect(await runCli(['explain', APP, 'ann', '--channel', '1-2'], env)).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: option '--channel <serverId/channelId>' argument '1-2' is invalid. expected SERVER_ID/CHANNEL_ID (decimal ids), e.g. 87834762/25372323\n",
    });
    const { KAFKA_BROKERS: _gone, ...noBrokers } = env;
    const r = await runCli(['produce', '-'], noBrokers, '');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'unread: invalid configuration:\n  - KAFKA_BROKERS: KAFKA_BROKERS must be a comma-separated list of host:port\n  - KAFKA_BROKERS: KAFKA_BROKERS must be a string\n',
    );
  });

  describe('explain, on the local runner\'s sample (produced through unread produce)', () => {
    const T = Math.floor(Date.now() / 1000) * 1000;
    const iso = (ms: number) => `${new Date(ms).toISOString()} (${ms})`;
    let store: ProjectionStore;

    beforeAll(async () => {
      const override = { type: 'group-unread-set', appId: SAMPLE.sdkAppId, groupId: SAMPLE.groupId, account: 'dave', readSeq: 2, maxSeq: 4 };
      const lines = [...sampleEvents(T), override].map((e) => JSON.stringify(e)).join('\n');
      const r = await runCli(['produce', '-'], env, lines);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      await drained(h);
      store = new ProjectionStore(h.redis, new Keyspace(h.config.redis.keyPrefix), { mentionRetentionMs: h.config.mentionRetentionMs });
    });

    it('overview of an account, in each app', async () => {
      expect(await explain(store, { app: SAMPLE.sdkAppId, account: 'alice' })).toBe(
        [
          'alice (app 1400000000): registered',
          'one-to-one: 5 unread',
          '  from bob: 3 unread, never read',
          `  from carol: 2 unread, read up to ${iso(T - 50_000)}`,
          'groups: 2 joined, 5 unread',
          `  ${SAMPLE.groupId}: 3 unread (max seq 5, read seq 1, 1 recalled or not counted)`,
          `  ${SAMPLE.mutedGroupId}: 2 unread (max seq 2, read seq 0); receive option Discard (not in the badge)`,
          'qchat channels with keys of alice: 0',
          `receive options: group ${SAMPLE.mutedGroupId} Discard`,
          'badge: 8 (everything above over conversations whose receive option is AcceptAndNotify)',
          '',
        ].join('\n'),
      );
      expect(await explain(store, { app: SAMPLE.appKey, account: 'alice' })).toBe(
        [
          `alice (app ${SAMPLE.appKey}): registered`,
          'one-to-one: 0 unread',
          'groups: 0 joined, 0 unread',
          'qchat channels with keys of alice: 1',
          `  ${SAMPLE.serverId}/${SAMPLE.channelId}: 3 unread mentions`,
          'receive options: none set (every conversation AcceptAndNotify)',
          'badge: 3 (everything above over conversations whose receive option is AcceptAndNotify)',
          '',
        ].join('\n'),
      );
      expect(await explain(store, { app: SAMPLE.sdkAppId, account: 'nobody' })).toBe(
        [
          'nobody (app 1400000000): not registered (the APIs answer that the account does not exist)',
          'one-to-one: 0 unread',
          'groups: 0 joined, 0 unread',
          'qchat channels with keys of nobody: 0',
          'receive options: none set (every conversation AcceptAndNotify)',
          'badge: 0 (everything above over conversations whose receive option is AcceptAndNotify)',
          '',
        ].join('\n'),
      );
    });

    it('one peer: the read time and the unread message ids', async () => {
      expect(await explain(store, { app: SAMPLE.sdkAppId, account: 'alice', peer: 'carol' })).toBe(
        [
          'alice (app 1400000000): registered',
          'one-to-one from carol: 2 unread (of 5 in total)',
          '  receive option: AcceptAndNotify (never set)',
          `  read time: ${iso(T - 50_000)}: messages from carol at or before it are read`,
          '  unread messages, oldest first:',
          `    ${iso(T - 30_000)} c2`,
          `    ${iso(T - 29_999)} c3`,
          '',
        ].join('\n'),
      );
      expect(await explain(store, { app: SAMPLE.sdkAppId, account: 'alice', peer: 'bob' })).toBe(
        [
          'alice (app 1400000000): registered',
          'one-to-one from bob: 3 unread (of 5 in total)',
          '  receive option: AcceptAndNotify (never set)',
          '  read time: never (every message from bob to alice counts)',
          '  unread messages, oldest first:',
          `    ${iso(T - 40_000)} b0`,
          `    ${iso(T - 39_999)} b1`,
          `    ${iso(T - 39_998)} b2`,
          '  recalled after the read time (never count, also if the message comes again):',
          `    ${iso(T - 39_997)} b3`,
          '',
        ].join('\n'),
      );
    });

    it('one group: max and read sequences, and an admin override', async () => {
      expect(await explain(store, { app: SAMPLE.sdkAppId, account: 'alice', group: SAMPLE.groupId })).toBe(
        [
          'alice (app 1400000000): registered',
          `group ${SAMPLE.groupId} (Work, "Launch team"): 3 unread`,
          '  receive option (MsgFlag): AcceptAndNotify',
          '  member: yes',
          '  max seq 5 (the highest message seq projected)',
          '  read seq 1 = max of: read acks 1, join seq 0, own messages up to seq 0',
          '  seqs after the read seq that do not count (recalled or sent with noUnread): 5',
          '  unread = max(0, 5 - 1) - 1 = 3',
          '',
        ].join('\n'),
      );
      expect(await explain(store, { app: SAMPLE.sdkAppId, account: 'dave', group: SAMPLE.groupId })).toBe(
        [
          'dave (app 1400000000): registered',
          `group ${SAMPLE.groupId} (Work, "Launch team"): 2 unread`,
          '  receive option (MsgFlag): AcceptAndNotify',
          '  member: yes',
          '  max seq 5 (the highest message seq projected)',
          "  read seq 2 = max of: read acks 2, join seq 0 (at or below the override's max seq 4: superseded), own messages up to seq 0 (at or below the override's max seq 4: superseded)",
          '  admin override (group-unread-set) replaced the read acks at max seq 4',
          '  seqs after the read seq that do not count (recalled or sent with noUnread): 5',
          '  unread = max(0, 5 - 2) - 1 = 2',
          '',
        ].join('\n'),
      );
    });

    it('one QChat channel: the roles, the ack time and what matched each mention', async () => {
      expect(await explain(store, { app: SAMPLE.appKey, account: 'alice', channel: { serverId: SAMPLE.serverId, channelId: SAMPLE.channelId } })).toBe(
        [
          `alice (app ${SAMPLE.appKey}): registered`,
          `qchat channel ${SAMPLE.serverId}/${SAMPLE.channelId}: 3 unread mentions`,
          '  server known: yes; channel exists: yes; alice is a member: yes',
          `  roles of alice in the server: ${SAMPLE.roleId} (mentions of other roles do not count)`,
          '  ack time: none (every mention within the retention counts)',
          '  unread mentions, newest first:',
          `    16846553 ${iso(T - 9_997)} from bob: @all`,
          `    16846552 ${iso(T - 9_998)} from bob: role ${SAMPLE.roleId}`,
          `    16846551 ${iso(T - 9_999)} from bob: @alice`,
          '',
        ].join('\n'),
      );
      expect(await explain(store, { app: SAMPLE.appKey, account: 'carol', channel: { serverId: SAMPLE.serverId, channelId: SAMPLE.channelId } })).toBe(
        [
          `carol (app ${SAMPLE.appKey}): registered`,
          `qchat channel ${SAMPLE.serverId}/${SAMPLE.channelId}: 2 unread mentions`,
          '  server known: yes; channel exists: yes; carol is a member: yes',
          '  roles of carol in the server: none (mentions of other roles do not count)',
          '  ack time: none (every mention within the retention counts)',
          '  unread mentions, newest first:',
          `    16846554 ${iso(T - 9_996)} from bob: @carol`,
          `    16846553 ${iso(T - 9_997)} from bob: @all`,
          '',
        ].join('\n'),
      );
    });

    it('rebuild: every projection into generation 1, with progress per topic against the end offsets', async () => {
      const events = sampleEvents(T).length + 1 + good.length;
      const r = await runCli(['rebuild', '--keep-old', '--progress-every', '50'], env);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ previous: 0, generation: 1, applied: events, skipped: 0, deleted: 0 });
      const lines = r.stderr.split('\n').filter(Boolean);
      // its own steps, in order, between the progress lines
      expect(lines.filter((l) => l.startsWith('rebuild: '))).toEqual([
        'rebuild: building generation 1 (active: 0)',
        `rebuild: caught up with the live group (${events} events)`,
        `rebuild: switched to generation 1 (${events} events applied, 0 invalid records skipped)`,
      ]);
      const progress = /^(\S+): (\d+)\/(\d+) events \(\d+%\), [\d.]+ events\/s, ETA \S+$/;
      const rows = lines.filter((l) => !l.startsWith('rebuild: ')).map((l) => progress.exec(l));
      expect(rows.every(Boolean)).toBe(true);
      const seen = new Map(rows.map((m) => [m![1]!, [Number(m![2]), Number(m![3])]]));
      // every topic gets lines; the totals are what each topic holds
      expect(Object.fromEntries([...seen].map(([t, [, total]]) => [t, total]))).toEqual({
        [h.topics.messageSent]: 2 + sampleEvents(T).filter((e) => e.type === 'message-sent' || e.type === 'message-recalled').length,
        [h.topics.readAck]: 1 + sampleEvents(T).filter((e) => e.type === 'read-ack').length,
        [h.topics.mention]: sampleEvents(T).filter((e) => e.type === 'channel-mention').length,
        [h.topics.directory]: 2 + sampleEvents(T).filter((e) => !['message-sent', 'message-recalled', 'read-ack', 'channel-mention'].includes(e.type)).length,
      });
    });

    it('explain through the CLI reads the active generation (the rebuilt one: same answer)', async () => {
      expect(await h.redis.get(`${h.config.redis.keyPrefix}:gen:{gen}`)).toBe('1');
      const r = await runCli(['explain', SAMPLE.sdkAppId, 'dave', '--group', SAMPLE.groupId], env);
      expect(r).toEqual({ code: 0, stdout: await explain(store, { app: SAMPLE.sdkAppId, account: 'dave', group: SAMPLE.groupId }), stderr: '' });
    });
  });
});
