import type { ConsumedTopicRole } from './topics';

/**
 * One example of every event type and scope (docs/events.md shows the same ones).
 * Producers can use them as fixtures; the contract tests check each one parses.
 */
export const EXAMPLES: { topic: ConsumedTopicRole; event: { type: string } & Record<string, unknown> }[] = [
  { topic: 'messageSent', event: { type: 'message-sent', scope: 'c2c', appId: '1400000000', eventId: 'e-1', msgId: '144115233406616973-1700000000-42', from: 'bob', to: 'alice', time: 1700000000123 } },
  { topic: 'messageSent', event: { type: 'message-sent', scope: 'group', appId: '1400000000', msgId: 'g-1', groupId: '@TGS#2CLUZEAEJ', from: 'bob', seq: 57, time: 1700000000456 } },
  { topic: 'messageSent', event: { type: 'message-sent', scope: 'channel', appId: 'go9dnk49bkd9jd9vmel1kglw0803mgq3', msgIdServer: '16846554', serverId: '87834762', channelId: '25372323', from: 'bob', time: 1700000000789 } },
  { topic: 'readAck', event: { type: 'read-ack', scope: 'c2c', appId: '1400000000', account: 'alice', peer: 'bob', readTime: 1700000000999 } },
  { topic: 'readAck', event: { type: 'read-ack', scope: 'group', appId: '1400000000', account: 'alice', groupId: '@TGS#2CLUZEAEJ', readSeq: 50 } },
  { topic: 'readAck', event: { type: 'read-ack', scope: 'channel', appId: 'go9dnk49bkd9jd9vmel1kglw0803mgq3', account: 'alice', serverId: '87834762', channelId: '25372323', ackTime: 1700000000789 } },
  { topic: 'readAck', event: { type: 'group-unread-set', appId: '1400000000', groupId: '@TGS#2CLUZEAEJ', account: 'alice', readSeq: 52, maxSeq: 57 } },
  {
    topic: 'mention',
    event: {
      type: 'channel-mention',
      appId: 'go9dnk49bkd9jd9vmel1kglw0803mgq3',
      serverId: '87834762',
      channelId: '25372323',
      message: {
        msgIdServer: '16846554',
        msgIdClient: '100ada1c7bc04b6e9d59051d402203bf',
        fromAccount: 'bob',
        fromNick: 'Bob',
        fromClientType: 'REST',
        time: 1700000000789,
        updateTime: 1700000000789,
        status: 0,
        type: 0,
        body: 'release at 5, @alice @ops',
        attach: '',
        ext: '{"k":"v"}',
      },
      mentionAll: false,
      mentionAccids: ['alice'],
      mentionRoleIds: ['5001'],
    },
  },
  { topic: 'mention', event: { type: 'channel-message-updated', appId: 'go9dnk49bkd9jd9vmel1kglw0803mgq3', serverId: '87834762', channelId: '25372323', msgIdServer: '16846554', status: 1, updateTime: 1700000060000 } },
  { topic: 'directory', event: { type: 'account-registered', appId: '1400000000', account: 'alice' } },
  { topic: 'directory', event: { type: 'account-deleted', appId: '1400000000', account: 'mallory' } },
  { topic: 'directory', event: { type: 'group-created', appId: '1400000000', groupId: '@TGS#2CLUZEAEJ', groupType: 'Work', name: 'Launch team' } },
  { topic: 'directory', event: { type: 'group-dismissed', appId: '1400000000', groupId: '@TGS#2OLDGROUP' } },
  { topic: 'directory', event: { type: 'group-member-joined', appId: '1400000000', groupId: '@TGS#2CLUZEAEJ', account: 'alice', seq: 40 } },
  { topic: 'directory', event: { type: 'group-member-left', appId: '1400000000', groupId: '@TGS#2CLUZEAEJ', account: 'carol' } },
  { topic: 'directory', event: { type: 'qchat-server-member-joined', appId: 'go9dnk49bkd9jd9vmel1kglw0803mgq3', serverId: '87834762', account: 'alice' } },
  { topic: 'directory', event: { type: 'qchat-server-member-left', appId: 'go9dnk49bkd9jd9vmel1kglw0803mgq3', serverId: '87834762', account: 'carol' } },
  { topic: 'directory', event: { type: 'qchat-channel-created', appId: 'go9dnk49bkd9jd9vmel1kglw0803mgq3', serverId: '87834762', channelId: '25372323' } },
  { topic: 'directory', event: { type: 'qchat-channel-deleted', appId: 'go9dnk49bkd9jd9vmel1kglw0803mgq3', serverId: '87834762', channelId: '25370000' } },
  { topic: 'directory', event: { type: 'qchat-role-member-added', appId: 'go9dnk49bkd9jd9vmel1kglw0803mgq3', serverId: '87834762', roleId: '5001', account: 'alice' } },
  { topic: 'directory', event: { type: 'qchat-role-member-removed', appId: 'go9dnk49bkd9jd9vmel1kglw0803mgq3', serverId: '87834762', roleId: '5001', account: 'carol' } },
];
