import { RECEIVE_OPTIONS, type UnreadEvent } from '@app/contracts';
import { AccountTotalsReader, Keyspace, ProjectionStore, badgeOf, readAccountsUnread } from '@app/store';
import { CountModel } from './support/count-model';
import { drained } from './support/drain';
import { Harness, NETEASE_APP, TENCENT_APP, uniq } from './support/harness';
import { tencentPost } from './support/tencent';
import { prng, shuffled, withSeed } from './support/random';

const APP = TENCENT_APP.sdkAppId;
const KEY = 'summary-key-of-the-group-property-test';
/** GROUP_UNCOUNTED_HORIZON of the harness's projector: well below the gateway workload's 40 messages per group. */
const GATEWAY_HORIZON = 12;

/**
 * A random group workload: groups with members joined at some seq (some never read again:
 * far behind the group's newest), contiguous messages (some sent with noUnread, some from
 * outsiders), recalls of random seqs (placed anywhere, often before their message, some
 * repeated), read acks and admin overrides (set_unread_msg_num: readSeq = max(0, maxSeq −
 * N), moving read positions back) and receive options with colliding times.
 *
 * `log` is the events in the order one log per topic gives them (the oracle's input); in
 * `delivered` the directory and message events are each there once and ~30% again, in any
 * order (their folds commute), and each group's read-ack stream keeps its log order (one
 * topic and key) with a redelivered suffix, as after a crash, all merged at random.
 */
function scenario(seed: number, id: string, groupCount: number, accounts: string[], messagesPerGroup: number) {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const directory: UnreadEvent[] = [];
  const messages: UnreadEvent[] = [];
  const reads: UnreadEvent[][] = [];
  const groups = Array.from({ length: groupCount }, (_, i) => `g${i}-${id}`);
  for (const groupId of groups) {
    directory.push({ type: 'group-created', appId: APP, groupId, groupType: pick(['Public', 'Work', 'Private'] as const) });
    const members = accounts.filter(() => rnd() < 0.7);
    // a member that stays where it joined (at the start, or not far in) never reads again
    const idle = new Set(members.filter(() => rnd() < 0.3));
    for (const account of members) {
      const seq = rnd() < 0.5 ? 0 : Math.floor(rnd() * (idle.has(account) ? messagesPerGroup / 4 : messagesPerGroup));
      directory.push({ type: 'group-member-joined', appId: APP, groupId, account, seq });
    }
    for (let seq = 1; seq <= messagesPerGroup; seq++) {
      const writers = members.filter((m) => !idle.has(m));
      const from = rnd() < 0.6 && writers.length > 0 ? pick(writers) : `outsider-${id}`;
      const noUnread = rnd() < 0.15;
      messages.push({ type: 'message-sent', scope: 'group', appId: APP, msgId: `${groupId}-${seq}`, groupId, from, seq, time: 1_000 + seq, ...(noUnread ? { noUnread: true } : {}) });
      if (rnd() < 0.15) {
        const recall: UnreadEvent = { type: 'message-recalled', scope: 'group', appId: APP, groupId, seq, msgId: `${groupId}-${seq}` };
        messages.push(recall);
        if (rnd() < 0.3) messages.push(recall);
      }
    }
    const log: UnreadEvent[] = [];
    for (const account of members) {
      if (idle.has(account)) continue;
      for (let k = Math.floor(rnd() * 3); k > 0; k--) log.push({ type: 'read-ack', scope: 'group', appId: APP, account, groupId, readSeq: Math.floor(rnd() * (messagesPerGroup + 2)) });
      if (rnd() < 0.4) {
        const maxSeq = Math.floor(rnd() * (messagesPerGroup + 1));
        const n = Math.floor(rnd() * (maxSeq + 3));
        log.push({ type: 'group-unread-set', appId: APP, account, groupId, readSeq: Math.max(0, maxSeq - n), maxSeq });
      }
    }
    reads.push(shuffled(log, rnd));
    for (const account of members) {
      for (let k = Math.floor(rnd() * 4); k > 0; k--) {
        directory.push({ type: 'receive-option-set', scope: 'group', appId: APP, account, groupId, option: pick(RECEIVE_OPTIONS), time: Math.floor(rnd() * 4) });
      }
    }
  }
  const log = [...directory, ...messages, ...reads.flat()];
  const free = [...directory, ...messages];
  const streams = [shuffled([...free, ...free.filter(() => rnd() < 0.3)], rnd).map((e) => [e]), ...reads.map((r) => redelivered(r, rnd))].map((s) => s.flat());
  return { log, delivered: merged(streams, rnd), directory, groups };
}

/** The stream as delivered around a crash: up to some event, then again from an earlier one to its end. */
function redelivered(stream: readonly UnreadEvent[], rnd: () => number): UnreadEvent[][] {
  const upTo = Math.floor(rnd() * (stream.length + 1));
  const from = Math.floor(rnd() * (upTo + 1));
  return [stream.slice(0, upTo), stream.slice(from)];
}

/** The streams interleaved at random, each in its own order. */
function merged(streams: UnreadEvent[][], rnd: () => number): UnreadEvent[] {
  const at = streams.map(() => 0);
  let left = streams.reduce((n, s) => n + s.length, 0);
  const out: UnreadEvent[] = [];
  while (left > 0) {
    let r = Math.floor(rnd() * left);
    const i = streams.findIndex((s, j) => (r -= s.length - at[j]!) < 0);
    out.push(streams[i]![at[i]!++]!);
    left--;
  }
  return out;
}

/**
 * The oracle's view: with the horizon and without it. A member whose read position is
 * within the horizon of its group's newest seq has the exact count (both models agree); at
 * least one member further behind must differ, or the run did not exercise the bound.
 */
function oracles(log: readonly UnreadEvent[], horizon: number, accounts: readonly string[], groups: readonly string[]) {
  const bounded = new CountModel({ groupHorizon: horizon }).apply(log);
  const exact = new CountModel().apply(log);
  let within = 0;
  let behind = 0;
  for (const account of accounts) {
    for (const g of groups) {
      const u = bounded.group(APP, g, account);
      if (u === null) continue;
      const { newest, position } = bounded.groupPosition(APP, g, account);
      if (position >= newest - horizon) {
        expect({ account, g, unread: u }).toEqual({ account, g, unread: exact.group(APP, g, account) });
        within++;
      } else if (u !== exact.group(APP, g, account)) behind++;
    }
  }
  expect(within).toBeGreaterThan(0);
  expect(behind).toBeGreaterThan(0);
  const memberOf = (account: string) => groups.filter((g) => bounded.group(APP, g, account) !== null);
  return { model: bounded, memberOf };
}

describe('group property: messages, noUnread, recalls, acks, overrides and receive options, duplicated and shuffled, with the horizon, match the shared model', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({
      env: {
        TENANTS_JSON: JSON.stringify({ tencent: [{ ...TENCENT_APP, apiKey: KEY }], netease: [NETEASE_APP] }),
        GROUP_UNCOUNTED_HORIZON: String(GATEWAY_HORIZON),
      },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('through the broker and the gateway (get_joined_group_list with MsgFlag, the batch badge)', async () => {
    await withSeed('group property (gateway)', async (_rnd, seed) => {
      const id = uniq();
      const accounts = Array.from({ length: 5 }, (_, i) => `u${i}-${id}`);
      const { log, delivered, directory, groups } = scenario(seed, id, 4, accounts, 40);
      const { model, memberOf } = oracles(log, GATEWAY_HORIZON, accounts, groups);
      // the directory first (created before joined keeps get_joined_group_list's set fixed), then the rest
      await h.send(...accounts.map((account) => ({ type: 'account-registered', appId: APP, account })), ...directory);
      const rest = delivered.filter((e) => !directory.includes(e) || e.type === 'receive-option-set');
      for (let i = 0; i < rest.length; i += 50) await h.send(...rest.slice(i, i + 50));
      await drained(h);
      for (const account of accounts) {
        const r = await tencentPost(h.gateway!.url, 'group_open_http_svc/get_joined_group_list', { Member_Account: account, ResponseFilter: { SelfInfoFilter: ['MsgFlag', 'UnreadMsgNum'] } });
        // docs/api/tencent.md's order: Private and Work before Public, then by group id
        const classOf = (g: string) => (directory.some((e) => e.type === 'group-created' && e.groupId === g && e.groupType === 'Public') ? 1 : 0);
        const mine = memberOf(account).sort((a, b) => classOf(a) - classOf(b) || (a < b ? -1 : 1));
        expect(r.body).toEqual({
          ActionStatus: 'OK',
          ErrorCode: 0,
          ErrorInfo: '',
          TotalCount: mine.length,
          GroupIdList: mine.map((g) => ({ GroupId: g, SelfInfo: { MsgFlag: model.option(APP, account, 'g', g), UnreadMsgNum: model.group(APP, g, account) } })),
        });
      }
      const res = await fetch(`${h.gateway!.url}/v1/apps/${APP}/unread`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` }, body: JSON.stringify({ accounts }) });
      expect(await res.json()).toEqual({
        appId: APP,
        accounts: accounts.map((account) => ({
          account,
          c2c: 0,
          groups: memberOf(account).reduce((s, g) => s + model.group(APP, g, account)!, 0),
          channels: 0,
          badge: model.badge(APP, account),
        })),
        notFound: [],
      });
    });
  }, 150_000);

  it('directly on the store, larger, every write of a chunk issued at once; each group keeps only the seqs the horizon allows', async () => {
    await withSeed('group property (store)', async (_rnd, seed) => {
      const id = uniq();
      const horizon = 40;
      const store = new ProjectionStore(h.redis, new Keyspace(`gprop${id}`), { mentionRetentionMs: 60_000, groupUncountedHorizon: horizon });
      const accounts = Array.from({ length: 12 }, (_, i) => `a${i}`);
      const { log, delivered, groups } = scenario(seed, id, 12, accounts, 300);
      const { model, memberOf } = oracles(log, horizon, accounts, groups);
      await store.applyAll(accounts.map((account) => ({ type: 'account-registered', appId: APP, account })));
      for (let i = 0; i < delivered.length; i += 500) await store.applyAll(delivered.slice(i, i + 500));
      const read = await readAccountsUnread(store, APP, accounts);
      // the batch API's and the change feed's totals (readTotalsOf)
      const totals = await new AccountTotalsReader(store).readMany(accounts.map((account) => ({ app: APP, account })));
      expect(totals.map((t, i) => ({ account: accounts[i], groups: t.groups, badge: t.badge }))).toEqual(
        accounts.map((account) => ({ account, groups: memberOf(account).reduce((n, g) => n + (model.group(APP, g, account) ?? 0), 0), badge: model.badge(APP, account) })),
      );
      for (const [i, account] of accounts.entries()) {
        const u = read[i]!;
        expect({ account, groups: u.groups.map((g) => [g.groupId, g.unread]) }).toEqual({ account, groups: memberOf(account).sort().map((g) => [g, model.group(APP, g, account)]) });
        expect({ account, badge: badgeOf(u, 0) }).toEqual({ account, badge: model.badge(APP, account) });
        for (const g of memberOf(account)) expect({ account, g, unread: (await store.group.memberView(APP, g, account)).unread }).toEqual({ account, g, unread: model.group(APP, g, account) });
      }
      for (const g of groups) {
        const { state, uncounted } = store.keys.group(APP, g);
        const kept = await h.redis.zrange(uncounted, 0, -1);
        // the recalled and noUnread seqs of the log above the group's newest minus the horizon, exactly
        const mine = log.flatMap((e) => ((e.type === 'message-sent' || e.type === 'message-recalled') && e.scope === 'group' && e.groupId === g ? [e] : []));
        const max = Math.max(...mine.flatMap((e) => (e.type === 'message-sent' ? [e.seq] : [])));
        const expected = [...new Set(mine.filter((e) => e.type === 'message-recalled' || e.noUnread === true).map((e) => e.seq))]
          .filter((s) => s > max - horizon)
          .sort((a, b) => a - b);
        expect({ g, kept: kept.map(Number) }).toEqual({ g, kept: expected });
        expect({ g, nc: await h.redis.hget(state, 'nc') }).toEqual({ g, nc: expected.length > 0 ? String(expected.length) : null });
      }
    });
  }, 150_000);
});
