import { C2cStore, DirectWriter, Keyspace } from '@app/store';
import type { C2cMessageSent, C2cReadAck } from '@app/contracts';
import { drained } from './support/drain';
import { Harness, TENCENT_APP, uniq } from './support/harness';
import { tencentPost } from './support/tencent';
import { prng } from './support/workload';

const APP = TENCENT_APP.sdkAppId;

type Ev = C2cMessageSent | C2cReadAck;

/** A random stream over `n` accounts, and the counts a straightforward in-memory model gives. */
function scenario(seed: number, accounts: string[], events: number) {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const stream: Ev[] = [];
  for (let i = 0; i < events; i++) {
    const a = pick(accounts);
    let b = pick(accounts);
    if (rnd() < 0.05) b = a; // self messages and acks happen too
    const time = 1_000 + Math.floor(rnd() * 200) * 10;
    if (rnd() < 0.75) stream.push({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: `m${i}`, from: a, to: b, time });
    else stream.push({ type: 'read-ack', scope: 'c2c', appId: APP, account: a, peer: b, readTime: time });
  }
  // the model: per (owner, peer) the read time is the max ack; a message is unread if after it
  const readTime = new Map<string, number>();
  for (const e of stream) {
    if (e.type === 'read-ack') readTime.set(`${e.account}\n${e.peer}`, Math.max(readTime.get(`${e.account}\n${e.peer}`) ?? -1, e.readTime));
  }
  const count = new Map<string, number>();
  for (const e of stream) {
    if (e.type !== 'message-sent' || e.from === e.to) continue;
    const k = `${e.to}\n${e.from}`;
    if (e.time > (readTime.get(k) ?? -1)) count.set(k, (count.get(k) ?? 0) + 1);
  }
  const perPeer = (owner: string, peer: string) => count.get(`${owner}\n${peer}`) ?? 0;
  const total = (owner: string) => accounts.reduce((s, p) => s + perPeer(owner, p), 0);
  // delivery: every event once, ~30% again, all shuffled
  const delivered = [...stream, ...stream.filter(() => rnd() < 0.3)];
  for (let i = delivered.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [delivered[i], delivered[j]] = [delivered[j]!, delivered[i]!];
  }
  return { delivered, perPeer, total };
}

function withSeed(seed: number, run: () => Promise<void>): Promise<void> {
  return run().catch((err: unknown) => {
    process.stderr.write(`c2c property test failed with seed ${seed} (rerun with C2C_SEED=${seed})\n`);
    throw err;
  });
}

const seedOf = (salt: number) => (process.env.C2C_SEED ? Number(process.env.C2C_SEED) : (Date.now() ^ salt) >>> 0);

describe('c2c property: random messages and acks, duplicated and shuffled, match an in-memory model', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('through the broker and the gateway', async () => {
    const seed = seedOf(0x5eed);
    await withSeed(seed, async () => {
      const id = uniq();
      const accounts = Array.from({ length: 6 }, (_, i) => `u${i}-${id}`);
      const { delivered, perPeer, total } = scenario(seed, accounts, 400);
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
    });
  }, 120_000);

  it('directly on the store, larger, with every write of a chunk issued at once', async () => {
    const seed = seedOf(0xbeef);
    await withSeed(seed, async () => {
      const keys = new Keyspace(`prop${uniq()}`);
      const store = new C2cStore(h.redis, keys);
      const writer = new DirectWriter(h.redis);
      const accounts = Array.from({ length: 20 }, (_, i) => `a${i}`);
      const { delivered, perPeer, total } = scenario(seed, accounts, 20_000);
      for (let i = 0; i < delivered.length; i += 500) {
        const chunk = delivered.slice(i, i + 500);
        // alternately folded (one write per owner) and one write per event, all at once
        if ((i / 500) % 2 === 0) await writer.run(store.writes(chunk));
        else await Promise.all(chunk.map((e) => writer.run(store.writes([e]))));
      }
      for (const owner of accounts) {
        expect((await store.total(APP, owner)).total).toBe(total(owner));
        expect((await store.perPeer(APP, owner, accounts)).counts).toEqual(accounts.map((p) => perPeer(owner, p)));
        // the zsets are in step with the counts
        for (const p of accounts) expect(await h.redis.zcard(`${keys.c2c(APP, owner)}:z:${p}`)).toBe(perPeer(owner, p));
      }
      for (const owner of accounts) await store.deleteAccount(writer, APP, owner);
      expect(await h.redis.keys(`${keys.prefix}:*`)).toEqual([]);
    });
  }, 120_000);
});
