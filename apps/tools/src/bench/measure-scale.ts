import type { UnreadEvent } from '@app/contracts';
import type { BenchContext } from './bench-context';
import { row, unavailable, type BenchRow } from './bench-result';
import type { Group } from './event-stream';
import { Prng } from './prng';
import { median } from './stats';

/** Sum of calls and microseconds of Lua calls (EVALSHA + EVAL) from INFO commandstats. */
async function luaStats(ctx: BenchContext): Promise<{ calls: number; usec: number }> {
  const info = await ctx.env.redis.info('commandstats');
  let calls = 0;
  let usec = 0;
  for (const m of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+),usec=(\d+)/gm)) {
    calls += Number(m[2]);
    usec += Number(m[3]);
  }
  return { calls, usec };
}

async function usedMemory(ctx: BenchContext): Promise<number> {
  await ctx.settle();
  const info = await ctx.env.redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

/**
 * Bytes held by the keys matching `pattern` (MEMORY USAGE, every element sampled): the keys'
 * own cost, without the steps in which Redis doubles its main hash table (a used_memory delta
 * jumps by megabytes when the key count crosses a power of two during the measurement).
 */
async function keyBytes(ctx: BenchContext, pattern: string): Promise<{ keys: number; bytes: number }> {
  const redis = ctx.env.redis;
  let cursor = '0';
  let keys = 0;
  let bytes = 0;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 10_000);
    cursor = next;
    const sizes = await Promise.all(batch.map((k) => redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0') as Promise<number | null>));
    keys += batch.length;
    bytes += sizes.reduce<number>((a, b) => a + (b ?? 0), 0);
  } while (cursor !== '0');
  return { keys, bytes };
}

/** Applies `events` through Kafka and the live projector and returns the Redis Lua work it took. */
async function luaWork(ctx: BenchContext, events: UnreadEvent[]): Promise<{ calls: number; usec: number }> {
  await ctx.caughtUp();
  await ctx.settle();
  const before = await luaStats(ctx);
  await ctx.env.produce('live', events, { chunk: 5_000 });
  await ctx.caughtUp();
  const after = await luaStats(ctx);
  return { calls: after.calls - before.calls, usec: after.usec - before.usec };
}

/**
 * Scale. (1) Cost per group message: K messages to the 10-member group, then K to the
 * largest group (both kept out of every other stream; senders drawn from as many members in
 * both), through Kafka and the projector,
 * measured as Redis Lua time per message (INFO commandstats EVALSHA + EVAL usec over the
 * messages: the projector folds many messages into one call, so per call would measure the
 * folding), alternating over rounds and taking the median. (2) Redis memory per unread one-to-one message and per
 * stored mention: MEMORY USAGE of the keys written, over the count (the used_memory delta is
 * kept in the details).
 */
export async function measureScale(ctx: BenchContext): Promise<BenchRow[]> {
  const { env, world } = ctx;
  const s = ctx.sizes.scale;
  const started = Date.now();
  await ctx.liveProjector();
  const rnd = new Prng(ctx.seed + 3);
  const seqs = ctx.stream.seqs();
  const small = world.smallestGroup();
  const large = world.largestGroup();
  // The senders are drawn from as many members in both groups (the small group's size): a
  // folded write updates one record per distinct sender of the batch (group-messages.lua), so
  // senders drawn from the whole large group would measure how many distinct senders a batch
  // has, not whether a message's cost grows with the group's members.
  const groupMessages = (g: Group): UnreadEvent[] => {
    const out: UnreadEvent[] = [];
    for (let i = 0; i < s.groupMessages; i++) {
      const seq = (seqs[g.id] = (seqs[g.id] ?? 0) + 1);
      const from = world.member(g, rnd.int(small.size));
      out.push({ type: 'message-sent', scope: 'group', appId: world.tencentApp, msgId: `s-${g.id}-${seq}`, groupId: g.id, from, seq, time: Date.now() });
    }
    return out;
  };
  const perMessage = { small: [] as number[], large: [] as number[] };
  // warm-up, not measured: the first calls of a script pay for loading it and for cold caches
  for (const g of [small, large]) await luaWork(ctx, groupMessages(g).slice(0, Math.min(500, s.groupMessages)));
  for (let round = 0; round < s.rounds; round++) {
    for (const [key, g] of [['small', small], ['large', large]] as const) {
      const messages = groupMessages(g);
      const w = await luaWork(ctx, messages);
      perMessage[key].push(w.usec / messages.length);
    }
  }
  ctx.stream.continueSeqs(seqs);
  const rows: BenchRow[] = [
    row({
      id: 'scale.group-message',
      group: 'scale',
      measurement: `Redis µs per group message, ${large.size.toLocaleString('en-US')} vs ${small.size} members`,
      value: median(perMessage.large),
      unit: 'µs',
      baseline: median(perMessage.small),
      baselineLabel: `${small.size}-member group`,
      target: { on: 'ratio', op: '<=', limit: 1.2 },
      details: { messagesPerRound: s.groupMessages, rounds: s.rounds, perMessage },
    }),
  ];

  // memory per unread c2c message: owners × peers × messages, realistic Tencent-style message keys
  await ctx.caughtUp();
  const c2c: UnreadEvent[] = [];
  const now = Date.now();
  for (let o = 0; o < s.c2cOwners; o++) {
    for (let p = 0; p < s.c2cPeers; p++) {
      for (let k = 0; k < s.c2cPerPeer; k++) {
        c2c.push({ type: 'message-sent', scope: 'c2c', appId: world.tencentApp, msgId: `${1_000_000_000 + rnd.int(1_000_000_000)}_${k + 1}_${Math.floor(now / 1000)}`, from: `mem-peer${o}-${p}`, to: `mem-owner${o}`, time: now - 100_000 + k });
      }
    }
  }
  const m0 = await usedMemory(ctx);
  await env.produce('live', c2c, { chunk: 5_000 });
  await ctx.caughtUp();
  const m1 = await usedMemory(ctx);
  const c2cKeys = await keyBytes(ctx, '*mem-owner*');
  rows.push(
    row({
      id: 'scale.c2c-memory',
      group: 'scale',
      measurement: `Redis bytes per unread one-to-one message (${s.c2cOwners} owners × ${s.c2cPeers} peers × ${s.c2cPerPeer})`,
      value: c2cKeys.bytes / c2c.length,
      unit: 'B',
      baseline: null,
      baselineLabel: '—',
      target: { on: 'value', op: '<=', limit: 120 },
      details: { messages: c2c.length, keys: c2cKeys.keys, keyBytes: c2cKeys.bytes, usedMemoryDeltaPerMessage: (m1 - m0) / c2c.length },
    }),
  );

  const mentionRow = { id: 'scale.mention-memory', group: 'scale' as const, measurement: "Redis bytes per stored mention (the channel's keys, incl. message body)", unit: 'B', baselineLabel: '—', target: null };
  if (!ctx.caps.channels) {
    rows.push(unavailable(mentionRow, ctx.caps.channelsWhy ?? 'channel projection not available'));
  } else {
    const serverId = '700000001';
    const channelId = '719999999';
    await env.produce('live', [{ type: 'qchat-channel-created', appId: world.qchatApp, serverId, channelId }]);
    await ctx.caughtUp();
    const mentions: UnreadEvent[] = [];
    for (let i = 0; i < s.mentions; i++) {
      const from = world.qmember(rnd.int(world.spec.qchatMembers));
      mentions.push({
        type: 'channel-mention',
        appId: world.qchatApp,
        serverId,
        channelId,
        message: { msgIdServer: String(950_000_000 + i), msgIdClient: rnd.hex(16), fromAccount: from, fromNick: `nick ${from}`, fromClientType: 'AOS', time: now - 50_000 + i, updateTime: now - 50_000 + i, status: 0, type: 0, body: 'please review the release notes before the meeting tomorrow', attach: '', ext: '' },
        mentionAccids: [world.qmember(rnd.int(world.spec.qchatMembers))],
      } as unknown as UnreadEvent);
    }
    const b0 = await usedMemory(ctx);
    await env.produce('live', mentions, { chunk: 5_000 });
    await ctx.caughtUp();
    const b1 = await usedMemory(ctx);
    const channelKeys = await keyBytes(ctx, `*:${channelId}}*`);
    rows.push(
      row({
        ...mentionRow,
        value: channelKeys.bytes / mentions.length,
        baseline: null,
        details: { mentions: mentions.length, keys: channelKeys.keys, keyBytes: channelKeys.bytes, usedMemoryDeltaPerMention: (b1 - b0) / mentions.length },
      }),
    );
  }
  ctx.phases.scaleSeconds = (Date.now() - started) / 1000;
  return rows;
}
