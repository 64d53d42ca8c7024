import { RECEIVE_OPTIONS, type ReceiveOption, type UnreadEvent } from '@app/contracts';
import { Keyspace, ProjectionStore, badgeOf, readAccountsUnread } from '@app/store';
import { drained } from './support/drain';
import { Harness, NETEASE_APP, TENCENT_APP, uniq } from './support/harness';
import { tencentPost } from './support/tencent';
import { prng, withSeed } from './support/random';

const APP = TENCENT_APP.sdkAppId;
const KEY = 'summary-key-of-the-group-property-test';

/**
 * A random group workload: groups with members joined at some seq, contiguous messages
 * (some sent with noUnread, some from outsiders), read acks, recalls of random seqs (placed
 * anywhere, often before their message, some repeated) and receive options with colliding
 * times. The model knows nothing of the store: a member's unread is the number of seqs
 * above max(join, last own message, max ack) and at most the group's last seq that were
 * neither recalled nor sent with noUnread; its badge counts the groups whose latest option
 * (greatest time, ties to the more muted) is AcceptAndNotify.
 */
function scenario(seed: number, id: string, groupCount: number, accounts: string[], messagesPerGroup: number) {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const directory: UnreadEvent[] = [];
  const messages: UnreadEvent[] = [];
  const acks: UnreadEvent[] = [];
  const unread = new Map<string, number>(); // `${account}\n${group}`
  const options = new Map<string, { time: number; option: ReceiveOption }>();
  const groups = Array.from({ length: groupCount }, (_, i) => `g${i}-${id}`);
  for (const groupId of groups) {
    directory.push({ type: 'group-created', appId: APP, groupId, groupType: pick(['Public', 'Work', 'Private'] as const) });
    const members = accounts.filter(() => rnd() < 0.7);
    const join = new Map<string, number>();
    for (const account of members) {
      const seq = rnd() < 0.5 ? 0 : Math.floor(rnd() * messagesPerGroup);
      join.set(account, seq);
      directory.push({ type: 'group-member-joined', appId: APP, groupId, account, seq });
    }
    const uncounted = new Set<number>();
    const own = new Map<string, number>();
    for (let seq = 1; seq <= messagesPerGroup; seq++) {
      const from = rnd() < 0.6 && members.length > 0 ? pick(members) : `outsider-${id}`;
      const noUnread = rnd() < 0.1;
      if (noUnread) uncounted.add(seq);
      own.set(from, seq);
      messages.push({ type: 'message-sent', scope: 'group', appId: APP, msgId: `${groupId}-${seq}`, groupId, from, seq, time: 1_000 + seq, ...(noUnread ? { noUnread: true } : {}) });
      if (rnd() < 0.15) {
        uncounted.add(seq);
        const recall: UnreadEvent = { type: 'message-recalled', scope: 'group', appId: APP, groupId, seq, msgId: `${groupId}-${seq}` };
        messages.push(recall);
        if (rnd() < 0.3) messages.push(recall);
      }
    }
    const ack = new Map<string, number>();
    for (const account of members) {
      for (let k = Math.floor(rnd() * 3); k > 0; k--) {
        const readSeq = Math.floor(rnd() * (messagesPerGroup + 2));
        ack.set(account, Math.max(ack.get(account) ?? 0, readSeq));
        acks.push({ type: 'read-ack', scope: 'group', appId: APP, account, groupId, readSeq });
      }
      for (let k = Math.floor(rnd() * 4); k > 0; k--) {
        const option = pick(RECEIVE_OPTIONS);
        const time = Math.floor(rnd() * 4);
        directory.push({ type: 'receive-option-set', scope: 'group', appId: APP, account, groupId, option, time });
        const k = `${account}\n${groupId}`;
        const held = options.get(k);
        if (!held || time > held.time || (time === held.time && RECEIVE_OPTIONS.indexOf(option) > RECEIVE_OPTIONS.indexOf(held.option))) options.set(k, { time, option });
      }
      const read = Math.max(join.get(account)!, own.get(account) ?? 0, ack.get(account) ?? 0);
      let n = 0;
      for (let s = read + 1; s <= messagesPerGroup; s++) if (!uncounted.has(s)) n++;
      unread.set(`${account}\n${groupId}`, n);
    }
  }
  // every event once, ~30% again, all shuffled together (any interleaving of the topics)
  const all = [...directory, ...messages, ...acks];
  const delivered = [...all, ...all.filter(() => rnd() < 0.3)];
  for (let i = delivered.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [delivered[i], delivered[j]] = [delivered[j]!, delivered[i]!];
  }
  const memberOf = (account: string) => groups.filter((g) => unread.has(`${account}\n${g}`));
  const unreadOf = (account: string, groupId: string) => unread.get(`${account}\n${groupId}`) ?? 0;
  const optionOf = (account: string, groupId: string) => options.get(`${account}\n${groupId}`)?.option ?? 'AcceptAndNotify';
  const badge = (account: string) => memberOf(account).reduce((s, g) => s + (optionOf(account, g) === 'AcceptAndNotify' ? unreadOf(account, g) : 0), 0);
  return { delivered, directory, memberOf, unreadOf, optionOf, badge };
}

describe('group property: messages, noUnread, recalls, acks and receive options, duplicated and shuffled, match an in-memory model', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({ env: { TENANTS_JSON: JSON.stringify({ tencent: [{ ...TENCENT_APP, apiKey: KEY }], netease: [NETEASE_APP] }) } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('through the broker and the gateway (get_joined_group_list with MsgFlag, the batch badge)', async () => {
    await withSeed('group property (gateway)', async (_rnd, seed) => {
      const id = uniq();
      const accounts = Array.from({ length: 5 }, (_, i) => `u${i}-${id}`);
      const { delivered, directory, memberOf, unreadOf, optionOf, badge } = scenario(seed, id, 4, accounts, 40);
      // the directory first (created before joined keeps get_joined_group_list's set fixed), then the rest shuffled
      await h.send(...accounts.map((account) => ({ type: 'account-registered', appId: APP, account })), ...directory);
      const rest = delivered.filter((e) => !directory.includes(e) || e.type === 'receive-option-set');
      for (let i = 0; i < rest.length; i += 50) await h.send(...rest.slice(i, i + 50));
      await drained(h);
      for (const account of accounts) {
        const r = await tencentPost(h.gateway!.url, 'group_open_http_svc/get_joined_group_list', { Member_Account: account, ResponseFilter: { SelfInfoFilter: ['MsgFlag', 'UnreadMsgNum'] } });
        const groups = memberOf(account).sort();
        expect(r.body).toEqual({
          ActionStatus: 'OK',
          ErrorCode: 0,
          ErrorInfo: '',
          TotalCount: groups.length,
          GroupIdList: groups.map((g) => ({ GroupId: g, SelfInfo: { MsgFlag: optionOf(account, g), UnreadMsgNum: unreadOf(account, g) } })),
        });
      }
      const res = await fetch(`${h.gateway!.url}/v1/apps/${APP}/unread`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` }, body: JSON.stringify({ accounts }) });
      expect(await res.json()).toEqual({
        appId: APP,
        accounts: accounts.map((account) => ({
          account,
          c2c: 0,
          groups: memberOf(account).reduce((s, g) => s + unreadOf(account, g), 0),
          channels: 0,
          badge: badge(account),
        })),
        notFound: [],
      });
    });
  }, 150_000);

  it('directly on the store, larger, every write of a chunk issued at once', async () => {
    await withSeed('group property (store)', async (_rnd, seed) => {
      const id = uniq();
      const store = new ProjectionStore(h.redis, new Keyspace(`gprop${id}`), { mentionRetentionMs: 60_000 });
      const accounts = Array.from({ length: 12 }, (_, i) => `a${i}`);
      const { delivered, memberOf, unreadOf, badge } = scenario(seed, id, 12, accounts, 300);
      await store.applyAll(accounts.map((account) => ({ type: 'account-registered', appId: APP, account })));
      for (let i = 0; i < delivered.length; i += 500) await store.applyAll(delivered.slice(i, i + 500));
      const read = await readAccountsUnread(store, APP, accounts);
      for (const [i, account] of accounts.entries()) {
        const u = read[i]!;
        expect({ account, groups: u.groups.map((g) => [g.groupId, g.unread]) }).toEqual({ account, groups: memberOf(account).sort().map((g) => [g, unreadOf(account, g)]) });
        expect({ account, badge: badgeOf(u, 0) }).toEqual({ account, badge: badge(account) });
        for (const g of memberOf(account)) expect({ account, g, unread: (await store.group.memberView(APP, g, account)).unread }).toEqual({ account, g, unread: unreadOf(account, g) });
      }
    });
  }, 150_000);
});
