import { EVENT_TYPES } from './events';
import { MAX_EVENT_BYTES, parseEvent, validateEvent } from './parser';
import { EXAMPLES } from './examples';

const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('event contracts v1', () => {
  it('has an example for every type and scope, each valid on its own topic', () => {
    const covered = new Set(EXAMPLES.map((e) => e.event.type));
    expect([...covered].sort()).toEqual([...EVENT_TYPES].sort());
    for (const { topic, event } of EXAMPLES) {
      const r = parseEvent(buf(event), topic);
      if (!r.ok) throw new Error(`${event.type}: ${r.reason}`);
      expect(r.event.type).toBe(event.type);
    }
  });

  it('turns 64-bit ids given as numbers into decimal strings', () => {
    const r = validateEvent(
      { type: 'qchat-role-member-added', appId: 'k', serverId: 87834762, roleId: 5, account: 'a' },
      'directory',
    );
    expect(r).toEqual({ ok: true, event: expect.objectContaining({ serverId: '87834762', roleId: '5' }) });
    const m = validateEvent(
      {
        type: 'channel-mention',
        appId: 'k',
        serverId: '1',
        channelId: 2,
        message: { msgIdServer: 16846554, fromAccount: 'a', time: 1 },
        mentionRoleIds: [7, '8'],
      },
      'mention',
    );
    expect(m.ok && m.event.type === 'channel-mention' && [m.event.channelId, m.event.message.msgIdServer, m.event.mentionRoleIds]).toEqual([
      '2',
      '16846554',
      ['7', '8'],
    ]);
  });

  it.each([
    ['{', 'invalid JSON'],
    ['[]', 'event must be a JSON object'],
    ['null', 'event must be a JSON object'],
    [{ appId: 'a' }, 'type must be a string'],
    [{ type: 'nope', appId: 'a' }, 'unknown type "nope"'],
    [{ type: 'message-sent', scope: 'dm', appId: 'a' }, 'scope must be one of c2c, group, channel'],
    [{ type: 'message-sent', scope: 'c2c', appId: 'a', msgId: 'm', from: 'x', to: 'y', time: -1 }, 'time must be Unix milliseconds (a non-negative integer)'],
    [{ type: 'message-sent', scope: 'c2c', appId: 'a', msgId: 'm', from: 'x', to: 'y', time: '1' }, 'time must be Unix milliseconds (a non-negative integer)'],
    [{ type: 'message-sent', scope: 'c2c', appId: 'a', msgId: 'm', from: 'x\u0000', to: 'y', time: 1 }, 'from must be a non-empty string of at most 256 characters without control characters'],
    [{ type: 'message-sent', scope: 'group', appId: 'a', msgId: 'm', groupId: 'g', from: 'x', seq: 0, time: 1 }, 'seq must not be less than 1'],
    [{ type: 'qchat-channel-created', appId: 'a', serverId: 2 ** 60, channelId: '1' }, 'serverId must be an unsigned 64-bit integer (number or decimal string)'],
    [{ type: 'qchat-channel-created', appId: 'a', serverId: '18446744073709551616', channelId: '1' }, 'serverId must be an unsigned 64-bit integer (number or decimal string)'],
    [{ type: 'group-created', appId: 'a', groupId: 'g', groupType: 'Secret' }, 'groupType must be one of the following values: Private, Work, Public, ChatRoom, Meeting, AVChatRoom, Community'],
    [{ type: 'channel-mention', appId: 'a', serverId: '1', channelId: '1', message: { fromAccount: 'a', time: 1 } }, 'message.msgIdServer must be an unsigned 64-bit integer (number or decimal string)'],
    [{ type: 'channel-mention', appId: 'a', serverId: '1', channelId: '1', message: { msgIdServer: '1', fromAccount: 'a', time: 1 }, mentionAccids: new Array(1001).fill('x') }, 'mentionAccids must contain no more than 1000 elements'],
    [{ type: 'message-sent', scope: 'c2c', appId: 'a', msgId: 'm', from: 'x', to: 'y', time: 1, noUnread: 'yes' }, 'noUnread must be a boolean value'],
    [{ type: 'message-recalled', scope: 'channel', appId: 'a' }, 'scope must be one of c2c, group'],
    [{ type: 'message-recalled', scope: 'group', appId: 'a', groupId: 'g', seq: 0 }, 'seq must not be less than 1'],
    [{ type: 'message-recalled', scope: 'c2c', appId: 'a', msgId: 'm', from: 'x', to: 'y' }, 'time must be Unix milliseconds (a non-negative integer)'],
    [{ type: 'receive-option-set', scope: 'group', appId: 'a', account: 'x', groupId: 'g', option: 'Mute', time: 1 }, 'option must be one of the following values: AcceptAndNotify, AcceptNotNotify, Discard'],
    [{ type: 'receive-option-set', scope: 'c2c', appId: 'a', account: 'x', option: 'Discard', time: 1 }, 'peer must be a non-empty string'],
  ])('refuses invalid event #%#', (value, reason) => {
    const r = parseEvent(buf(value));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });

  it('refuses a type on a topic it does not belong to, and oversized or empty records', () => {
    expect(parseEvent(buf({ type: 'account-registered', appId: 'a', account: 'b' }), 'readAck')).toEqual({
      ok: false,
      reason: 'type "account-registered" does not belong on the readAck topic',
    });
    expect(parseEvent(Buffer.alloc(MAX_EVENT_BYTES + 1, 32))).toEqual({
      ok: false,
      reason: `event is ${MAX_EVENT_BYTES + 1} bytes, more than the ${MAX_EVENT_BYTES} allowed`,
    });
    expect(parseEvent(null)).toEqual({ ok: false, reason: 'empty value' });
  });

  it('keeps recalls on the message topic and receive options on the directory topic', () => {
    expect(parseEvent(buf({ type: 'message-recalled', scope: 'group', appId: 'a', groupId: 'g', seq: 3 }), 'directory')).toEqual({
      ok: false,
      reason: 'type "message-recalled" does not belong on the directory topic',
    });
    expect(parseEvent(buf({ type: 'receive-option-set', scope: 'c2c', appId: 'a', account: 'x', peer: 'y', option: 'Discard', time: 1 }), 'messageSent')).toEqual({
      ok: false,
      reason: 'type "receive-option-set" does not belong on the messageSent topic',
    });
  });

  it('ignores fields it does not know (producers may add fields)', () => {
    const r = parseEvent(buf({ type: 'account-registered', appId: 'a', account: 'b', region: 'eu' }), 'directory');
    expect(r).toEqual({ ok: true, event: expect.not.objectContaining({ region: 'eu' }) });
  });
});
