import { groupUnread, parseMemberRecord } from './group.store';

describe('group member records', () => {
  it('parses a stored record and treats a missing or unreadable one as all zero', () => {
    expect(parseMemberRecord('1:40:52:47')).toEqual({
      member: true,
      joinSeq: 40,
      ackSeq: 52,
      ownSeq: 47,
    });
    expect(parseMemberRecord('0:0:3:0')).toEqual({
      member: false,
      joinSeq: 0,
      ackSeq: 3,
      ownSeq: 0,
    });
    const zero = { member: false, joinSeq: 0, ackSeq: 0, ownSeq: 0 };
    expect(parseMemberRecord(null)).toEqual(zero);
    expect(parseMemberRecord('1:2:3')).toEqual(zero);
    expect(parseMemberRecord('x')).toEqual(zero);
  });

  it('counts unread from the highest of join, ack and own seq, never below 0', () => {
    const r = { member: true, joinSeq: 10, ackSeq: 4, ownSeq: 12 };
    expect(groupUnread('Public', 20, r)).toBe(8);
    expect(groupUnread('Work', 20, { ...r, ackSeq: 15 })).toBe(5);
    expect(groupUnread('Public', 5, r)).toBe(0);
    expect(groupUnread(undefined, 20, r)).toBe(8);
  });

  it('keeps no unread count for ChatRoom, Meeting and AVChatRoom', () => {
    const r = { member: true, joinSeq: 0, ackSeq: 0, ownSeq: 0 };
    expect(
      ['ChatRoom', 'Meeting', 'AVChatRoom', 'Community'].map((t) => groupUnread(t as never, 9, r)),
    ).toEqual([0, 0, 0, 9]);
  });
});
