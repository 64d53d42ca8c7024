import type { BenchContext } from './bench-context';
import type { AppProcess } from './bench-env';
import { row, unavailable, type BenchRow } from './bench-result';
import { FIXTURE } from './event-stream';
import type { LoadInput, LoadResult } from './load.worker';
import { fetchRetry } from './stats';

interface Endpoint {
  id: string;
  label: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  expect: string;
  qchat: boolean;
  ratioTarget: number;
}

/**
 * Queries: each endpoint under autocannon (its own process) at N connections, after a
 * warm-up, against a bare node:http server (its own process) answering the endpoint's own
 * response body, byte for byte, with the same tool, connections, duration and per-request
 * work in the load generator (QChat's Nonce + CheckSum, the body check).
 */
export async function measureQueries(ctx: BenchContext): Promise<BenchRow[]> {
  const { env } = ctx;
  const started = Date.now();
  await ctx.caughtUp();
  const gw = await ctx.liveGateway();
  const json = { 'content-type': 'application/json' };
  const endpoints: Endpoint[] = [
    {
      id: 'c2c-total',
      label: 'get_c2c_unread_msg_num (total)',
      url: env.tencentUrl(gw.url, 'openim/get_c2c_unread_msg_num'),
      body: JSON.stringify({ To_Account: FIXTURE.c2cOwner }),
      headers: json,
      expect: '"ActionStatus":"OK"',
      qchat: false,
      ratioTarget: 0.35,
    },
    {
      id: 'c2c-peers',
      label: 'get_c2c_unread_msg_num (10 peers)',
      url: env.tencentUrl(gw.url, 'openim/get_c2c_unread_msg_num'),
      body: JSON.stringify({ To_Account: FIXTURE.c2cOwner, Peer_Account: ctx.world.c2cPeers }),
      headers: json,
      expect: '"ActionStatus":"OK"',
      qchat: false,
      ratioTarget: 0.25,
    },
    {
      id: 'group-list',
      label: `get_joined_group_list + UnreadMsgNum (${ctx.world.queryGroups().length} groups)`,
      url: env.tencentUrl(gw.url, 'group_open_http_svc/get_joined_group_list'),
      body: JSON.stringify({ Member_Account: FIXTURE.groupMember, ResponseFilter: { SelfInfoFilter: ['UnreadMsgNum'] } }),
      headers: json,
      expect: '"ActionStatus":"OK"',
      qchat: false,
      ratioTarget: 0.25,
    },
    {
      id: 'qchat-mentions',
      label: `queryChannelUnReadMentionedMsgPage (3 roles, ${ctx.world.spec.queryMentions} unread, limit 200)`,
      url: `${gw.url}/nimserver/qchat/queryChannelUnReadMentionedMsgPage.action`,
      body: new URLSearchParams({ accid: FIXTURE.mentioned, serverId: FIXTURE.serverId, channelId: FIXTURE.queryChannel, limit: '200' }).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' },
      expect: '"code":200',
      qchat: true,
      ratioTarget: 0.25,
    },
  ];
  const rows: BenchRow[] = [];
  for (const ep of endpoints) rows.push(...(await measureEndpoint(ctx, ep, gw.app)));
  ctx.phases.queriesSeconds = (Date.now() - started) / 1000;
  return rows;
}

async function measureEndpoint(ctx: BenchContext, ep: Endpoint, gateway: AppProcess): Promise<BenchRow[]> {
  const { env } = ctx;
  const q = ctx.sizes.queries;
  const rpsRow = { id: `query.${ep.id}.rps`, group: 'queries' as const, measurement: `${ep.label}: req/s @${q.connections} conns`, unit: 'req/s', baselineLabel: 'bare node:http, same body', target: { on: 'ratio' as const, op: '>=' as const, limit: ep.ratioTarget } };
  const p99Row = { id: `query.${ep.id}.p99`, group: 'queries' as const, measurement: `${ep.label}: p99 latency`, unit: 'ms', baselineLabel: 'bare node:http, same body', target: { on: 'value' as const, op: '<=' as const, limit: 10 } };
  if (ep.qchat && !ctx.caps.channels) {
    return [unavailable(rpsRow, ctx.caps.channelsWhy ?? 'channel projection not available'), unavailable(p99Row, 'see above')];
  }
  // the endpoint must answer correctly before it is measured
  const res = await fetchRetry(ep.url, { method: 'POST', body: ep.body, headers: { ...ep.headers, ...(ep.qchat ? env.qchatHeaders() : {}) } });
  const text = await res.text();
  if (res.status !== 200 || !text.includes(ep.expect)) {
    const why = `endpoint not available: HTTP ${res.status} ${text.slice(0, 120)}`;
    return [unavailable(rpsRow, why), unavailable(p99Row, why)];
  }
  const bare = env.startWorker<{ served: number }>('bare-server.worker', { body: text });
  const port = (await bare.ready) as number;
  const base: Omit<LoadInput, 'url'> = {
    body: ep.body,
    headers: ep.headers,
    connections: q.connections,
    warmupSeconds: q.warmupSeconds,
    durationSeconds: q.seconds,
    expect: ep.expect,
    qchat: ep.qchat ? { appKey: env.netease.appKey, appSecret: env.netease.appSecret } : undefined,
  };
  env.log(`queries: ${ep.label}: bare server`);
  const bareResult = await env.startWorker<LoadResult>('load.worker', { ...base, url: `http://127.0.0.1:${port}${new URL(ep.url).pathname}${new URL(ep.url).search}` }).result;
  bare.send('stop');
  await bare.result;
  env.log(`queries: ${ep.label}: gateway`);
  const load = () => env.startWorker<LoadResult>('load.worker', { ...base, url: ep.url }).result;
  // with --profile, only the gateway's own run is profiled (warm-up included)
  const gwResult = env.options.profileDir ? await ctx.profile(gateway, `gateway (${ep.id})`, load) : await load();
  const failures = gwResult.errors + gwResult.timeouts + gwResult.non2xx + gwResult.bad;
  const note = failures ? `${failures} failed responses${gwResult.sampleBad ? `, e.g. ${gwResult.sampleBad.slice(0, 80)}` : ''}` : undefined;
  const details = { responseBytes: Buffer.byteLength(text), gateway: gwResult, bare: bareResult, connections: q.connections, seconds: q.seconds, warmupSeconds: q.warmupSeconds };
  const invalid = failures > gwResult.total * 0.001;
  return [
    row({ ...rpsRow, value: invalid ? null : gwResult.requestsPerSecond, baseline: bareResult.requestsPerSecond, note: note && `${note}${invalid ? ' (not counted)' : ''}`, details: { ...details, p50: gwResult.p50, bareP50: bareResult.p50 } }),
    row({ ...p99Row, value: invalid ? null : gwResult.p99, baseline: bareResult.p99, note, details: { p50: gwResult.p50, bareP50: bareResult.p50 } }),
  ];
}
