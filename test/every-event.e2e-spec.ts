import { randomInt } from 'node:crypto';
import type { UnreadEvent } from '@app/contracts';
import { Keyspace, ProjectionStore } from '@app/store';
import { drained } from './support/drain';
import { Harness, uniq } from './support/harness';

/**
 * Every event type of contracts v1 goes through the broker and the projector, and each is
 * seen applied in Redis through the store's read side (the foundation's end-to-end check;
 * each family's own tests cover the rules in depth).
 */
describe('every event type, produced to the broker, is applied', () => {
  let h: Harness;
  let store: ProjectionStore;
  const T = '1400000001';
  const Q = 'qchat-app';
  const t0 = Date.now() - 60_000;
  const ev = (e: Record<string, unknown>) => e as unknown as UnreadEvent;

  beforeAll(async () => {
    h = await Harness.start({ gateway: false });
    store = new ProjectionStore(h.redis, new Keyspace(h.config.redis.keyPrefix), { mentionRetentionMs: h.config.mentionRetentionMs });
  });
  afterAll(async () => {
    await h.stop();
  });

  /** Sends the events, waits until the projector committed everything, then reads. */
  async function apply(...events: Record<string, unknown>[]): Promise<void> {
    await h.send(...events.map(ev));
    await drained(h);
  }

  it('account-registered, message-sent (c2c), read-ack (c2c), account-deleted', async () => {
    const [alice, bob, gone] = [`a-${uniq()}`, `b-${uniq()}`, `x-${uniq()}`];
    await apply(
      { type: 'account-registered', appId: T, account: alice },
      { type: 'account-registered', appId: T, account: bob },
      { type: 'account-registered', appId: T, account: gone },
      { type: 'message-sent', scope: 'c2c', appId: T, msgId: 'm1', from: bob, to: alice, time: t0 + 1 },
      { type: 'message-sent', scope: 'c2c', appId: T, msgId: 'm2', from: bob, to: alice, time: t0 + 2 },
      { type: 'message-sent', scope: 'c2c', appId: T, msgId: 'm3', from: gone, to: alice, time: t0 + 3 },
    );
    expect(await store.directory.existMany(T, [alice, bob, gone])).toEqual([true, true, true]);
    expect(await store.c2c.total(T, alice)).toEqual({ registered: true, total: 3 });
    await apply(
      { type: 'read-ack', scope: 'c2c', appId: T, account: alice, peer: bob, readTime: t0 + 1 },
      { type: 'account-deleted', appId: T, account: gone },
    );
    expect(await store.c2c.perPeer(T, alice, [bob, gone])).toEqual({ registered: true, counts: [1, 1] });
    expect(await store.directory.exists(T, gone)).toBe(false);
  });

  it('group-created, group-member-joined, message-sent (group), read-ack (group), group-unread-set, group-member-left, group-dismissed', async () => {
    const [g, ann, bob] = [`g-${uniq()}`, `ann-${uniq()}`, `bob-${uniq()}`];
    await apply(
      { type: 'group-created', appId: T, groupId: g, groupType: 'Public', name: 'G' },
      { type: 'group-member-joined', appId: T, groupId: g, account: ann, seq: 0 },
      { type: 'group-member-joined', appId: T, groupId: g, account: bob, seq: 0 },
      ...[1, 2, 3, 4].map((seq) => ({ type: 'message-sent', scope: 'group', appId: T, msgId: `${g}-${seq}`, groupId: g, from: 'z', seq, time: t0 + seq })),
      { type: 'read-ack', scope: 'group', appId: T, account: ann, groupId: g, readSeq: 3 },
      { type: 'group-unread-set', appId: T, groupId: g, account: bob, readSeq: 2, maxSeq: 4 },
    );
    expect(await store.group.memberView(T, g, ann)).toMatchObject({ exists: true, member: true, maxSeq: 4, unread: 1 });
    expect(await store.group.memberView(T, g, bob)).toMatchObject({ exists: true, member: true, unread: 2 });
    await apply({ type: 'group-member-left', appId: T, groupId: g, account: bob });
    expect(await store.group.memberView(T, g, bob)).toMatchObject({ member: false });
    await apply({ type: 'group-dismissed', appId: T, groupId: g });
    expect(await store.group.memberView(T, g, ann)).toMatchObject({ exists: false });
  });

  it('qchat-channel-created, qchat-server-member-joined, qchat-role-member-added, channel-mention, channel-message-updated, read-ack and message-sent (channel), qchat-role-member-removed, qchat-server-member-left, qchat-channel-deleted', async () => {
    const [srv, chn, role] = ['9001', String(randomInt(1e9)), '77'];
    const [ann, bob] = [`ann-${uniq()}`, `bob-${uniq()}`];
    const mention = (id: number, extra: Record<string, unknown>) => ({
      type: 'channel-mention',
      appId: Q,
      serverId: srv,
      channelId: chn,
      message: { msgIdServer: String(id), fromAccount: bob, time: t0 + id, body: `m${id}` },
      ...extra,
    });
    const page = async () => {
      const access = await store.channel.access(Q, srv, chn, ann);
      const p = await store.channel.unreadMentions({ app: Q, serverId: srv, channelId: chn, account: ann, roles: access.roles, position: { time: Date.now(), skip: 0 }, limit: 200 });
      return { access, bodies: p.messages.map((m) => (JSON.parse(m) as { body: string }).body) };
    };
    await apply(
      { type: 'qchat-channel-created', appId: Q, serverId: srv, channelId: chn },
      { type: 'qchat-server-member-joined', appId: Q, serverId: srv, account: ann },
      { type: 'qchat-role-member-added', appId: Q, serverId: srv, roleId: role, account: ann },
      mention(1, { mentionAccids: [ann] }),
      mention(2, { mentionRoleIds: [role] }),
      mention(3, { mentionAll: true }),
      mention(4, { mentionAll: true }),
    );
    expect(await page()).toEqual({
      access: { serverKnown: true, channelKnown: true, member: true, roles: [role], registered: false },
      bodies: ['m4', 'm3', 'm2', 'm1'],
    });
    await apply(
      { type: 'channel-message-updated', appId: Q, serverId: srv, channelId: chn, msgIdServer: '4', status: 1, updateTime: t0 + 100 },
      { type: 'channel-message-updated', appId: Q, serverId: srv, channelId: chn, msgIdServer: '3', status: 0, updateTime: t0 + 100, body: 'edited' },
      { type: 'read-ack', scope: 'channel', appId: Q, account: ann, serverId: srv, channelId: chn, ackTime: t0 + 1 },
      { type: 'qchat-role-member-removed', appId: Q, serverId: srv, roleId: role, account: ann },
    );
    expect((await page()).bodies).toEqual(['edited']);
    await apply({ type: 'message-sent', scope: 'channel', appId: Q, msgIdServer: '5', serverId: srv, channelId: chn, from: ann, time: t0 + 50 });
    expect((await page()).bodies).toEqual([]);
    await apply(
      { type: 'qchat-server-member-left', appId: Q, serverId: srv, account: ann },
      { type: 'qchat-channel-deleted', appId: Q, serverId: srv, channelId: chn },
    );
    expect((await page()).access).toMatchObject({ channelKnown: false, member: false });
  });
});
