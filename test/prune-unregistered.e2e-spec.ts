import type { UnreadEvent } from '@app/contracts';
import { Keyspace, ProjectionStore, pruneUnregistered } from '@app/store';
import { ensureCliBuilt, runCli } from './support/cli';
import { uniq } from './support/harness';
import { privateRedis } from './support/private-redis';

/**
 * The bound on recipients never registered (docs/projections.md, "Recipients never
 * registered"): their one-to-one messages count like anyone's (a registration may come after
 * the first messages), and `unread prune-unregistered` removes the state of those never
 * registered and idle for a given time; registered owners and recent ones stay as they are.
 */
const APP = '1400000077';
const OTHER = '1400000078';
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);

const msg = (app: string, to: string, from: string, time: number, id = uniq()): UnreadEvent => ({ type: 'message-sent', scope: 'c2c', appId: app, msgId: id, from, to, time });

describe('unread prune-unregistered', () => {
  const fixture = privateRedis();
  beforeAll(() => ensureCliBuilt());

  /** The key names under `prefix`, sorted. */
  async function keysOf(prefix: string): Promise<string[]> {
    return (await fixture.redis.keys(`${prefix}:*`)).sort();
  }

  it('removes idle owners never registered, keeps registered and recent ones, and a late registration starts from what is left', async () => {
    const prefix = `p${uniq()}`;
    const store = new ProjectionStore(fixture.redis, new Keyspace(prefix), { mentionRetentionMs: DAY });
    const old = NOW - 40 * DAY;
    await store.applyAll([
      { type: 'account-registered', appId: APP, account: 'reg' },
      msg(APP, 'reg', 'x', old),
      // never registered, idle: unread from two peers, a read time, a receive option, a tombstone
      msg(APP, 'ghost', 'x', old),
      msg(APP, 'ghost', 'y', old + 1),
      msg(APP, 'ghost', 'y', old + 2, 'r1'),
      { type: 'message-recalled', scope: 'c2c', appId: APP, msgId: 'r1', from: 'y', to: 'ghost', time: old + 2 },
      { type: 'read-ack', scope: 'c2c', appId: APP, account: 'ghost', peer: 'z', readTime: old - 5 },
      { type: 'receive-option-set', scope: 'c2c', appId: APP, account: 'ghost', peer: 'x', option: 'Discard', time: old },
      // never registered, but a message within the idle time
      msg(APP, 'fresh', 'x', old),
      msg(APP, 'fresh', 'x', NOW - DAY),
      // never registered, only read times, one of them recent
      { type: 'read-ack', scope: 'c2c', appId: APP, account: 'reader', peer: 'x', readTime: NOW - 2 * DAY },
      // another tenant's idle ghost
      msg(OTHER, 'ghost', 'x', old),
    ]);
    const keys = new Keyspace(prefix);
    const ghost = keys.c2c(APP, 'ghost');
    expect((await keysOf(prefix)).filter((k) => k.startsWith(ghost.base))).toEqual([ghost.counts, ghost.options, ghost.reads, ghost.unread('x'), ghost.unread('y')].sort());

    // checking only: the same report, nothing deleted
    const before = await keysOf(prefix);
    expect(await pruneUnregistered(store, { idleMs: 30 * DAY, now: NOW, app: APP, check: true })).toEqual({ owners: 4, pruned: 1, unread: 2, recent: 2 });
    expect(await keysOf(prefix)).toEqual(before);

    expect(await pruneUnregistered(store, { idleMs: 30 * DAY, now: NOW, app: APP })).toEqual({ owners: 4, pruned: 1, unread: 2, recent: 2 });
    expect((await keysOf(prefix)).filter((k) => k.startsWith(ghost.base))).toEqual([]);
    expect(await keysOf(prefix)).toEqual(before.filter((k) => !k.startsWith(ghost.base)));
    expect((await store.c2c.total(APP, 'reg')).total).toBe(1);
    expect((await store.c2c.total(APP, 'fresh')).total).toBe(2);
    expect((await store.c2c.total(OTHER, 'ghost')).total).toBe(1);

    // the stated bound: a registration applied after the prune counts only what came after it
    await store.applyAll([{ type: 'account-registered', appId: APP, account: 'ghost' }, msg(APP, 'ghost', 'x', NOW)]);
    expect((await store.c2c.total(APP, 'ghost')).total).toBe(1);
    // a second run finds nothing more of the tenant to prune (ghost is registered now)
    expect(await pruneUnregistered(store, { idleMs: 30 * DAY, now: NOW, app: APP })).toEqual({ owners: 4, pruned: 0, unread: 0, recent: 2 });
  });

  it('the CLI prunes the active generation and prints its report; --dry-run deletes nothing', async () => {
    const prefix = `q${uniq()}`;
    const store = new ProjectionStore(fixture.redis, new Keyspace(prefix), { mentionRetentionMs: DAY });
    const old = Date.now() - 10 * DAY;
    await store.applyAll([msg(APP, 'ghost', 'x', old), msg(APP, 'ghost', 'y', old), msg(APP, 'live', 'x', Date.now())]);
    const env = { REDIS_URL: fixture.server.url, REDIS_KEY_PREFIX: prefix, KAFKA_BROKERS: '127.0.0.1:1' };
    expect(await runCli(['prune-unregistered', '--idle-days', '7', '--dry-run'], env)).toEqual({
      code: 0,
      stdout: `${JSON.stringify({ dryRun: true, owners: 2, pruned: 1, unread: 2, recent: 1 })}\n`,
      stderr: '',
    });
    expect((await store.c2c.total(APP, 'ghost')).total).toBe(2);
    expect(await runCli(['prune-unregistered', '--idle-days', '7'], env)).toEqual({
      code: 0,
      stdout: `${JSON.stringify({ dryRun: false, owners: 2, pruned: 1, unread: 2, recent: 1 })}\n`,
      stderr: '',
    });
    expect((await store.c2c.total(APP, 'ghost')).total).toBe(0);
    expect((await store.c2c.total(APP, 'live')).total).toBe(1);
    expect(await runCli(['prune-unregistered'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('--idle-days') });
  }, 60_000);
});
