import type { UnreadEvent } from '@app/contracts';
import { Keyspace, ProjectionStore } from '@app/store';
import { keyBytes } from '../apps/tools/src/bench/measure-year';
import { YEAR_SHAPE, YearTraffic } from '../apps/tools/src/bench/year-traffic';
import { modelCounts, nonZero, readCounts, type Counts } from './support/count-model';
import { uniq } from './support/harness';
import { privateRedis } from './support/private-redis';

/**
 * A compressed year (docs/capacity.md, "Over time"): the same weekly traffic 52 times
 * (one-to-one over 50 peers per account with 1 % recall, groups of 500 with 1 % recall and
 * 5 % noUnread, small groups dismissed and created again every four weeks, every reader
 * catching up each day), applied as the projector applies it (folded batches), with the
 * horizon of seqs that do not count set below four weeks of a group's messages. Redis memory
 * of the projection's keys after week 52 stays within 1.2× of week 4, and every count equals
 * the oracle's (CountModel) at the end.
 */
const APP = '1400000052';
const RETENTION = 7 * 24 * 3600 * 1000;
/** Below four weeks of a large group's messages (50 a day), above a day's. */
const HORIZON = 1_000;

/** The model's counts restricted to what the traffic touches: each account's ring of peers (and one stranger), every group member. */
function touched(all: Counts, t: YearTraffic): Counts {
  const s = t.shape;
  const out: Counts = { c2c: {}, c2cTotal: all.c2cTotal, group: all.group, mentions: {}, badge: all.badge };
  for (let a = 0; a < s.c2cAccounts; a++) {
    const owner = t.accounts[a]!;
    for (let p = 1; p <= s.peers + 1; p++) {
      const key = `${APP} ${owner} ${t.accounts[(a - p + s.c2cAccounts) % s.c2cAccounts]!}`;
      out.c2c[key] = all.c2c[key] ?? 0;
    }
  }
  return out;
}

describe('a compressed year of traffic costs what four weeks cost', () => {
  const fixture = privateRedis();

  it('52 weeks: memory of the keys ≤ 1.2× week 4, every count as the oracle', async () => {
    const redis = fixture.redis;
    const prefix = `y${uniq()}`;
    const store = new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs: RETENTION, groupUncountedHorizon: HORIZON });
    const traffic = new YearTraffic({ ...YEAR_SHAPE, appId: APP }, 52, uniq());
    const all: UnreadEvent[] = [];
    const bytes: { bytes: number; byKind: Record<string, number> }[] = [];
    for (let w = 1; w <= 52; w++) {
      const week = traffic.nextWeek();
      for (const e of week) all.push(e);
      // as the projector: batches of up to 500 events, four in flight, folded together
      for (let i = 0; i < week.length; i += 2_000) {
        const slice = week.slice(i, i + 2_000);
        await Promise.all([0, 1, 2, 3].map((q) => store.applyBatch(slice.slice(q * 500, (q + 1) * 500))));
      }
      if (w === 4 || w === 52) bytes[w] = await keyBytes(redis, prefix);
    }
    const ratio = bytes[52]!.bytes / bytes[4]!.bytes;
    // the figures are in the message when it fails
    expect({ week4: bytes[4], week52: bytes[52], ratio: Number(ratio.toFixed(3)), under: ratio <= 1.2 }).toEqual(
      expect.objectContaining({ under: true }),
    );

    // then a day of messages nobody has read yet (the next week's first day, up to its reads)
    const next = traffic.nextWeek();
    const day = next.slice(0, next.findIndex((e) => e.type === 'read-ack'));
    for (const e of day) all.push(e);
    await store.applyBatch(day);
    const expected = touched(modelCounts(all, RETENTION), traffic);
    expect(nonZero(expected)).toBeGreaterThan(100);
    expect(await readCounts(redis, prefix, expected, RETENTION)).toEqual(expected);
  }, 300_000);
});
