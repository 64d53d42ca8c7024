import type { UnreadEvent } from '@app/contracts';
import { TENCENT_APP } from './harness';

/**
 * Builders of the Tencent events tests send (docs/events.md), for tenant `app`. Group
 * messages get `time` 1_700_000_000_000 + seq and id `<group>:<seq>`.
 */
export function tencentEvents(app: string) {
  return {
    registered: (account: string): UnreadEvent => ({
      type: 'account-registered',
      appId: app,
      account,
    }),
    c2cMessage: (from: string, to: string, msgId: string, time: number): UnreadEvent => ({
      type: 'message-sent',
      scope: 'c2c',
      appId: app,
      msgId,
      from,
      to,
      time,
    }),
    c2cAck: (account: string, peer: string, readTime: number): UnreadEvent => ({
      type: 'read-ack',
      scope: 'c2c',
      appId: app,
      account,
      peer,
      readTime,
    }),
    groupCreated: (groupId: string, groupType: string, name?: string): UnreadEvent =>
      ({
        type: 'group-created',
        appId: app,
        groupId,
        groupType,
        ...(name === undefined ? {} : { name }),
      }) as UnreadEvent,
    groupDismissed: (groupId: string): UnreadEvent => ({
      type: 'group-dismissed',
      appId: app,
      groupId,
    }),
    memberJoined: (groupId: string, account: string, seq?: number): UnreadEvent => ({
      type: 'group-member-joined',
      appId: app,
      groupId,
      account,
      ...(seq === undefined ? {} : { seq }),
    }),
    memberLeft: (groupId: string, account: string): UnreadEvent => ({
      type: 'group-member-left',
      appId: app,
      groupId,
      account,
    }),
    groupMessage: (groupId: string, from: string, seq: number): UnreadEvent => ({
      type: 'message-sent',
      scope: 'group',
      appId: app,
      msgId: `${groupId}:${seq}`,
      groupId,
      from,
      seq,
      time: 1_700_000_000_000 + seq,
    }),
    groupAck: (groupId: string, account: string, readSeq: number): UnreadEvent => ({
      type: 'read-ack',
      scope: 'group',
      appId: app,
      groupId,
      account,
      readSeq,
    }),
  };
}

/** tencentEvents of the test tenant (TENCENT_APP). */
export const tencent = tencentEvents(TENCENT_APP.sdkAppId);
