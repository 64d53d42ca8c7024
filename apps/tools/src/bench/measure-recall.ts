import type { UnreadEvent } from '@app/contracts';
import type { BenchContext } from './bench-context';
import { row, type BenchRow } from './bench-result';
import type { Group } from './event-stream';
import { median } from './stats';

/** Sum of calls and microseconds of Lua calls (EVALSHA + EVAL) from INFO commandstats. */
async function luaUsec(ctx: BenchContext): Promise<number> {
  const info = await ctx.env.redis.info('commandstats');
  let usec = 0;
  for (const m of info.matchAll(/^cmdstat_(evalsha|eval):calls=\d+,usec=(\d+)/gm)) usec += Number(m[2]);
  return usec;
}

/**
 * Group recall cost: K recalls to the 10-member group, then K to the largest
 * group, through Kafka and the live projector, as Redis Lua µs per recall (INFO
 * commandstats over the recalls: the projector folds many into one call), alternating over
 * rounds, median. A recall adds its seq to the group's set of seqs that do not count and
 * touches no member (group-messages.lua: recalls fold with the group's messages), so the
 * ratio should stay near 1. The recalled seqs are ones the scale measurement's messages
 * used (or above them): the cost does not depend on whether the message was applied. Runs
 * after measureScale (bench.command.ts, `scale`).
 */
export async function measureRecall(ctx: BenchContext): Promise<BenchRow[]> {
  const { env, world } = ctx;
  const k = ctx.sizes.scale.groupMessages;
  await ctx.liveProjector();
  const next = new Map<string, number>();
  const recalls = (g: Group): UnreadEvent[] => {
    const out: UnreadEvent[] = [];
    for (let i = 0; i < k; i++) {
      const seq = (next.get(g.id) ?? 0) + 1;
      next.set(g.id, seq);
      out.push({ type: 'message-recalled', scope: 'group', appId: world.tencentApp, groupId: g.id, seq });
    }
    return out;
  };
  const work = async (events: UnreadEvent[]): Promise<number> => {
    await ctx.caughtUp();
    await ctx.settle();
    const before = await luaUsec(ctx);
    await env.produce('live', events, { chunk: 5_000 });
    await ctx.caughtUp();
    return (await luaUsec(ctx)) - before;
  };
  const small = world.smallestGroup();
  const large = world.largestGroup();
  const perRecall = { small: [] as number[], large: [] as number[] };
  // warm-up, not measured (script loading, cold caches)
  for (const g of [small, large]) await work(recalls(g).slice(0, Math.min(500, k)));
  for (let round = 0; round < ctx.sizes.scale.rounds; round++) {
    for (const [key, g] of [['small', small], ['large', large]] as const) {
      const events = recalls(g);
      perRecall[key].push((await work(events)) / events.length);
    }
  }
  return [
    row({
      id: 'scale.group-recall',
      group: 'scale',
      measurement: `Redis µs per group recall, ${large.size.toLocaleString('en-US')} vs ${small.size} members`,
      value: median(perRecall.large),
      unit: 'µs',
      baseline: median(perRecall.small),
      baselineLabel: `${small.size}-member group`,
      target: { on: 'ratio', op: '<=', limit: 1.2 },
      details: { recallsPerRound: k, rounds: ctx.sizes.scale.rounds, perRecall },
    }),
  ];
}
