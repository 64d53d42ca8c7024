import { EXAMPLES, type UnreadEvent } from '@app/contracts';
import { feedAccountsOf, feedAccountsOfBatch } from './change-feed';

const example = (type: string, scope?: string): UnreadEvent => {
  const found = EXAMPLES.find((e) => e.event.type === type && (scope === undefined || e.event.scope === scope));
  if (!found) throw new Error(`no example of ${type} ${scope ?? ''}`);
  return found.event as unknown as UnreadEvent;
};

describe('feedAccountsOf', () => {
  it('names the accounts each event type is about, and no one for events about every member', () => {
    const named = Object.fromEntries(EXAMPLES.filter((e) => e.event.noUnread !== true).map((e) => [`${e.event.type}${typeof e.event.scope === 'string' ? `/${e.event.scope}` : ''}`, feedAccountsOf(e.event as unknown as UnreadEvent)]));
    expect(named).toEqual({
      'message-sent/c2c': ['alice'],
      'message-sent/group': [],
      'message-sent/channel': [],
      'read-ack/c2c': ['alice'],
      'read-ack/group': ['alice'],
      'read-ack/channel': ['alice'],
      'group-unread-set': ['alice'],
      'channel-mention': ['alice'],
      'channel-message-updated': [],
      'account-registered': ['alice'],
      'account-deleted': ['mallory'],
      'group-created': [],
      'group-dismissed': [],
      'group-member-joined': ['alice'],
      'group-member-left': ['carol'],
      'qchat-server-member-joined': ['alice'],
      'qchat-server-member-left': ['carol'],
      'qchat-channel-created': [],
      'qchat-channel-deleted': [],
      'qchat-role-member-added': ['alice'],
      'qchat-role-member-removed': ['carol'],
      'message-recalled/c2c': ['alice'],
      'message-recalled/group': [],
      'receive-option-set/c2c': ['alice'],
      'receive-option-set/group': ['alice'],
    });
  });

  it('names no one for a message that does not count', () => {
    for (const e of EXAMPLES.filter((x) => x.event.noUnread === true)) expect(feedAccountsOf(e.event as unknown as UnreadEvent)).toEqual([]);
  });

  it('names no one for a message to oneself, and each mentioned account once', () => {
    expect(feedAccountsOf({ ...example('message-sent', 'c2c'), from: 'alice', to: 'alice' } as UnreadEvent)).toEqual([]);
    expect(feedAccountsOf({ ...example('channel-mention'), mentionAll: true, mentionAccids: ['a', 'b', 'a'] } as UnreadEvent)).toEqual(['a', 'b']);
    expect(feedAccountsOf({ ...example('channel-mention'), mentionAll: true, mentionAccids: undefined } as UnreadEvent)).toEqual([]);
  });
});

describe('feedAccountsOfBatch', () => {
  it('coalesces a batch to one entry per (app, account) with its record key and newest source timestamp', () => {
    const c2c = example('message-sent', 'c2c');
    const ack = example('read-ack', 'c2c');
    const got = feedAccountsOfBatch([
      { event: c2c, message: { timestamp: '100' } },
      { event: { ...c2c, to: 'dave' } as UnreadEvent, message: { timestamp: '150' } },
      { event: ack, message: { timestamp: '300' } },
      { event: { ...ack, appId: '1400000009' }, message: { timestamp: '200' } },
      { event: example('message-sent', 'group'), message: { timestamp: '400' } },
    ]);
    expect(got).toEqual([
      { app: '1400000000', account: 'alice', key: '1400000000:alice', sourceTime: 300 },
      { app: '1400000000', account: 'dave', key: '1400000000:dave', sourceTime: 150 },
      { app: '1400000009', account: 'alice', key: '1400000009:alice', sourceTime: 200 },
    ]);
  });
});
