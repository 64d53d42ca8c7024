import Redis from 'ioredis';
import { startProjector } from '../apps/projector/src/projector';
import { RedisClusterRig } from './support/cluster-rig';
import { Harness, uniq } from './support/harness';
import { drained } from './support/drain';
import { qchatHeaders, qchatPost } from './support/qchat-client';
import { tencentPost } from './support/tencent';
import { waitFor } from './support/wait';
import { CountModel } from './support/count-model';
import { newSeed, prng, withSeed } from './support/random';
import { Workload, type Ev } from './support/workload';
import { metricSamples } from './support/monitor';

const C2C = 'openim/get_c2c_unread_msg_num';
const LIST = 'group_open_http_svc/get_joined_group_list';
const MENTIONS = 'queryChannelUnReadMentionedMsgPage.action';

/**
 * Redis refusing writes for reasons of its own state: the projector must wait at
 * the offset and retry (never dead-letter a valid event), the vendor read endpoints must
 * answer normally throughout, and afterwards every total must equal an independent model.
 *
 * The oracle is CountModel over every event sent: after the setup, one-to-one messages only
 * (no read-acks), each msgId sent once or twice (a producer retry).
 */
class Messages {
  private n = 0;
  private readonly tag = uniq();
  readonly model = new CountModel();
  constructor(
    private readonly app: string,
    readonly accounts: string[],
    private readonly rnd: () => number,
  ) {}
  /** `count` messages between random accounts, some twice; the model applies them. */
  next(count: number): Ev[] {
    const out: Ev[] = [];
    for (let i = 0; i < count; i++) {
      const from = this.accounts[Math.floor(this.rnd() * this.accounts.length)]!;
      const others = this.accounts.filter((a) => a !== from);
      const to = others[Math.floor(this.rnd() * others.length)]!;
      const e = { type: 'message-sent', scope: 'c2c', appId: this.app, msgId: `r${++this.n}-${this.tag}`, from, to, time: Date.now() - 60_000 + this.n } as Ev;
      out.push(e);
      if (this.rnd() < 0.1) out.push(e);
    }
    return this.sent(out);
  }
  /** Events sent besides the messages (the setup), for the model. */
  sent(events: object[]): Ev[] {
    const evs = events as Ev[];
    this.model.apply(evs);
    return evs;
  }
}


interface Refusal {
  cls: 'oom' | 'noreplicas';
  /** Starts refusing writes (called while the stream flows). */
  refuse(redis: Redis): Promise<void>;
  accept(redis: Redis): Promise<void>;
}

const REFUSALS: Refusal[] = [
  {
    cls: 'oom',
    refuse: async (redis) => {
      await redis.config('SET', 'maxmemory-policy', 'noeviction');
      const info = await redis.info('memory');
      const used = Number(/used_memory:(\d+)/.exec(info)![1]);
      // Just under what it uses: the next write that may grow memory is refused (noeviction).
      await redis.config('SET', 'maxmemory', String(used - 256 * 1024));
    },
    accept: async (redis) => void (await redis.config('SET', 'maxmemory', '0')),
  },
  {
    cls: 'noreplicas',
    refuse: async (redis) => void (await redis.config('SET', 'min-replicas-to-write', '1')),
    accept: async (redis) => void (await redis.config('SET', 'min-replicas-to-write', '0')),
  },
];

/** Where the refusal happens: the single Redis, or one master of a Redis Cluster. */
interface Target {
  name: string;
  start(): Promise<{ h: Harness; refusing: Redis; stop(): Promise<void> }>;
}

const SINGLE: Target = {
  name: 'one Redis',
  start: async () => {
    const h = await Harness.start({ partitions: 4, projector: false });
    return { h, refusing: h.redis, stop: () => Promise.resolve() };
  },
};

const CLUSTER_MASTER: Target = {
  name: 'one master of a Redis Cluster',
  start: async () => {
    const rig = await RedisClusterRig.start({ masters: 3 });
    const h = await Harness.start({ partitions: 4, projector: false, env: rig.env() });
    const [shard] = await rig.shards();
    const refusing = new Redis(shard!.master.port, '127.0.0.1');
    return {
      h,
      refusing,
      stop: async () => {
        refusing.disconnect();
        await rig.stop();
      },
    };
  },
};

const CASES: [Refusal, Target][] = [
  [REFUSALS[0]!, SINGLE],
  [REFUSALS[1]!, SINGLE],
  [REFUSALS[0]!, CLUSTER_MASTER],
];

describe.each(CASES)('reliability: Redis refuses writes (%#)', (refusal, target) => {
  let h: Harness;
  let refusing: Redis;
  let stopTarget: () => Promise<void>;
  const seed = newSeed();
  const w = new Workload(seed, 20);
  const messages = new Messages(w.tencentApp, w.accounts, prng(seed));

  beforeAll(async () => {
    ({ h, refusing, stop: stopTarget } = await target.start());
    h.projector = await startProjector(h.config, { logger: process.env.DEBUG_PROJECTOR ? undefined : false, metricsPort: 0 });
    const qchatAccounts = w.accounts.map((account) => ({ type: 'account-registered', appId: w.neteaseApp, account }));
    const t = Date.now() - 120_000;
    const mention = {
      type: 'channel-mention',
      appId: w.neteaseApp,
      serverId: w.serverId,
      channelId: w.channels[0],
      message: { msgIdServer: '90000001', msgIdClient: `c-${w.tag}`, fromAccount: w.accounts[0], fromNick: 'n', fromClientType: 'REST', time: t, updateTime: t, status: 0, type: 0, body: 'hi', attach: '', ext: '' },
      mentionAll: false,
      mentionAccids: [w.accounts[1]],
      mentionRoleIds: [],
    } as Ev;
    await h.send(...messages.sent([...qchatAccounts, ...w.setup()]));
    await drained(h);
    await h.send(...messages.sent([mention]));
    await h.send(...messages.next(400));
    await drained(h);
  });
  afterAll(async () => {
    await refusal.accept(refusing).catch(() => undefined);
    await h.stop();
    await stopTarget();
  });

  const metrics = async () => metricSamples(await (await fetch(`http://127.0.0.1:${h.projector!.metricsPort}/metrics`)).text());
  const ready = async () => {
    const res = await fetch(`http://127.0.0.1:${h.projector!.metricsPort}/ready`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const reads = async () => {
    const [total, peers, list, mentions] = await Promise.all([
      tencentPost(h.gateway!.url, C2C, { To_Account: w.accounts[0] }),
      tencentPost(h.gateway!.url, C2C, { To_Account: w.accounts[0], Peer_Account: w.accounts.slice(1, 4) }),
      tencentPost(h.gateway!.url, LIST, { Member_Account: w.accounts[1], WithNoUnread: 1 }),
      qchatPost(h.gateway!.url, MENTIONS, { accid: w.accounts[1]!, serverId: w.serverId, channelId: w.channels[0]! }),
    ]);
    return { total, peers, list, mentions };
  };

  it(`${target.name}: waits at the offset while Redis refuses (${refusal.cls}), answers every vendor read normally, dead-letters nothing, and is exact afterwards`, () =>
    withSeed(`refusals, ${target.name}, ${refusal.cls}`, async () => {
      const before = await reads();
      for (const r of [before.total, before.peers, before.list]) expect(r.body).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });
      expect(before.mentions.body).toMatchObject({ code: 200, data: { msgList: [expect.objectContaining({ msgIdServer: 90000001 })] } });

      const first = messages.next(200);
      await h.send(...first.slice(0, 100));
      await refusal.refuse(refusing);
      await h.send(...first.slice(100), ...messages.next(1_500));

      // The projector waits on Redis: the metric by class, then /ready false after its bound.
      await waitFor(metrics, (m) => (m.get(`unread_projector_redis_waits_total{class="${refusal.cls}"}`) ?? 0) > 0, {
        what: `${refusal.cls} waits counted`,
        timeoutMs: 30_000,
      });
      const waiting = await metrics();
      expect(waiting.get(`unread_projector_partitions_waiting{class="${refusal.cls}"}`)).toBeGreaterThan(0);
      const notReady = await waitFor(ready, (r) => r.status === 503, { what: '/ready false after the bound', timeoutMs: 20_000 });
      expect(notReady.body).toMatchObject({ ready: false, consumer: 'joined', redis: 'reachable' });
      expect(notReady.body.partitions).toEqual(
        expect.arrayContaining([expect.objectContaining({ topic: h.topics.messageSent, state: `waiting: ${refusal.cls}` })]),
      );

      // Reads answer normally while Redis refuses writes (rate-limit leases and the QChat Nonce fall back to the replica).
      const during = await reads();
      expect(during.total).toEqual({ status: 200, body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AllC2CUnreadMsgNum: expect.any(Number) as number } });
      expect(during.peers.body).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });
      expect(during.list).toEqual(before.list);
      expect(during.mentions).toEqual(before.mentions);
      // A replayed Nonce is still refused by the replica that saw it.
      const headers = qchatHeaders();
      const form = { accid: w.accounts[1]!, serverId: w.serverId, channelId: w.channels[0]! };
      expect((await qchatPost(h.gateway!.url, MENTIONS, form, headers)).body).toMatchObject({ code: 200 });
      expect(await qchatPost(h.gateway!.url, MENTIONS, form, headers)).toEqual({ status: 200, body: { code: 431, desc: 'repeated request: Nonce already used' } });

      await refusal.accept(refusing);
      await drained(h, 90_000);
      expect(await waitFor(ready, (r) => r.status === 200, { what: 'ready again' })).toEqual({
        status: 200,
        body: { ready: true, consumer: 'joined', redis: 'reachable' },
      });

      const admin = h.kafka.admin();
      await admin.connect();
      const dl = await admin.fetchTopicOffsets(h.topics.deadLetter);
      await admin.disconnect();
      expect(dl.map((p) => p.high)).toEqual(['0']);
      const totals = await Promise.all(
        w.accounts.map(async (a) => ((await tencentPost(h.gateway!.url, C2C, { To_Account: a })).body.AllC2CUnreadMsgNum as number)),
      );
      expect(totals).toEqual(w.accounts.map((a) => messages.model.c2cTotal(w.tencentApp, a)));
    }, seed));
});
