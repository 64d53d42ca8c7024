import { badgeFrom, badgeOf, type AccountUnread } from './account-unread';
import type { GroupMemberView } from './group.store';
import { parseReceiveOptions } from './receive-option.store';

const group = (groupId: string, unread: number): GroupMemberView => ({ groupId, exists: true, type: 'Public', name: '', maxSeq: 10, member: true, readSeq: 10 - unread, unread });

describe('receive options and the badge', () => {
  it('parses the stored options, ignoring fields the store never writes', () => {
    const o = parseReceiveOptions({ 'c:bob': '5:1:AcceptNotNotify', 'g:g:1': '7:2:Discard', 'c:eve': '1:0:AcceptAndNotify', 'x:odd': '1:2:Discard', 'c:bad': '1:9:Mute' });
    expect([...o.c2c]).toEqual([
      ['bob', 'AcceptNotNotify'],
      ['eve', 'AcceptAndNotify'],
    ]);
    expect([...o.groups]).toEqual([['g:1', 'Discard']]);
  });

  it('counts only AcceptAndNotify conversations (the default), and every channel mention', () => {
    const u: AccountUnread = {
      account: 'alice',
      registered: true,
      c2c: { total: 9, peers: [{ peer: 'bob', unread: 4 }, { peer: 'carol', unread: 3 }, { peer: 'dave', unread: 2 }] },
      groups: [group('g1', 5), group('g2', 7), group('g3', 1)],
      options: parseReceiveOptions({ 'c:bob': '1:1:AcceptNotNotify', 'c:dave': '1:0:AcceptAndNotify', 'g:g2': '1:2:Discard', 'c:nobody': '1:2:Discard' }),
    };
    // c2c 9 − bob 4; groups g1 5 + g3 1; mentions 2
    expect(badgeOf(u, 2)).toBe(5 + 6 + 2);
    expect(badgeOf({ ...u, options: parseReceiveOptions({}) }, 0)).toBe(9 + 13);
  });
});

describe('the badge from the totals (readTotalsOf) and from the whole read agree', () => {
  it('subtracts the quiet peers and skips the quiet groups in both forms', () => {
    const groups = [group('g1', 5), group('g2', 7), group('g3', 1)];
    const u: AccountUnread = {
      account: 'alice',
      registered: true,
      c2c: { total: 9, peers: [{ peer: 'bob', unread: 4 }, { peer: 'carol', unread: 3 }, { peer: 'dave', unread: 2 }] },
      groups,
      options: parseReceiveOptions({ 'c:bob': '1:1:AcceptNotNotify', 'c:carol': '1:2:Discard', 'g:g2': '1:2:Discard', 'g:gone': '1:1:AcceptNotNotify' }),
    };
    // c2c 9 − bob 4 − carol 3; groups g1 5 + g3 1; mentions 3
    expect(badgeOf(u, 3)).toBe(2 + 6 + 3);
    expect(badgeFrom({ c2c: 9, c2cQuiet: 7, groups, quietGroups: new Set(['g2', 'gone']) }, 3)).toBe(2 + 6 + 3);
    // a total below its quiet part (never written so, but read apart) counts no negative one-to-one
    expect(badgeFrom({ c2c: 3, c2cQuiet: 7, groups: [], quietGroups: new Set() }, 0)).toBe(0);
  });
});
