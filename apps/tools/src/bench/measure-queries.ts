import type { BenchContext } from './bench-context';
import type { AppProcess } from './bench-env';
import { row, unavailable, type BenchRow } from './bench-result';
import { FIXTURE } from './event-stream';
import type { LoadInput, LoadResult } from './load.worker';
import { commandStats, fetchRetry, processCpuSeconds, redisCpuSeconds, type CommandCounters } from './stats';

interface Endpoint {
  id: string;
  label: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  expect: string;
  qchat: boolean;
  /** Against the framework floor (a Nest route on platform-express answering the same bytes). */
  ratioTarget: number;
  p99Target: number;
  /** Target on the p99 against the floor's p99 in the same run, where one is set. */
  p99RatioTarget?: number;
  /** Target on Redis commands per request, where one is set. */
  commandsTarget?: number;
}

/** How long Redis's background command rate is sampled before each gateway run. */
const IDLE_SAMPLE_MS = 2_000;

/** What each command did between two commandstats readings (every command but INFO itself). */
function commandDelta(before: Map<string, CommandCounters>, after: Map<string, CommandCounters>): Map<string, CommandCounters> {
  const d = new Map<string, CommandCounters>();
  for (const [k, v] of after) {
    const b = before.get(k) ?? { calls: 0, usec: 0 };
    if (k !== 'info' && v.calls > b.calls) d.set(k, { calls: v.calls - b.calls, usec: v.usec - b.usec });
  }
  return d;
}

/** The calls of a commandDelta, by command (what the rows' details hold). */
function callsOf(d: Map<string, CommandCounters>): Record<string, number> {
  return Object.fromEntries([...d].map(([k, v]) => [k, v.calls]));
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
      ratioTarget: 0.85,
      p99Target: 10,
      p99RatioTarget: 1.5,
      commandsTarget: 1,
    },
    {
      id: 'c2c-peers',
      label: 'get_c2c_unread_msg_num (10 peers)',
      url: env.tencentUrl(gw.url, 'openim/get_c2c_unread_msg_num'),
      body: JSON.stringify({ To_Account: FIXTURE.c2cOwner, Peer_Account: ctx.world.c2cPeers }),
      headers: json,
      expect: '"ActionStatus":"OK"',
      qchat: false,
      ratioTarget: 0.8,
      p99Target: 10,
    },
    {
      id: 'group-list',
      label: `get_joined_group_list + UnreadMsgNum (${ctx.world.queryGroups().length} groups)`,
      url: env.tencentUrl(gw.url, 'group_open_http_svc/get_joined_group_list'),
      body: JSON.stringify({ Member_Account: FIXTURE.groupMember, ResponseFilter: { SelfInfoFilter: ['UnreadMsgNum'] } }),
      headers: json,
      expect: '"ActionStatus":"OK"',
      qchat: false,
      ratioTarget: 0.6,
      p99Target: 10,
      p99RatioTarget: 1.5,
    },
    {
      id: 'qchat-mentions',
      label: `queryChannelUnReadMentionedMsgPage (3 roles, ${ctx.world.spec.queryMentions} unread, limit 200)`,
      url: `${gw.url}/nimserver/qchat/queryChannelUnReadMentionedMsgPage.action`,
      body: new URLSearchParams({ accid: FIXTURE.mentioned, serverId: FIXTURE.serverId, channelId: FIXTURE.queryChannel, limit: '200' }).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' },
      expect: '"code":200',
      qchat: true,
      ratioTarget: 0.5,
      p99Target: 25,
      p99RatioTarget: 1.5,
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
  const floorLabel = 'NestJS platform-express floor route, same body';
  const rpsRow = { id: `query.${ep.id}.rps`, group: 'queries' as const, measurement: `${ep.label}: req/s @${q.connections} conns`, unit: 'req/s', baselineLabel: floorLabel, target: { on: 'ratio' as const, op: '>=' as const, limit: ep.ratioTarget } };
  const bareRow = { id: `query.${ep.id}.bare`, group: 'queries' as const, measurement: `${ep.label}: req/s vs bare node:http`, unit: 'req/s', baselineLabel: 'bare node:http, same body', target: null };
  const p99Row = { id: `query.${ep.id}.p99`, group: 'queries' as const, measurement: `${ep.label}: p99 latency`, unit: 'ms', baselineLabel: floorLabel, target: { on: 'value' as const, op: '<=' as const, limit: ep.p99Target } };
  const p99RatioRow = {
    id: `query.${ep.id}.p99.ratio`,
    group: 'queries' as const,
    measurement: `${ep.label}: p99 latency against the floor's (same run)`,
    unit: 'ms',
    baselineLabel: floorLabel,
    target: ep.p99RatioTarget === undefined ? null : { on: 'ratio' as const, op: '<=' as const, limit: ep.p99RatioTarget },
  };
  const cpuRow = {
    id: `query.${ep.id}.cpu`,
    group: 'queries' as const,
    measurement: `${ep.label}: gateway CPU per request against the floor route's (same run; Redis's own CPU in details)`,
    unit: 'µs/req',
    baselineLabel: 'the NestJS floor process, same load',
    target: null,
  };
  const cmdRow = { id: `query.${ep.id}.redis-commands`, group: 'queries' as const, measurement: `${ep.label}: Redis commands per request (INFO commandstats)`, unit: 'commands', baselineLabel: '—', target: ep.commandsTarget === undefined ? null : { on: 'value' as const, op: '<=' as const, limit: ep.commandsTarget } };
  if (ep.qchat && !ctx.caps.channels) {
    const why = ctx.caps.channelsWhy ?? 'channel projection not available';
    return [unavailable(rpsRow, why), unavailable(bareRow, why), unavailable(p99Row, 'see above'), unavailable(p99RatioRow, 'see above'), unavailable(cpuRow, 'see above'), unavailable(cmdRow, 'see above')];
  }
  // the endpoint must answer correctly before it is measured
  const res = await fetchRetry(ep.url, { method: 'POST', body: ep.body, headers: { ...ep.headers, ...(ep.qchat ? env.qchatHeaders() : {}) } });
  const text = await res.text();
  if (res.status !== 200 || !text.includes(ep.expect)) {
    const why = `endpoint not available: HTTP ${res.status} ${text.slice(0, 120)}`;
    return [unavailable(rpsRow, why), unavailable(bareRow, why), unavailable(p99Row, why), unavailable(p99RatioRow, why), unavailable(cpuRow, why), unavailable(cmdRow, why)];
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
  const path = new URL(ep.url).pathname;
  const floor = env.startWorker<{ served: number }>('nest-floor.worker', { path, body: text });
  const floorPort = (await floor.ready) as number;
  env.log(`queries: ${ep.label}: NestJS floor`);
  const floorCpu0 = processCpuSeconds(floor.child.pid ?? -1);
  const floorResult = await env.startWorker<LoadResult>('load.worker', { ...base, url: `http://127.0.0.1:${floorPort}${path}${new URL(ep.url).search}` }).result;
  const floorCpu = processCpuSeconds(floor.child.pid ?? -1) - floorCpu0;
  floor.send('stop');
  await floor.result;
  env.log(`queries: ${ep.label}: gateway`);
  const load = () => env.startWorker<LoadResult>('load.worker', { ...base, url: ep.url }).result;
  // What Redis executes with no request at all (generation pointer reads, idle apps), per
  // second, so the per-request figure counts only what requests cost.
  const idleStart = await commandStats(env.redis);
  const idleFrom = Date.now();
  await new Promise((r) => setTimeout(r, IDLE_SAMPLE_MS));
  const idle = commandDelta(idleStart, await commandStats(env.redis));
  const idleMs = Date.now() - idleFrom;
  const before = await commandStats(env.redis);
  const gwCpu0 = processCpuSeconds(gateway.pid);
  const redisCpu0 = await redisCpuSeconds(env.redis);
  const loadFrom = Date.now();
  // with --profile, only the gateway's own run is profiled (warm-up included)
  const gwResult = env.options.profileDir ? await ctx.profile(gateway, `gateway (${ep.id})`, load) : await load();
  const loadMs = Date.now() - loadFrom;
  const gwCpu = processCpuSeconds(gateway.pid) - gwCpu0;
  const redisCpu = (await redisCpuSeconds(env.redis)) - redisCpu0;
  const commands = commandDelta(before, await commandStats(env.redis));
  const answered = Math.max(1, gwResult.total + gwResult.warmupTotal);
  const perCommand: Record<string, number> = {};
  const usecPerRequest: Record<string, number> = {};
  for (const [name, n] of commands) {
    const quiet = idle.get(name) ?? { calls: 0, usec: 0 };
    const calls = (n.calls - (quiet.calls * loadMs) / idleMs) / answered;
    const usec = (n.usec - (quiet.usec * loadMs) / idleMs) / answered;
    if (calls >= 0.005) perCommand[name] = Math.round(calls * 100) / 100;
    if (usec >= 0.05) usecPerRequest[name] = Math.round(usec * 10) / 10;
  }
  const perRequest = Object.values(perCommand).reduce((a, b) => a + b, 0);
  const breakdown = Object.entries(perCommand)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const failures = gwResult.errors + gwResult.timeouts + gwResult.non2xx + gwResult.bad;
  const note = failures ? `${failures} failed responses${gwResult.sampleBad ? `, e.g. ${gwResult.sampleBad.slice(0, 80)}` : ''}` : undefined;
  const details = { responseBytes: Buffer.byteLength(text), gateway: gwResult, floor: floorResult, bare: bareResult, connections: q.connections, seconds: q.seconds, warmupSeconds: q.warmupSeconds };
  const invalid = failures > gwResult.total * 0.001;
  // CPU per answered request, warm-up included on both sides (each process's whole load run).
  const perReq = (cpuSeconds: number, answeredRequests: number) => Math.round((cpuSeconds * 1e6 * 10) / Math.max(1, answeredRequests)) / 10;
  const floorAnswered = floorResult.total + floorResult.warmupTotal;
  const cpuDetails = { gatewayCpuSeconds: gwCpu, floorCpuSeconds: floorCpu, redisCpuSeconds: redisCpu, redisMicrosPerRequest: perReq(redisCpu, answered), profiled: Boolean(env.options.profileDir) };
  return [
    row({ ...rpsRow, value: invalid ? null : gwResult.requestsPerSecond, baseline: floorResult.requestsPerSecond, note: note && `${note}${invalid ? ' (not counted)' : ''}`, details: { ...details, p50: gwResult.p50, floorP50: floorResult.p50 } }),
    row({ ...bareRow, value: invalid ? null : gwResult.requestsPerSecond, baseline: bareResult.requestsPerSecond, details: { floorVsBare: floorResult.requestsPerSecond / bareResult.requestsPerSecond } }),
    row({ ...p99Row, value: invalid ? null : gwResult.p99, baseline: floorResult.p99, note, details: { p50: gwResult.p50, floorP50: floorResult.p50 } }),
    row({ ...p99RatioRow, value: invalid ? null : gwResult.p99, baseline: floorResult.p99, note }),
    row({ ...cpuRow, value: invalid || !Number.isFinite(gwCpu) ? null : perReq(gwCpu, answered), baseline: Number.isFinite(floorCpu) ? perReq(floorCpu, floorAnswered) : null, details: cpuDetails }),
    row({ ...cmdRow, value: Math.round(perRequest * 100) / 100, baseline: null, note: `executed, Lua-internal included: ${breakdown}`, details: { byCommand: callsOf(commands), usecPerRequest, idle: callsOf(idle), idleMs, loadMs, requests: answered } }),
  ];
}
