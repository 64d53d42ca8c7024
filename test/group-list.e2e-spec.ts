import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { AppConfig } from '@app/config';
import { GROUP_TYPES, type GroupType, type UnreadEvent } from '@app/contracts';
import type { EventProducer } from '@app/kafka';
import { Keyspace, ProjectionStore, createRedisClient, type RedisClient } from '@app/store';
import { GroupService } from '../apps/gateway/src/tencent/group/group.service';
import type { TencentRequestContext } from '../apps/gateway/src/tencent/tencent-request';
import { RedisClusterRig } from './support/cluster-rig';
import { CountModel } from './support/count-model';
import { uniq } from './support/harness';
import { privateRedis } from './support/private-redis';
import { withSeed } from './support/random';

/**
 * get_joined_group_list pages on the account's group index before it reads (GroupStore.joinedPage):
 * its answers against an independent expectation (the events, through CountModel for the
 * unread, ordered as docs/api/tencent.md says), the Redis commands one call executes, the
 * entries of unknown type (a join applied before its group was created, old index entries),
 * and the same answers on a three-master Redis Cluster as on one Redis.
 */
const APP = 'go9dnk49bkd9jd9vmel1kglw0803mgq3';
const RETENTION = 7 * 24 * 3600 * 1000;
const LIMIT = 10;

/** docs/api/tencent.md's order: by type class (Private and Work, Public, ChatRoom and Meeting, Community, AVChatRoom), then by group id. */
const CLASS_OF: Record<GroupType, number> = { Private: 0, Work: 0, Public: 1, ChatRoom: 2, Meeting: 2, Community: 3, AVChatRoom: 4 };

/** The groups an account is in, as the test's events say: type and name per group, unread from the model. */
interface Expected {
  account: string;
  model: CountModel;
  groups: Map<string, { type: GroupType; name: string }>;
}

/** What get_joined_group_list must answer for `body`, from the expectation alone. */
function expectedAnswer(x: Expected, body: Record<string, unknown>): unknown {
  const type = body.GroupType as GroupType | undefined;
  const live = [...x.groups]
    .filter(([id]) => x.model.group(APP, id, x.account) !== null)
    .filter(([, g]) => (type === undefined ? g.type !== 'AVChatRoom' || body.WithHugeGroups === 1 : CLASS_OF[g.type] === CLASS_OF[type]))
    .sort(([a, ga], [b, gb]) => CLASS_OF[ga.type] - CLASS_OF[gb.type] || Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const offset = (body.Offset as number | undefined) ?? 0;
  const limit = (body.Limit as number | undefined) || undefined;
  const filter = (body.ResponseFilter ?? {}) as { GroupBaseInfoFilter?: string[]; SelfInfoFilter?: string[] };
  const base = new Set(filter.GroupBaseInfoFilter ?? []);
  const self = new Set(filter.SelfInfoFilter ?? []);
  return {
    ActionStatus: 'OK',
    ErrorCode: 0,
    ErrorInfo: '',
    TotalCount: live.length,
    GroupIdList: live.slice(offset, limit === undefined ? undefined : offset + limit).map(([id, g]) => {
      const info: Record<string, unknown> = { GroupId: id };
      if (base.has('Type')) info.Type = g.type;
      if (base.has('Name')) info.Name = g.name;
      const selfInfo: Record<string, unknown> = {};
      if (self.has('MsgFlag')) selfInfo.MsgFlag = x.model.option(APP, x.account, 'g', id);
      if (self.has('UnreadMsgNum')) selfInfo.UnreadMsgNum = x.model.group(APP, id, x.account);
      if (Object.keys(selfInfo).length > 0) info.SelfInfo = selfInfo;
      return info;
    }),
  };
}

/** The route's handler on `redis` (joinedGroups uses neither the producer nor the config). */
function service(redis: RedisClient, prefix: string): (body: Record<string, unknown>) => Promise<unknown> {
  const store = new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: RETENTION });
  const groups = new GroupService(store, undefined as unknown as EventProducer, undefined as unknown as AppConfig);
  const ctx = { app: { sdkAppId: APP }, identifier: 'administrator', api: '/v4/group_open_http_svc/get_joined_group_list' } as unknown as TencentRequestContext;
  return (body) => groups.joinedGroups(ctx, body);
}

/** The projector's path: batches through applyBatch (joins and leaves in their two steps). */
async function project(redis: RedisClient, prefix: string, batches: readonly (readonly UnreadEvent[])[]): Promise<void> {
  const store = new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: RETENTION });
  for (const batch of batches) for (let i = 0; i < batch.length; i += 400) await store.applyBatch(batch.slice(i, i + 400));
}

/** Redis's commands over `run` (INFO commandstats after CONFIG RESETSTAT; Lua-internal ones included). */
async function redisCommands(redis: Redis, run: () => Promise<unknown>): Promise<{ commands: number; byCommand: Record<string, number> }> {
  await redis.config('RESETSTAT');
  await run();
  const stats = await redis.info('commandstats');
  const byCommand: Record<string, number> = {};
  let commands = 0;
  for (const m of stats.matchAll(/cmdstat_([a-z|_]+):calls=(\d+)/g)) {
    if (m[1] === 'info' || m[1] === 'config|resetstat') continue;
    byCommand[m[1]!] = Number(m[2]);
    commands += Number(m[2]);
  }
  return { commands, byCommand };
}

/**
 * An account in 500 groups of every type: 200 it is still in (messages, recalls, noUnread,
 * its read acks, a receive option here and there), 150 it left, 150 dismissed.
 */
function manyGroups(rnd: () => number, p: string): { batches: UnreadEvent[][]; expected: Expected } {
  const ann = `ann-${p}`;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const groups = new Map<string, { type: GroupType; name: string }>();
  const directory: UnreadEvent[] = [{ type: 'account-registered', appId: APP, account: ann }];
  const traffic: UnreadEvent[] = [];
  const ends: UnreadEvent[] = [];
  const fates = [...Array<string>(200).fill('live'), ...Array<string>(150).fill('left'), ...Array<string>(150).fill('dismissed')];
  fates.forEach((fate, i) => {
    const id = `${p}-${Math.floor(rnd() * 1e6)}-${i}`;
    const type = pick(GROUP_TYPES);
    const name = `n${i}`;
    groups.set(id, { type, name });
    directory.push({ type: 'group-created', appId: APP, groupId: id, groupType: type, name }, { type: 'group-member-joined', appId: APP, groupId: id, account: ann, seq: 0 });
    const n = Math.floor(rnd() * 6);
    for (let seq = 1; seq <= n; seq++) {
      traffic.push({ type: 'message-sent', scope: 'group', appId: APP, msgId: `${id}-${seq}`, groupId: id, from: 'bob', seq, time: 1_000 + seq, ...(rnd() < 0.2 ? { noUnread: true } : {}) });
      if (rnd() < 0.2) traffic.push({ type: 'message-recalled', scope: 'group', appId: APP, groupId: id, seq, msgId: `${id}-${seq}` });
    }
    if (n > 0 && rnd() < 0.3) traffic.push({ type: 'read-ack', scope: 'group', appId: APP, account: ann, groupId: id, readSeq: Math.floor(rnd() * n) });
    if (rnd() < 0.1) traffic.push({ type: 'receive-option-set', scope: 'group', appId: APP, account: ann, groupId: id, option: 'Discard', time: 5_000 } as unknown as UnreadEvent);
    if (fate === 'left') ends.push({ type: 'group-member-left', appId: APP, groupId: id, account: ann });
    if (fate === 'dismissed') ends.push({ type: 'group-dismissed', appId: APP, groupId: id });
  });
  const events = [...directory, ...traffic, ...ends];
  return { batches: [directory, traffic, ends], expected: { account: ann, model: new CountModel({ mentionRetentionMs: RETENTION }).apply(events), groups } };
}

/** The requests of a many-groups check: pages of LIMIT, with and without filters. */
function manyRequests(account: string): Record<string, unknown>[] {
  const all = { GroupBaseInfoFilter: ['Type', 'Name'], SelfInfoFilter: ['UnreadMsgNum', 'MsgFlag'] };
  return [
    { Member_Account: account, Limit: LIMIT },
    { Member_Account: account, Limit: LIMIT, Offset: 10 },
    { Member_Account: account, Limit: LIMIT, Offset: 95, ResponseFilter: all },
    { Member_Account: account, Limit: LIMIT, Offset: 0, ResponseFilter: all },
    { Member_Account: account, Limit: LIMIT, Offset: 150, WithHugeGroups: 1, ResponseFilter: all },
    { Member_Account: account, Limit: LIMIT, Offset: 195, WithHugeGroups: 1, ResponseFilter: { SelfInfoFilter: ['UnreadMsgNum'] } },
    { Member_Account: account, Limit: LIMIT, GroupType: 'Private', ResponseFilter: all },
    { Member_Account: account, Limit: LIMIT, Offset: 5, GroupType: 'Meeting', ResponseFilter: { GroupBaseInfoFilter: ['Type'] } },
    { Member_Account: account, Limit: LIMIT, GroupType: 'AVChatRoom', ResponseFilter: all },
    { Member_Account: account, Limit: LIMIT, Offset: 400 },
  ];
}

/**
 * Entries of unknown type: joins applied before their group was created (one stays never
 * created, one is left), a join into a dismissed group that is created again with another
 * type, and old index entries at score 1 (written before entries carried the type).
 */
function unknownTypes(p: string): { batches: UnreadEvent[][]; old: string[]; expected: Expected } {
  const ann = `ann-${p}`;
  const g = (s: string) => `${p}-${s}`;
  const groups = new Map<string, { type: GroupType; name: string }>([
    [g('early-public'), { type: 'Public', name: 'EP' }],
    [g('never'), { type: 'Public', name: '' }],
    [g('early-left'), { type: 'Work', name: 'EL' }],
    [g('early-room'), { type: 'ChatRoom', name: 'ER' }],
    [g('again'), { type: 'Community', name: 'AG' }],
    [g('old-live'), { type: 'AVChatRoom', name: 'OL' }],
    [g('old-private'), { type: 'Private', name: 'OP' }],
    [g('known-work'), { type: 'Work', name: 'KW' }],
    [g('known-public'), { type: 'Public', name: 'KP' }],
    [g('known-meeting'), { type: 'Meeting', name: 'KM' }],
  ]);
  const join = (id: string): UnreadEvent => ({ type: 'group-member-joined', appId: APP, groupId: g(id), account: ann, seq: 0 });
  const create = (id: string): UnreadEvent => ({ type: 'group-created', appId: APP, groupId: g(id), groupType: groups.get(g(id))!.type, name: groups.get(g(id))!.name });
  const msg = (id: string, seq: number): UnreadEvent => ({ type: 'message-sent', scope: 'group', appId: APP, msgId: `${id}-${seq}`, groupId: g(id), from: 'bob', seq, time: 1_000 + seq });
  const batches: UnreadEvent[][] = [
    [{ type: 'account-registered', appId: APP, account: ann }, join('early-public'), join('never'), join('early-left'), join('early-room')],
    [create('early-public'), create('early-left'), create('early-room'), { type: 'group-member-left', appId: APP, groupId: g('early-left'), account: ann }],
    [{ type: 'group-created', appId: APP, groupId: g('again'), groupType: 'Public', name: 'before' }, { type: 'group-dismissed', appId: APP, groupId: g('again') }, join('again')],
    [create('again'), create('old-live'), join('old-live'), create('old-private'), join('old-private')],
    [create('known-work'), join('known-work'), create('known-public'), join('known-public'), create('known-meeting'), join('known-meeting')],
    [msg('early-public', 1), msg('early-public', 2), msg('again', 1), msg('old-private', 1), msg('known-work', 1), msg('known-work', 2), msg('known-work', 3)],
  ];
  return { batches, old: [g('old-live'), g('old-private')], expected: { account: ann, model: new CountModel({ mentionRetentionMs: RETENTION }).apply(batches.flat()), groups } };
}

/** Every request shape of the unknown-type check: each type filter, offsets past the end, limits 0/1/2/10, with and without the fields read. */
function unknownRequests(account: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const type of [undefined, 'Private', 'Work', 'Public', 'ChatRoom', 'Community', 'AVChatRoom']) {
    for (const huge of [0, 1]) {
      for (let offset = 0; offset <= 8; offset++) {
        for (const limit of [0, 1, 2, 10]) {
          const body: Record<string, unknown> = { Member_Account: account, Offset: offset, Limit: limit, WithHugeGroups: huge };
          if (type !== undefined) body.GroupType = type;
          if ((offset + limit) % 2 === 0) body.ResponseFilter = { GroupBaseInfoFilter: ['Type', 'Name'], SelfInfoFilter: ['UnreadMsgNum'] };
          out.push(body);
        }
      }
    }
  }
  return out;
}

/** Writes the old index entries: score 1 for groups `ann` is in, as an index written before entries carried the type. */
async function oldEntries(redis: RedisClient, prefix: string, account: string, ids: readonly string[]): Promise<void> {
  const key = new Keyspace(prefix).member(APP, account).groups;
  for (const id of ids) await redis.zadd(key, 1, id);
}

describe('get_joined_group_list on one Redis', () => {
  const fixture = privateRedis();

  it(`an account in 500 groups (200 live, 300 left or dismissed): exact answers, at most 2 × Limit + 5 Redis commands per call`, async () => {
    await withSeed('many groups', async (rnd) => {
      const redis = fixture.redis;
      const prefix = `m${uniq()}`;
      const { batches, expected } = manyGroups(rnd, uniq());
      await project(redis, prefix, batches);
      const list = service(redis, prefix);
      for (const body of manyRequests(expected.account)) {
        let answer: unknown;
        const work = await redisCommands(redis, async () => (answer = await list(body)));
        expect({ body, answer }).toEqual({ body, answer: expectedAnswer(expected, body) });
        expect({ body, commands: work.commands, within: work.commands <= 2 * LIMIT + 5 }).toEqual({ body, commands: work.commands, within: true });
        // no full read of the index, no hash read without a field that needs one
        expect(work.byCommand.hgetall ?? 0).toBeLessThanOrEqual(1);
        if (body.ResponseFilter === undefined) expect({ body, hmget: work.byCommand.hmget ?? 0 }).toEqual({ body, hmget: 0 });
        if (body.Offset === 0 && body.ResponseFilter !== undefined) process.stderr.write(`get_joined_group_list, 500 groups, Limit ${LIMIT}: ${JSON.stringify(work)}\n`);
      }
      // the page is of the index, not of what was read: 200 live groups in all, of every class
      const total = (await list({ Member_Account: expected.account, WithHugeGroups: 1 })) as { TotalCount: number };
      expect(total.TotalCount).toBe(200);
    });
  });

  it('entries of unknown type (joined before created, old index entries) answer as if they carried their type', async () => {
    const redis = fixture.redis;
    const prefix = `u${uniq()}`;
    const { batches, old, expected } = unknownTypes(uniq());
    await project(redis, prefix, batches);
    await oldEntries(redis, prefix, expected.account, old);
    const list = service(redis, prefix);
    const scores = await redis.zrange(new Keyspace(prefix).member(APP, expected.account).groups, 0, -1, 'WITHSCORES');
    // the early joins, the join into the dismissed group and the old entries are of unknown type (1)
    expect(scores.filter((_, i) => i % 2 === 1 && scores[i] === '1').length).toBe(6);
    for (const body of unknownRequests(expected.account)) expect({ body, answer: await list(body) }).toEqual({ body, answer: expectedAnswer(expected, body) });
    // the class order: Private and Work (old-private, known-work), Public, ChatRoom and Meeting, Community, AVChatRoom
    expect(((await list({ Member_Account: expected.account, WithHugeGroups: 1 })) as { GroupIdList: { GroupId: string }[] }).GroupIdList.map((x) => x.GroupId.replace(/^.*?-(?=[a-z])/, ''))).toEqual([
      'known-work',
      'old-private',
      'early-public',
      'known-public',
      'early-room',
      'known-meeting',
      'again',
      'old-live',
    ]);
  });
});

describe('get_joined_group_list on a Redis Cluster (three masters): the answers of one Redis', () => {
  const fixture = privateRedis();
  let rig: RedisClusterRig;
  let cluster: Cluster;

  beforeAll(async () => {
    rig = await RedisClusterRig.start({ masters: 3 });
    cluster = createRedisClient({ clusterNodes: rig.seeds, keyPrefix: 'u' }, { offlineQueue: true, connectionName: 'group-list-test' }) as Cluster;
  });
  afterAll(async () => {
    cluster?.disconnect();
    await rig?.stop();
  });

  it('many groups and unknown types, the same answers on both', async () => {
    await withSeed('many groups on a cluster', async (rnd) => {
      const many = manyGroups(rnd, uniq());
      const unknown = unknownTypes(uniq());
      const prefix = `c${uniq()}`;
      for (const redis of [fixture.redis, cluster] as RedisClient[]) {
        await project(redis, prefix, many.batches);
        await project(redis, prefix, unknown.batches);
        await oldEntries(redis, prefix, unknown.expected.account, unknown.old);
      }
      const single = service(fixture.redis, prefix);
      const onCluster = service(cluster, prefix);
      const requests = [...manyRequests(many.expected.account), ...unknownRequests(unknown.expected.account).filter((_, i) => i % 7 === 0)];
      for (const body of requests) {
        const answer = await onCluster(body);
        expect({ body, answer }).toEqual({ body, answer: await single(body) });
        const x = body.Member_Account === many.expected.account ? many.expected : unknown.expected;
        expect({ body, answer }).toEqual({ body, answer: expectedAnswer(x, body) });
      }
    });
  });
});
