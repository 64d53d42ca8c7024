import type { BenchContext } from './bench-context';
import { row, type BenchRow } from './bench-result';
import type { ConsumeResult } from './consume.worker';
import { FIXTURE } from './event-stream';
import { batchStats, projectorCount } from './measure-ingest';
import type { ProduceResult } from './produce.worker';
import { fetchRetry, nowMs, quantile, sleep } from './stats';

/**
 * Freshness: under a steady background load (a producer process at `rate` events/s of the
 * mixed stream), a probe one-to-one message is produced every `intervalMs`; from the
 * broker's acknowledgement the gateway is polled (get_c2c_unread_msg_num, back to back)
 * until the recipient's total counts it. Baseline: when a plain kafkajs consumer (another
 * process) receives the same probe record — the part of the latency Kafka alone takes.
 */
export async function measureFreshness(ctx: BenchContext): Promise<BenchRow[]> {
  const { env } = ctx;
  const f = ctx.sizes.freshness;
  const started = Date.now();
  await ctx.liveProjector();
  await ctx.caughtUp();
  const gw = await ctx.liveGateway();
  const url = env.tencentUrl(gw.url, 'openim/get_c2c_unread_msg_num');
  const probeBody = JSON.stringify({ To_Account: FIXTURE.freshOwner });
  const readTotal = async (): Promise<number> => {
    const res = await fetchRetry(url, { method: 'POST', body: probeBody, headers: { 'content-type': 'application/json' } });
    const body = (await res.json()) as { ActionStatus?: string; AllC2CUnreadMsgNum?: number; ErrorInfo?: string };
    if (body.ActionStatus !== 'OK') throw new Error(`get_c2c_unread_msg_num failed: ${JSON.stringify(body)}`);
    return body.AllC2CUnreadMsgNum ?? 0;
  };

  const probe = env.startWorker<ConsumeResult>('consume.worker', {
    brokers: env.brokers,
    topics: [env.topics('live').messageSent],
    groupId: `bench-${env.id}-probe`,
    mode: 'probe',
    probeTo: FIXTURE.freshOwner,
  });
  const seen = new Map<string, number>();
  probe.child.on('message', (m: { type: string; msgId?: string; t?: number }) => {
    if (m.type === 'seen' && m.msgId && m.t) seen.set(m.msgId, m.t);
  });
  await probe.ready;

  const load = env.startWorker<ProduceResult>('produce.worker', {
    brokers: env.brokers,
    topics: env.topics('live'),
    rate: f.rate,
    tickMs: f.tickMs,
    world: { spec: ctx.world.spec, tencentApp: ctx.world.tencentApp, qchatApp: ctx.world.qchatApp, seed: ctx.seed },
    streamSeed: ctx.seed + 2,
    stream: { channels: ctx.caps.channels, excludeGroups: [ctx.world.smallestGroup().id, ctx.world.largestGroup().id], tag: 'f' },
    seqs: ctx.stream.seqs(),
  });
  await load.ready;
  env.log(`freshness: ${f.rate} events/s background, probing every ${f.intervalMs} ms for ${f.seconds} s`);

  const counters0 = await projectorCount(ctx.live!.metricsUrl);
  const producer = env.producer('live');
  await producer.connect();
  // Probes share one conversation (one partition key), so they become visible in order: the
  // recipient's total reaching base + k means probes 1..k are visible. Probes go out on a fixed
  // cadence whatever the latency, and one poller reads the total back to back.
  const base = await readTotal();
  const ackAt: number[] = [];
  const visibleAt: number[] = [];
  const measured: boolean[] = [];
  const ids: string[] = [];
  let timeouts = 0;
  const run = async () => {
    const warmEnd = nowMs() + f.warmupSeconds * 1000;
    const end = warmEnd + f.seconds * 1000;
    let sending = true;
    const poller = (async () => {
      while (sending || visibleAt.length < ackAt.length) {
        const total = await readTotal();
        const t = nowMs();
        while (visibleAt.length < Math.min(total - base, ids.length)) visibleAt.push(t);
        if (!sending && nowMs() - (ackAt.at(-1) ?? 0) > 5_000) break;
      }
    })();
    try {
      for (let i = 0; nowMs() < end; i++) {
        const tick = nowMs();
        const msgId = `fresh-${env.id}-${i}`;
        ids.push(msgId);
        measured.push(tick >= warmEnd);
        await producer.send([{ type: 'message-sent', scope: 'c2c', appId: env.tencent.sdkAppId, msgId, from: FIXTURE.freshPeer, to: FIXTURE.freshOwner, time: Date.now() }]);
        ackAt.push(nowMs());
        await sleep(Math.max(0, f.intervalMs - (nowMs() - tick)));
      }
    } finally {
      sending = false;
      await poller;
    }
  };
  try {
    if (env.options.profileDir) await ctx.profile(ctx.live!.app, 'projector (freshness)', run);
    else await run();
  } finally {
    load.send('stop');
    probe.send('stop');
    await producer.disconnect();
  }
  const counters1 = await projectorCount(ctx.live!.metricsUrl);
  const loadResult = await load.result;
  await probe.result;
  await ctx.caughtUp();
  const samples: number[] = [];
  const kafka: number[] = [];
  ids.forEach((id, i) => {
    if (!measured[i]) return;
    const acked = ackAt[i]!;
    const visible = visibleAt[i];
    if (visible === undefined) timeouts++;
    // not visible within 5 s after the last probe: counted as that long (a lower bound);
    // visible before its ack returned: 0
    samples.push(Math.max(0, (visible ?? nowMs()) - acked));
    const got = seen.get(id);
    if (got !== undefined) kafka.push(Math.max(0, got - acked));
  });
  ctx.phases.freshnessSeconds = (Date.now() - started) / 1000;
  const details = {
    probes: samples.length,
    timeouts,
    intervalMs: f.intervalMs,
    background: { targetRate: f.rate, tickMs: f.tickMs, achievedRate: Math.round(loadResult.rate), sent: loadResult.sent },
    kafkaProbesSeen: kafka.length,
    projector: batchStats(counters0, counters1),
  };
  const note = timeouts ? `${timeouts} of ${samples.length} probes not visible within 5 s of the last (counted as seen then)` : undefined;
  return [
    row({
      id: 'freshness.p50',
      group: 'freshness',
      measurement: `Freshness p50 (produce ack → visible via gateway, ${Math.round(loadResult.rate)} ev/s load)`,
      value: quantile(samples, 0.5),
      unit: 'ms',
      baseline: quantile(kafka, 0.5),
      baselineLabel: 'ack → plain consumer receives',
      target: null,
      note,
      details,
    }),
    row({
      id: 'freshness.p99',
      group: 'freshness',
      measurement: `Freshness p99 (produce ack → visible via gateway, ${Math.round(loadResult.rate)} ev/s load)`,
      value: quantile(samples, 0.99),
      unit: 'ms',
      baseline: quantile(kafka, 0.99),
      baselineLabel: 'ack → plain consumer receives',
      target: { on: 'value', op: '<=', limit: 100 },
      note,
      details,
    }),
    row({
      id: 'freshness.p99.ratio',
      group: 'freshness',
      measurement: 'Freshness p99 against the plain consumer (same run)',
      value: quantile(samples, 0.99),
      unit: 'ms',
      baseline: quantile(kafka, 0.99),
      baselineLabel: 'ack → plain consumer receives',
      target: { on: 'ratio', op: '<=', limit: 1.3 },
      note,
      details,
    }),
  ];
}
