import { AccountTotalsReader, DirectWriter, Keyspace, ProjectionStore, badgeOf, readAccountsUnread } from '@app/store';
import { RECEIVE_OPTIONS, type C2cMessageRecalled, type C2cMessageSent, type C2cReadAck, type C2cReceiveOptionSet } from '@app/contracts';
import { CountModel } from './support/count-model';
import { drained } from './support/drain';
import { Harness, NETEASE_APP, TENCENT_APP, uniq } from './support/harness';
import { shuffled, withSeed } from './support/random';
import { tencentPost } from './support/tencent';

const APP = TENCENT_APP.sdkAppId;

type Ev = C2cMessageSent | C2cReadAck | C2cMessageRecalled | C2cReceiveOptionSet;
const KEY = 'summary-key-of-the-c2c-property-test';

/**
 * A random stream over `n` accounts (messages, some with noUnread; acks; recalls of some
 * messages, placed anywhere in the stream, so often before their message; receive options
 * with colliding times), delivered every event once and ~30% again, all shuffled; and the
 * counts and badge the oracle (CountModel) gives for the stream.
 */
function scenario(rnd: () => number, accounts: string[], events: number) {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const stream: Ev[] = [];
  for (let i = 0; i < events; i++) {
    const a = pick(accounts);
    let b = pick(accounts);
    if (rnd() < 0.05) b = a; // self messages and acks happen too
    const time = 1_000 + Math.floor(rnd() * 200) * 10;
    const r = rnd();
    if (r < 0.7) {
      const m: C2cMessageSent = { type: 'message-sent', scope: 'c2c', appId: APP, msgId: `m${i}`, from: a, to: b, time };
      if (rnd() < 0.1) m.noUnread = true;
      stream.push(m);
    } else if (r < 0.93) stream.push({ type: 'read-ack', scope: 'c2c', appId: APP, account: a, peer: b, readTime: time });
    else stream.push({ type: 'receive-option-set', scope: 'c2c', appId: APP, account: a, peer: b, option: pick([...RECEIVE_OPTIONS]), time: Math.floor(rnd() * 20) });
  }
  // recalls of ~15% of the messages (fields copied from the message)
  for (const e of [...stream]) {
    if (e.type === 'message-sent' && rnd() < 0.15) stream.push({ type: 'message-recalled', scope: 'c2c', appId: APP, msgId: e.msgId, from: e.from, to: e.to, time: e.time });
  }
  const model = new CountModel().apply(stream);
  const perPeer = (owner: string, peer: string) => model.c2c(APP, owner, peer);
  const total = (owner: string) => model.c2cTotal(APP, owner);
  const badge = (owner: string) => model.badge(APP, owner);
  const delivered = shuffled([...stream, ...stream.filter(() => rnd() < 0.3)], rnd);
  // the tombstones the store may hold: recalls after the owner's read time for the peer (the
  // max of its acks; the rest are pruned, or never written), sorted as C2cStore.recalled answers
  const readTime = new Map<string, number>();
  for (const e of stream) if (e.type === 'read-ack') readTime.set(`${e.account}\n${e.peer}`, Math.max(readTime.get(`${e.account}\n${e.peer}`) ?? -1, e.readTime));
  const tombstones = (owner: string, peer: string) =>
    stream
      .filter((e): e is C2cMessageRecalled => e.type === 'message-recalled' && e.to === owner && e.from === peer && e.from !== e.to && e.time > (readTime.get(`${owner}\n${peer}`) ?? -1))
      .map((e) => ({ msgId: e.msgId, time: e.time }))
      .sort((a, b) => a.time - b.time || (a.msgId < b.msgId ? -1 : a.msgId > b.msgId ? 1 : 0));
  return { delivered, perPeer, total, badge, tombstones };
}

describe('c2c property: random messages, acks, recalls and receive options, duplicated and shuffled, match an in-memory model', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({ env: { TENANTS_JSON: JSON.stringify({ tencent: [{ ...TENCENT_APP, apiKey: KEY }], netease: [NETEASE_APP] }) } });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('through the broker and the gateway', async () => {
    await withSeed('c2c property (gateway)', async (rnd) => {
      const id = uniq();
      const accounts = Array.from({ length: 6 }, (_, i) => `u${i}-${id}`);
      const { delivered, perPeer, total, badge } = scenario(rnd, accounts, 400);
      await h.send(...accounts.map((account) => ({ type: 'account-registered', appId: APP, account })));
      for (let i = 0; i < delivered.length; i += 50) await h.send(...delivered.slice(i, i + 50));
      await drained(h);
      for (const owner of accounts) {
        const t = await tencentPost(h.gateway!.url, 'openim/get_c2c_unread_msg_num', { To_Account: owner });
        expect(t.body).toEqual({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AllC2CUnreadMsgNum: total(owner) });
        const peers = accounts.filter((p) => p !== owner);
        const p = await tencentPost(h.gateway!.url, 'openim/get_c2c_unread_msg_num', { To_Account: owner, Peer_Account: peers });
        expect(p.body).toEqual({
          ActionStatus: 'OK',
          ErrorCode: 0,
          ErrorInfo: '',
          C2CUnreadMsgNumList: peers.map((peer) => ({ Peer_Account: peer, C2CUnreadMsgNum: perPeer(owner, peer) })),
        });
      }
      const res = await fetch(`${h.gateway!.url}/v1/apps/${APP}/unread`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` }, body: JSON.stringify({ accounts }) });
      expect(await res.json()).toEqual({
        appId: APP,
        accounts: accounts.map((account) => ({ account, c2c: total(account), groups: 0, channels: 0, badge: badge(account) })),
        notFound: [],
      });
    });
  }, 120_000);

  it('directly on the store, larger, with every write of a chunk issued at once', async () => {
    await withSeed('c2c property (store)', async (rnd) => {
      const keys = new Keyspace(`prop${uniq()}`);
      const projections = new ProjectionStore(h.redis, keys, { mentionRetentionMs: 60_000 });
      const store = projections.c2c;
      const writer = new DirectWriter(h.redis);
      const accounts = Array.from({ length: 20 }, (_, i) => `a${i}`);
      const { delivered, perPeer, total, badge, tombstones } = scenario(rnd, accounts, 20_000);
      for (let i = 0; i < delivered.length; i += 500) {
        const chunk = delivered.slice(i, i + 500);
        // alternately folded (one write per owner) and one write per event, all at once
        if ((i / 500) % 2 === 0) await writer.run(projections.writes(chunk));
        else await Promise.all(chunk.map((e) => writer.run(projections.writes([e]))));
      }
      const read = await readAccountsUnread(projections, APP, accounts);
      expect(read.map((u) => badgeOf(u, 0))).toEqual(accounts.map(badge));
      // the batch API's and the change feed's totals (readTotalsOf: no peer's count but the muted ones')
      const totals = await new AccountTotalsReader(projections).readMany(accounts.map((account) => ({ app: APP, account })));
      expect(totals.map((t) => [t.c2c, t.badge])).toEqual(accounts.map((a) => [total(a), badge(a)]));
      for (const owner of accounts) {
        expect((await store.total(APP, owner)).total).toBe(total(owner));
        expect((await store.perPeer(APP, owner, accounts)).counts).toEqual(accounts.map((p) => perPeer(owner, p)));
        // the zsets are in step with the counts
        for (const p of accounts) expect(await h.redis.zcard(keys.c2c(APP, owner).unread(p))).toBe(perPeer(owner, p));
        // tombstones pruned exactly: only recalls after the read time are kept
        for (const p of accounts) expect(await store.recalled(APP, owner, p, 10_000)).toEqual(tombstones(owner, p));
      }
      for (const owner of accounts) await store.deleteAccount(writer, APP, owner);
      expect(await h.redis.keys(`${keys.prefix}:*`)).toEqual([]);
    });
  }, 120_000);
});
