import type { UnreadEvent } from '@app/contracts';

export const SAMPLE = {
  sdkAppId: '1400000000',
  admin: 'administrator',
  appKey: 'local-demo-appkey',
  accounts: ['alice', 'bob', 'carol', 'dave'],
  groupId: '@TGS#2LOCALDEMO',
  /** A group alice muted (receive option Discard): counted by the vendor APIs, not in the badge. */
  mutedGroupId: '@TGS#2LOCALNEWS',
  serverId: '87834762',
  channelId: '25372323',
  roleId: '5001',
} as const;

/** alice's one-to-one unread total in the sample: 3 from bob, 2 from carol. */
export const SAMPLE_ALICE_UNREAD = 5;

/**
 * A small, realistic history: unread one-to-one messages (one recalled, one system notice
 * sent with noUnread), a group (one message recalled), a group alice muted, QChat mentions.
 */
export function sampleEvents(now: number): UnreadEvent[] {
  const app = SAMPLE.sdkAppId;
  const qapp = SAMPLE.appKey;
  const e = (x: Record<string, unknown>) => x as unknown as UnreadEvent;
  const events: UnreadEvent[] = [];
  for (const account of SAMPLE.accounts) {
    events.push(e({ type: 'account-registered', appId: app, account }));
    events.push(e({ type: 'account-registered', appId: qapp, account }));
  }
  // alice: 3 unread from bob, 2 from carol (one more from carol read already)
  events.push(e({ type: 'message-sent', scope: 'c2c', appId: app, msgId: 'c1', from: 'carol', to: 'alice', time: now - 60_000 }));
  events.push(e({ type: 'read-ack', scope: 'c2c', appId: app, account: 'alice', peer: 'carol', readTime: now - 50_000 }));
  for (let i = 0; i < 3; i++) {
    events.push(e({ type: 'message-sent', scope: 'c2c', appId: app, msgId: `b${i}`, from: 'bob', to: 'alice', time: now - 40_000 + i }));
  }
  for (let i = 0; i < 2; i++) {
    events.push(e({ type: 'message-sent', scope: 'c2c', appId: app, msgId: `c${i + 2}`, from: 'carol', to: 'alice', time: now - 30_000 + i }));
  }
  // bob's fourth message was recalled (it no longer counts); dave's notice counts for no one
  events.push(e({ type: 'message-sent', scope: 'c2c', appId: app, msgId: 'b3', from: 'bob', to: 'alice', time: now - 39_997 }));
  events.push(e({ type: 'message-recalled', scope: 'c2c', appId: app, msgId: 'b3', from: 'bob', to: 'alice', time: now - 39_997 }));
  events.push(e({ type: 'message-sent', scope: 'c2c', appId: app, msgId: 'notice-1', from: 'dave', to: 'alice', time: now - 35_000, noUnread: true }));
  // a work group with 4 messages, alice joined at seq 0 and has read up to 1
  events.push(e({ type: 'group-created', appId: app, groupId: SAMPLE.groupId, groupType: 'Work', name: 'Launch team' }));
  for (const account of SAMPLE.accounts) {
    events.push(e({ type: 'group-member-joined', appId: app, groupId: SAMPLE.groupId, account, seq: 0 }));
  }
  for (let seq = 1; seq <= 5; seq++) {
    events.push(e({ type: 'message-sent', scope: 'group', appId: app, msgId: `g${seq}`, groupId: SAMPLE.groupId, from: 'bob', seq, time: now - 20_000 + seq }));
  }
  events.push(e({ type: 'message-recalled', scope: 'group', appId: app, groupId: SAMPLE.groupId, seq: 5, msgId: 'g5' }));
  events.push(e({ type: 'read-ack', scope: 'group', appId: app, account: 'alice', groupId: SAMPLE.groupId, readSeq: 1 }));
  // a public group alice muted: 2 unread that the vendor APIs count and the badge leaves out
  events.push(e({ type: 'group-created', appId: app, groupId: SAMPLE.mutedGroupId, groupType: 'Public', name: 'Announcements' }));
  events.push(e({ type: 'group-member-joined', appId: app, groupId: SAMPLE.mutedGroupId, account: 'alice', seq: 0 }));
  for (let seq = 1; seq <= 2; seq++) {
    events.push(e({ type: 'message-sent', scope: 'group', appId: app, msgId: `n${seq}`, groupId: SAMPLE.mutedGroupId, from: 'dave', seq, time: now - 15_000 + seq }));
  }
  events.push(e({ type: 'receive-option-set', scope: 'group', appId: app, account: 'alice', groupId: SAMPLE.mutedGroupId, option: 'Discard', time: now - 5_000 }));
  // QChat: a server with a channel; alice holds a role; mentions of alice, of the role and @all
  events.push(e({ type: 'qchat-channel-created', appId: qapp, serverId: SAMPLE.serverId, channelId: SAMPLE.channelId }));
  for (const account of SAMPLE.accounts) {
    events.push(e({ type: 'qchat-server-member-joined', appId: qapp, serverId: SAMPLE.serverId, account }));
  }
  events.push(e({ type: 'qchat-role-member-added', appId: qapp, serverId: SAMPLE.serverId, roleId: SAMPLE.roleId, account: 'alice' }));
  const mention = (n: number, extra: Record<string, unknown>) =>
    e({
      type: 'channel-mention',
      appId: qapp,
      serverId: SAMPLE.serverId,
      channelId: SAMPLE.channelId,
      message: {
        msgIdServer: String(16846550 + n),
        msgIdClient: `local-${n}`,
        fromAccount: 'bob',
        fromNick: 'Bob',
        fromClientType: 'REST',
        time: now - 10_000 + n,
        updateTime: now - 10_000 + n,
        status: 0,
        type: 0,
        body: `mention ${n}`,
        ext: '',
        attach: '',
      },
      ...extra,
    });
  events.push(mention(1, { mentionAccids: ['alice'] }));
  events.push(mention(2, { mentionRoleIds: [SAMPLE.roleId] }));
  events.push(mention(3, { mentionAll: true }));
  events.push(mention(4, { mentionAccids: ['carol'] }));
  return events;
}
