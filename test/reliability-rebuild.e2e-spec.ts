import { expectModelCounts } from './support/count-model';
import { registered } from './support/accounts';
import { Generations, Keyspace, esc, generationKeys, generationPrefix } from '@app/store';
import { rebuild } from '../apps/tools/src/rebuild.command';
import { Harness } from './support/harness';
import { drainedGroup, sendDrained } from './support/projector-process';
import { snapshot } from './support/snapshot';
import { tencentPost } from './support/tencent';
import { Workload, type Ev } from './support/workload';

const C2C = 'openim/get_c2c_unread_msg_num';

describe('reliability: rebuild from the log, and account deletion', () => {
  let h: Harness;
  const w = new Workload(5);
  const sent: Ev[] = [];
  const prefix = () => h.config.redis.keyPrefix;
  const quiet = { log: process.env.DEBUG_REBUILD ? (l: string) => console.log(new Date().toISOString(), l) : () => undefined };

  beforeAll(async () => {
    h = await Harness.start();
    await sendDrained(h, sent, w.setup());
    await sendDrained(h, sent, w.traffic(300));
  });
  afterAll(async () => {
    await h.stop();
  });

  jest.setTimeout(120_000);

  it('rebuilds every projection into generation 1, equal to the live generation 0, and switches to it', async () => {
    const live = await snapshot(h.redis, prefix());
    expect(Object.keys(live).length).toBeGreaterThan(20);
    const r = await rebuild(h.config, { ...quiet, keepOld: true });
    expect(r).toMatchObject({ previous: 0, generation: 1, skipped: 0, deleted: 0 });
    expect(r.applied).toBe(sent.length);
    expect(await h.redis.get(generationKeys(prefix()).active)).toBe('1');
    expect(await snapshot(h.redis, generationPrefix(prefix(), 1))).toEqual(live);
    // The kept generation 0 is untouched.
    expect(await snapshot(h.redis, prefix())).toEqual(live);
  });

  it('rebuilds while events keep coming and queries keep being answered: no query sees a half-built generation, nothing is lost', async () => {
    const polled = w.accounts[0]!;
    const expected = (await tencentPost(h.gateway!.url, C2C, { To_Account: polled })).body;
    expect(expected).toMatchObject({ ActionStatus: 'OK' });
    const other = new Workload(6);
    const answers: unknown[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        answers.push((await tencentPost(h.gateway!.url, C2C, { To_Account: polled })).body);
        await new Promise((r) => setTimeout(r, 25)); // pacing, to leave CPU to the rebuild
      }
    })();
    let rebuilding = true;
    const producer = (async () => {
      const setup = other.setup();
      sent.push(...setup);
      await h.send(...setup);
      while (rebuilding) {
        const batch = other.traffic(5);
        sent.push(...batch);
        await h.send(...batch);
        await new Promise((r) => setTimeout(r, 50)); // pacing
      }
    })();
    const r = await rebuild(h.config, { ...quiet, graceMs: 1_500 }).finally(() => (rebuilding = false));
    await producer;
    polling = false;
    await poller;
    expect(r).toMatchObject({ previous: 1, generation: 2 });
    expect(r.deleted).toBeGreaterThan(0);
    expect(answers.length).toBeGreaterThan(5);
    expect(answers.filter((a) => JSON.stringify(a) !== JSON.stringify(expected))).toEqual([]);

    // Generation 1 is gone, generation 2 holds everything, and the live projector goes on writing to it.
    expect(await h.redis.keys(`${generationPrefix(prefix(), 1)}:*`)).toEqual([]);
    const more = other.traffic(100);
    sent.push(...more);
    await h.send(...more);
    await drainedGroup(h.kafka, h.config);
    await expectModelCounts(h.redis, generationPrefix(prefix(), 2), sent, h.config.mentionRetentionMs);
    const gens = new Generations(h.redis, prefix());
    expect(await gens.read()).toEqual({ active: 2 });
  });

  it('account deletion removes every key of the account, in every family', async () => {
    const victim = w.accounts[1]!;
    const active = generationPrefix(prefix(), 2);
    const tagged = (keys: string[]) => keys.filter((k) => k.includes(`:${esc(victim)}}`));
    expect(tagged(Object.keys(await snapshot(h.redis, active)))).not.toEqual([]);
    const del: Ev = { type: 'account-deleted', appId: w.tencentApp, account: victim };
    const delQ: Ev = { type: 'account-deleted', appId: w.neteaseApp, account: victim };
    sent.push(del, delQ);
    await h.send(del, delQ);
    await drainedGroup(h.kafka, h.config);
    const after = await snapshot(h.redis, active);
    expect(tagged(Object.keys(after))).toEqual([]);
    expect(await registered(h.redis, new Keyspace(active), w.tencentApp, victim)).toBe(0);
    const r = await tencentPost(h.gateway!.url, C2C, { To_Account: victim });
    expect(r.body).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 90003 });
    // Everyone else's counts are still exactly the model's (the victim's are gone with it).
    await expectModelCounts(h.redis, active, sent, h.config.mentionRetentionMs);
  });
});
