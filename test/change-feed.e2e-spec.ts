import Redis from 'ioredis';
import { FeedVersions, feedVersionKey } from '@app/store';
import { asyncApiDocument } from '../apps/gateway/src/common/asyncapi';
import { startProjector, type RunningProjector } from '../apps/projector/src/projector';
import { RedisClusterRig } from './support/cluster-rig';
import { Harness, TENCENT_APP, testConfig, uniq } from './support/harness';
import { ensureCliBuilt, runCli } from './support/cli';
import { lastPerKey, readFeed } from './support/feed';
import { envOf } from './support/projector-process';
import { ProjectorProcess, drainedGroup, ensureProjectorBuilt } from './support/projector-process';
import { waitFor } from './support/wait';
import { CountModel } from './support/count-model';
import { prng, withSeed } from './support/random';
import { Workload, type Ev } from './support/workload';

const APP = TENCENT_APP.sdkAppId;
const KEY = 'change-feed-test-api-key-00000001';

/** One-to-one messages and acks between `accounts` (their conversations spread over the partitions). */
function c2cStream(seed: number, accounts: readonly string[], count: number): Ev[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let time = Date.now() - 3_600_000;
  const out: Ev[] = [];
  for (let i = 0; i < count; i++) {
    const from = pick(accounts);
    const to = pick(accounts.filter((a) => a !== from));
    time += 1 + Math.floor(rnd() * 100);
    if (rnd() < 0.7) out.push({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: `m${i}-${seed}`, from, to, time });
    else out.push({ type: 'read-ack', scope: 'c2c', appId: APP, account: to, peer: from, readTime: time - Math.floor(rnd() * 2_000) });
  }
  return out;
}

describe('change feed (im.unread-changed)', () => {
  let h: Harness;
  const procs: ProjectorProcess[] = [];

  beforeAll(async () => {
    ensureProjectorBuilt();
    ensureCliBuilt();
    h = await Harness.start({
      projector: false,
      partitions: 6,
      env: { CHANGE_FEED: 'true', TENANTS_JSON: JSON.stringify({ tencent: [{ ...TENCENT_APP, apiKey: KEY }], netease: [] }) },
    });
  });
  afterAll(async () => {
    for (const p of procs) await p.kill();
    await h.stop();
  });
  jest.setTimeout(180_000);

  async function summary(account: string): Promise<{ c2c: number; groups: number; channels: number }> {
    const res = await fetch(`${h.gateway!.url}/v1/apps/${APP}/accounts/${encodeURIComponent(account)}/unread`, { headers: { Authorization: `Bearer ${KEY}` } });
    const body = (await res.json()) as { c2c: { total: number }; groups: { total: number }; channels: { total: number } };
    if (res.status !== 200) throw new Error(`summary of ${account}: ${res.status} ${JSON.stringify(body)}`);
    return { c2c: body.c2c.total, groups: body.groups.total, channels: body.channels.total };
  }

  it('two projectors in one group, one SIGKILLed mid-stream: the last record per account equals the gateway and an independent model', () =>
    withSeed('change feed, one projector killed', async (_rnd, seed) => {
      const tag = uniq();
      const accounts = Array.from({ length: 16 }, (_, i) => `f${i}-${tag}`);
      const stream = c2cStream(seed, accounts, 3_000);
      const model = new CountModel().apply(stream);

      const a = await ProjectorProcess.start(h.config);
      const b = await ProjectorProcess.start(h.config);
      procs.push(a, b);
      await h.send(...accounts.map((account) => ({ type: 'account-registered', appId: APP, account })));
      // Both own partitions once both have applied something.
      let sent = 0;
      await waitFor(
        async () => {
          const next = stream.slice(sent, Math.min(sent + 10, stream.length / 2));
          sent += next.length;
          await h.send(...next);
          return [await a.metric('unread_feed_records_total'), await b.metric('unread_feed_records_total')];
        },
        ([x, y]) => x! > 0 && y! > 0,
        { timeoutMs: 60_000, intervalMs: 300, what: 'both projectors to write feed records' },
      );
      // SIGKILL one while the rest streams in.
      const rest = stream.slice(sent);
      const half = Math.floor(rest.length / 2);
      await h.send(...rest.slice(0, half));
      await a.kill();
      await h.send(...rest.slice(half));
      await drainedGroup(h.kafka, h.config, undefined, 90_000);

      const last = lastPerKey(await readFeed(h.kafka, h.topics.unreadChanged));
      const fromFeed: Record<string, unknown> = {};
      const expected: Record<string, unknown> = {};
      for (const account of accounts) {
        const r = last.get(`${APP}:${account}`)?.value;
        fromFeed[account] = r && { type: r.type, appId: r.appId, account: r.account, c2c: r.c2c, groups: r.groups, channels: r.channels, badge: r.badge };
        const s = await summary(account);
        expect(s.c2c).toBe(model.c2cTotal(APP, account));
        expect(s.groups + s.channels).toBe(0);
        expect(r?.version).toBeGreaterThan(0);
        expect(r?.time).toBeGreaterThan(0);
        expected[account] = { type: 'unread-changed', appId: APP, account, ...s, badge: s.c2c + s.groups + s.channels };
      }
      expect(fromFeed).toEqual(expected);
      expect(Object.values(expected).some((e) => (e as { c2c: number }).c2c > 0)).toBe(true);
    }));

  it('feed-version.lua: every bump grows the version, to at least the Redis clock in ms, also after lost increments', async () => {
    const redis = new Redis(h.redisServer.url);
    try {
      const prefix = `v${uniq()}`;
      const versions = new FeedVersions(redis, prefix);
      const a = [{ app: APP, account: 'va' }, { app: APP, account: 'vb' }];
      const before = Date.now();
      const [v1, w1] = await versions.bump(a);
      const [v2] = await versions.bump(a.slice(0, 1));
      expect(v1).toBeGreaterThanOrEqual(before - 1_000);
      expect(v2).toBeGreaterThan(v1!);
      expect(await versions.read([...a, { app: APP, account: 'never' }])).toEqual([v2, w1, 0]);
      // a promoted replica that lost the increments: the version held is far lower
      await redis.set(feedVersionKey(prefix, APP, 'va'), '5');
      const [v3] = await versions.bump(a.slice(0, 1));
      expect(v3).toBeGreaterThanOrEqual(before - 1_000);
      // a version ahead of the clock (more than one change per ms) still grows by one
      await redis.set(feedVersionKey(prefix, APP, 'va'), String(Date.now() + 60_000));
      const ahead = Number(await redis.get(feedVersionKey(prefix, APP, 'va')));
      expect(await versions.bump(a.slice(0, 1))).toEqual([ahead + 1]);
    } finally {
      redis.disconnect();
    }
  });

  it('`unread watch APP ACCOUNT` prints one line per record of the account, in topic order', async () => {
    // An account of its own, with two records: two messages, each applied (and so reported) in a batch of its own.
    const watched = `w-${uniq()}`;
    const projector = await startProjector(h.config, { logger: false });
    try {
      await h.send({ type: 'account-registered', appId: APP, account: watched });
      for (const i of [1, 2]) {
        await h.send({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: `w${i}-${watched}`, from: `peer-${watched}`, to: watched, time: Date.now() - 60_000 + i });
        await drainedGroup(h.kafka, h.config, undefined, 60_000);
      }
    } finally {
      await projector.close();
    }
    const feed = await readFeed(h.kafka, h.topics.unreadChanged);
    const mine = feed.filter((r) => r.key === `${APP}:${watched}`).sort((a, b) => a.offset - b.offset);
    expect(mine.length).toBeGreaterThan(1);
    const env = envOf(h.config) as Record<string, string>;
    const json = await runCli(['watch', APP, watched, '--from-beginning', '--json', '--count', String(mine.length)], env);
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 0, stderr: '' });
    expect(json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual(mine.map((r) => r.value));
    const plain = await runCli(['watch', APP, watched, '--from-beginning', '--count', '1'], env);
    const r = mine[0]!.value;
    expect(plain).toEqual({
      code: 0,
      stderr: '',
      stdout: `${new Date(r.time).toISOString()} ${APP}:${watched} c2c=${r.c2c} groups=${r.groups} channels=${r.channels} badge=${r.badge} version=${r.version}\n`,
    });
    expect(await runCli(['watch', APP, '--count', 'x'], env)).toMatchObject({ code: 2 });
  });

  it('the gateway serves the AsyncAPI document of its topics at /asyncapi.json', async () => {
    const res = await fetch(`${h.gateway!.adminUrl}/asyncapi.json`);
    expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({ status: 200, type: 'application/json; charset=utf-8' });
    const doc = (await res.json()) as { channels: Record<string, { address: string }> };
    expect(doc).toEqual(asyncApiDocument(h.config));
    expect(doc.channels.unreadChanged?.address).toBe(h.topics.unreadChanged);
  });
});

/** Only events about one account (no group messages, @all or role mentions, updates): the last record of each account is then determined. */
function aboutAccounts(events: readonly Ev[]): Ev[] {
  return events.filter((e) => {
    if (e.type === 'message-sent') return e.scope === 'c2c';
    if (e.type === 'channel-mention') return !e.mentionAll && (e.mentionRoleIds ?? []).length === 0 && (e.mentionAccids ?? []).length > 0;
    return e.type === 'read-ack' || e.type === 'group-unread-set';
  });
}

describe('change feed on a Redis Cluster', () => {
  let h: Harness;
  let rig: RedisClusterRig;
  const projectors: RunningProjector[] = [];

  beforeAll(async () => {
    h = await Harness.start({
      projector: false,
      partitions: 4,
      env: { CHANGE_FEED: 'true', TENANTS_JSON: JSON.stringify({ tencent: [{ ...TENCENT_APP, apiKey: KEY }], netease: [] }) },
    });
    rig = await RedisClusterRig.start({ masters: 3 });
  });
  afterAll(async () => {
    for (const p of projectors) await p.close().catch(() => undefined);
    await h.stop();
    await rig.stop();
  });
  jest.setTimeout(180_000);

  it('writes the same final record per account as on one Redis (and both equal the gateway)', async () => {
    const t = h.config.kafka.topics;
    const onCluster = testConfig(h.broker.brokers, '', {
      ...rig.env(),
      CHANGE_FEED: 'true',
      TOPIC_MESSAGE_SENT: t.messageSent,
      TOPIC_READ_ACK: t.readAck,
      TOPIC_MENTION: t.mention,
      TOPIC_DIRECTORY: t.directory,
      TOPIC_DEAD_LETTER: t.deadLetter,
      TOPIC_UNREAD_CHANGED: `${t.unreadChanged}-cluster`,
    });
    await h.broker.createTopics({ [onCluster.kafka.topics.unreadChanged]: 4 });
    projectors.push(await startProjector(h.config, { logger: false }), await startProjector(onCluster, { logger: false }));
    const drainedBoth = () => Promise.all([drainedGroup(h.kafka, h.config, undefined, 60_000), drainedGroup(h.kafka, onCluster, undefined, 60_000)]);

    // A fixed workload (its final counts are non-zero in every family); timing still varies run to run.
    const w = new Workload(11, 8);
    await h.send(...w.setup());
    await drainedBoth();
    await h.send(...w.traffic(300));
    await drainedBoth();
    // The last phase: events about one account each, ending with one about every account of both apps.
    const last = [
      ...aboutAccounts(w.traffic(600)),
      ...w.accounts.map((account) => ({ type: 'read-ack', scope: 'c2c', appId: w.tencentApp, account, peer: 'nobody', readTime: 0 })),
      ...w.accounts.map((account) => ({ type: 'read-ack', scope: 'channel', appId: w.neteaseApp, account, serverId: w.serverId, channelId: w.channels[0]!, ackTime: 0 })),
    ];
    await h.send(...last);
    await drainedBoth();

    const totals = (records: Map<string, { value: { c2c: number; groups: number; channels: number; badge: number } }>) =>
      Object.fromEntries([...records].map(([k, r]) => [k, { c2c: r.value.c2c, groups: r.value.groups, channels: r.value.channels, badge: r.value.badge }]));
    const single = totals(lastPerKey(await readFeed(h.kafka, t.unreadChanged)));
    const cluster = totals(lastPerKey(await readFeed(h.kafka, onCluster.kafka.topics.unreadChanged)));
    const keys = [...w.accounts.map((a) => `${w.tencentApp}:${a}`), ...w.accounts.map((a) => `${w.neteaseApp}:${a}`)].sort();
    expect(Object.keys(cluster).sort()).toEqual(keys);
    expect(cluster).toEqual(single);
    const summaries: Record<string, unknown> = {};
    for (const account of w.accounts) {
      const res = await fetch(`${h.gateway!.url}/v1/apps/${w.tencentApp}/accounts/${account}/unread`, { headers: { Authorization: `Bearer ${KEY}` } });
      const b = (await res.json()) as { c2c: { total: number }; groups: { total: number }; channels: { total: number } };
      summaries[`${w.tencentApp}:${account}`] = { c2c: b.c2c.total, groups: b.groups.total, channels: b.channels.total, badge: b.c2c.total + b.groups.total + b.channels.total };
    }
    expect(Object.fromEntries(Object.entries(single).filter(([k]) => k.startsWith(`${w.tencentApp}:`)))).toEqual(summaries);
    // something to compare: counts in every family
    const sum = (f: 'c2c' | 'groups' | 'channels') => Object.values(cluster).reduce((n, r) => n + r[f], 0);
    expect({ c2c: sum('c2c') > 0, groups: sum('groups') > 0, channels: sum('channels') > 0 }).toEqual({ c2c: true, groups: true, channels: true });
  });
});
