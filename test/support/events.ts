import type { UnreadEvent } from '@app/contracts';
import { TENCENT_APP } from './harness';

/** Seeded PRNG (mulberry32): the same seed gives the same workload on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of a copy, driven by `rnd`. */
export function shuffled<T>(xs: readonly T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

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
