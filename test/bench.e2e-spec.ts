import Redis from 'ioredis';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MEASUREMENTS, parseBenchArgs, runBench } from '../apps/tools/src/bench/bench.command';
import type { BenchReport, BenchRow } from '../apps/tools/src/bench/bench-result';
import { redisWork } from '../apps/tools/src/bench/redis-work';
import { markdownTable, svgChart, writeResults } from '../apps/tools/src/bench/report';
import { privateRedis } from './support/private-redis';

/**
 * Smoke test of `npm run bench`: a tiny version of every measurement (own broker, Redis,
 * projector and gateway processes from dist — `npm test` builds dist first), checking the
 * report's shape and that every measurement produced figures. Performance numbers are not
 * asserted: the machine is shared.
 */
describe('bench (tiny run)', () => {
  let report: BenchReport;
  let out: string;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'unread-bench-test-'));
    report = await runBench({ ...parseBenchArgs(['--tiny', '--out', out], {}), verbose: false });
  }, 240_000);
  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
  });

  const byId = (id: string): BenchRow => {
    const r = report.rows.find((x) => x.id === id);
    if (!r) throw new Error(`no row ${id} in ${report.rows.map((x) => x.id).join(', ')}`);
    return r;
  };

  it('states the machine it ran on and that everything shares its cores', () => {
    expect(report.mode).toBe('tiny');
    expect(report.environment.cpus).toBeGreaterThan(0);
    expect(report.environment.sharing).toContain(`share these ${report.environment.cpus} cores`);
    expect(typeof report.environment.cpuModel).toBe('string');
  });

  it('has every measurement row of the issue, each with a value, a baseline where one exists, and a verdict', () => {
    expect(report.rows.map((r) => r.id)).toEqual([
      'ingest',
      'ingest-c2c',
      'ingest-c2c-naive',
      'ingest-c2c-feed',
      'ingest-c2c-feed-floor',
      'cpu.projector.c2c',
      'cpu.projector.mixed',
      'freshness.p50',
      'freshness.p99',
      'freshness.p99.ratio',
      'query.c2c-total.rps',
      'query.c2c-total.bare',
      'query.c2c-total.p99',
      'query.c2c-total.p99.ratio',
      'query.c2c-total.cpu',
      'query.c2c-total.redis-commands',
      'query.c2c-peers.rps',
      'query.c2c-peers.bare',
      'query.c2c-peers.p99',
      'query.c2c-peers.p99.ratio',
      'query.c2c-peers.cpu',
      'query.c2c-peers.redis-commands',
      'query.group-list.rps',
      'query.group-list.bare',
      'query.group-list.p99',
      'query.group-list.p99.ratio',
      'query.group-list.cpu',
      'query.group-list.redis-commands',
      'query.qchat-mentions.rps',
      'query.qchat-mentions.bare',
      'query.qchat-mentions.p99',
      'query.qchat-mentions.p99.ratio',
      'query.qchat-mentions.cpu',
      'query.qchat-mentions.redis-commands',
      'reads.group-list-many.redis-commands',
      'reads.group-list-many.redis-cpu',
      'reads.summary-channels.redis-commands',
      'reads.summary-channels.redis-cpu',
      'reads.summary-channels.bytes',
      'reads.batch-groups.redis-commands',
      'reads.batch-groups.redis-cpu',
      'reads.batch-unknown.redis-commands',
      'reads.batch-unknown.redis-cpu',
      'reads.batch-peers.bytes',
      'reads.batch-peers.redis-cpu',
      'scale.group-message',
      'scale.c2c-memory',
      'scale.mention-memory',
      'scale.group-recall',
      'scale.year-memory',
      'cost.redis.c2c-msg',
      'cost.redis.c2c-ack',
      'cost.redis.group-msg',
      'cost.redis.group-ack',
      'cost.redis.mention',
      'cost.redis.channel-msg',
      'cost.redis.channel-ack',
      'cost.redis.directory',
      'cost.alone.c2c-msg',
      'cost.alone.c2c-ack',
      'cost.alone.group-msg',
      'cost.alone.group-ack',
      'cost.alone.mention',
      'cost.alone.channel-msg',
      'cost.alone.channel-ack',
      'cost.alone.directory',
      'cost.bytes.group-member',
    ]);
    for (const r of report.rows) {
      expect(r.note ?? '').not.toMatch(/not available|failed/);
      expect(typeof r.value).toBe('number');
      expect(['yes', 'no', 'n/a']).toContain(r.met);
      expect(r.met === 'n/a').toBe(r.target === null);
    }
    for (const id of ['ingest', 'ingest-c2c', 'ingest-c2c-naive', 'freshness.p99.ratio', 'query.c2c-total.rps', 'query.group-list.rps', 'query.qchat-mentions.rps', 'query.c2c-total.cpu', 'query.qchat-mentions.cpu', 'scale.group-message']) {
      const r = byId(id);
      expect(r.baseline).toBeGreaterThan(0);
      expect(r.ratio).toBeCloseTo(r.value! / r.baseline!, 6);
    }
    // the gateway's CPU per request, with Redis's beside it
    expect(byId('query.qchat-mentions.cpu').details).toMatchObject({ redisMicrosPerRequest: expect.any(Number), profiled: false });
    expect(byId('query.qchat-mentions.redis-commands').details).toMatchObject({ usecPerRequest: { evalsha: expect.any(Number) } });
    expect(byId('ingest').details).toMatchObject({ projector: { cpuMicrosPerEvent: expect.any(Number) } });
    // the projector's CPU targets, against the baselines' CPU measured in the same run
    for (const id of ['cpu.projector.c2c', 'cpu.projector.mixed']) expect(byId(id).baseline).toBeGreaterThan(0);
    // the feed's floor: as many records as the feed wrote, by a plain producer; the bound it puts on the feed-on/off ratio
    const floor = byId('ingest-c2c-feed-floor');
    const fd = floor.details as { records: number; recordsPerEvent: number; plainProducer: { records: number; cpuMicrosPerRecord: number }; bestFeedRatio: number };
    expect(fd.records).toBeGreaterThan(0);
    expect(fd.plainProducer.records).toBe(fd.records);
    expect(fd.plainProducer.cpuMicrosPerRecord).toBeGreaterThan(0);
    const withoutFeed = byId('cpu.projector.c2c').value!; // may be 0 in a tiny run (/proc counts CPU in 10 ms ticks)
    expect(floor.baseline).toBeCloseTo(withoutFeed + fd.recordsPerEvent * fd.plainProducer.cpuMicrosPerRecord, 6);
    const rateWithout = byId('ingest-c2c').value!; // 0 when a tiny run's backlog fits in one batch: no bound then
    expect(fd.bestFeedRatio).toBeCloseTo(floor.baseline! > 0 && rateWithout > 0 ? Math.min(1, 1e6 / floor.baseline! / rateWithout) : 0, 6);
    expect(byId('cost.redis.c2c-msg').value).toBeGreaterThan(0);
    // folded cost as a ratio to the same script called alone, pipelined, in the same run
    expect(byId('cost.redis.c2c-msg').baseline).toBe(byId('cost.alone.c2c-msg').value);
    expect(byId('cost.alone.c2c-msg').value).toBeGreaterThan(0);
    expect(byId('cost.alone.c2c-msg').details).toMatchObject({ scriptCalls: 200, commandstats: expect.arrayContaining([expect.objectContaining({ cmd: 'evalsha', calls: 200 })]) });
    expect(byId('cost.bytes.group-member').value).toBeGreaterThan(0);
    expect(byId('query.c2c-total.rps').baselineLabel).toBe('NestJS platform-express floor route, same body');
    expect(byId('query.c2c-total.bare').baselineLabel).toBe('bare node:http, same body');
    expect(byId('scale.c2c-memory').value).toBeGreaterThan(0);
    // the reads' Redis work (each answer was checked against its fixture before it was measured):
    // commands per call are the sum of the breakdown in the note, CPU and bytes figures of work done
    for (const id of ['group-list-many', 'summary-channels', 'batch-groups', 'batch-unknown']) {
      const commands = byId(`reads.${id}.redis-commands`);
      const d = commands.details as { commands: number; byCommand: Record<string, number>; bytesOut: number; cpuMs: number; responseBytes: number };
      expect(commands.value).toBeGreaterThan(0);
      expect(commands.value).toBe(d.commands);
      const listed = [...(commands.note ?? '').matchAll(/([a-z|_-]+) ([0-9.]+)/g)].reduce((a, m) => a + Number(m[2]), 0);
      expect(Math.abs(listed - commands.value!)).toBeLessThan(0.05 * Object.keys(d.byCommand).length + 0.01);
      expect(d.bytesOut).toBeGreaterThan(0);
      expect(d.responseBytes).toBeGreaterThan(0);
      expect(byId(`reads.${id}.redis-cpu`).value).toBe(d.cpuMs);
      expect(d.cpuMs).toBeGreaterThanOrEqual(0);
    }
    const many = byId('reads.group-list-many.redis-commands');
    expect(many.baseline).toBeGreaterThan(0);
    expect(many.ratio).toBeCloseTo(many.value! / many.baseline!, 6);
    // the totals' batch: bytes from Redis against the same batch of one-peer accounts (both answers were checked)
    const peers = byId('reads.batch-peers.bytes');
    expect(peers.value).toBe(Math.round((peers.details as { bytesOut: number }).bytesOut));
    expect(peers.baseline).toBeGreaterThan(0);
    expect(peers.ratio).toBeCloseTo(peers.value! / peers.baseline!, 6);
    expect(byId('reads.summary-channels.bytes').value).toBeCloseTo((byId('reads.summary-channels.redis-commands').details as { bytesOut: number }).bytesOut / 1024, 1);
    // the rows that carry a target, and each row's verdict is what its target says of its figure
    for (const id of ['ingest', 'ingest-c2c', 'ingest-c2c-naive', 'freshness.p99.ratio', 'cpu.projector.c2c', 'cpu.projector.mixed', 'cost.redis.c2c-msg', 'cost.redis.group-msg', 'cost.redis.mention', 'cost.redis.channel-ack', 'freshness.p99', 'query.c2c-total.rps', 'query.c2c-peers.p99', 'query.group-list.rps', 'query.qchat-mentions.p99', 'query.c2c-total.redis-commands', 'reads.group-list-many.redis-commands', 'reads.summary-channels.redis-cpu', 'reads.summary-channels.bytes', 'reads.batch-groups.redis-commands', 'reads.batch-unknown.redis-commands', 'reads.batch-peers.bytes', 'scale.group-message', 'scale.c2c-memory']) expect(byId(id).target).not.toBeNull();
    for (const r of report.rows) {
      const x = r.target ? (r.target.on === 'ratio' ? r.ratio : r.value) : undefined;
      const verdict = !r.target ? 'n/a' : x === null || x === undefined || !Number.isFinite(x) ? 'no' : (r.target.op === '>=' ? x >= r.target.limit : x <= r.target.limit) ? 'yes' : 'no';
      expect([r.id, r.met]).toEqual([r.id, verdict]);
    }
  });

  it('writes the JSON (timestamped and latest), an SVG chart and a Markdown table', () => {
    const paths = writeResults(report, out);
    expect(JSON.parse(readFileSync(paths.latest, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    expect(existsSync(paths.json)).toBe(true);
    const svg = readFileSync(paths.svg, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('get_c2c_unread_msg_num (total): req/s @4 conns');
    expect(svg).toContain('>Freshness p99<');
    expect(svgChart(report)).toBe(svg);
    const table = markdownTable(report.rows).split('\n');
    expect(table[0]).toBe('| measurement | value | baseline | ratio | target | met |');
    expect(table).toHaveLength(report.rows.length + 2);
  });

  it('parses its flags and refuses unknown ones', () => {
    expect(parseBenchArgs(['--quick', '--only', 'ingest,scale'], { BENCH_REDIS_URL: 'redis://h:1' })).toMatchObject({
      mode: 'quick',
      only: ['ingest', 'scale'],
      redisUrl: 'redis://h:1',
      profile: false,
    });
    expect(parseBenchArgs([], {}).only).toEqual([...MEASUREMENTS]);
    expect(() => parseBenchArgs(['--only', 'nope'], {})).toThrow(/unknown measurement nope/);
    expect(() => parseBenchArgs(['--fast'], {})).toThrow(/unknown option --fast/);
    // the fetch sweep runs only when asked for; the projector's fetch settings can be overridden
    expect(parseBenchArgs(['--only', 'fetch'], {}).only).toEqual(['fetch']);
    expect(parseBenchArgs(['--projector-fetch', '{"partitionsConsumedConcurrently":1}'], {}).projectorFetch).toBe('{"partitionsConsumedConcurrently":1}');
    expect(parseBenchArgs([], { BENCH_PROJECTOR_FETCH: '{"maxWaitTimeInMs":20}' }).projectorFetch).toBe('{"maxWaitTimeInMs":20}');
    expect(() => parseBenchArgs(['--projector-fetch', '{"maxBytes":1}'], {})).toThrow(/only maxWaitTimeInMs and partitionsConsumedConcurrently/);
  });
});

/**
 * The reads' measuring helper against work known in advance: per call a SET, a GET of 1,000
 * bytes and a script running two INCRs, from a client of its own (as the gateway is), on
 * a private Redis.
 */
describe('redisWork (the reads rows\' Redis readings)', () => {
  const fixture = privateRedis();

  it('counts the commands run, those inside Lua too, and the bytes sent, per call', async () => {
    const client = new Redis(fixture.server.url);
    try {
      // connected and past ioredis's ready check (an INFO, whose reply would count as idle or measured bytes)
      await client.ping();
      const value = 'x'.repeat(1_000);
      const work = await redisWork(fixture.redis, 10, async () => {
        await client.set('k', value);
        expect(await client.get('k')).toBe(value);
        await client.eval("redis.call('INCR', KEYS[1]); return redis.call('INCR', KEYS[1])", 1, 'n');
      }, 200);
      expect(work.byCommand).toEqual({ set: 1, get: 1, eval: 1, incr: 2 });
      expect(work.commands).toBe(5);
      // +OK, the 1,000-byte bulk string and its header, the script's integer (:2 … :20)
      expect(work.bytesOut).toBeGreaterThanOrEqual(5 + 1_009 + 4);
      expect(work.bytesOut).toBeLessThanOrEqual(5 + 1_009 + 5);
      expect(work.cpuMs).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });
});
