import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REFUSAL_CLASSES, type UnreadEvent } from '@app/contracts';
import { LagMonitor } from '../apps/projector/src/lag.monitor';
import { PROM_CLIENT_TOTAL_GAUGES } from '../apps/projector/src/projector.metrics';
import { startProjector, type RunningProjector } from '../apps/projector/src/projector';
import { Harness } from './support/harness';
import { ROOT } from './support/processes';
import { waitFor } from './support/wait';
import { metricSamples } from './support/monitor';

const APP = '1400000001';


function sampleNames(text: string): Set<string> {
  return new Set([...metricSamples(text).keys()].map((k) => k.replace(/\{.*$/, '')));
}

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8', cwd: ROOT });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('operations: projector lag, per-type counts, readiness; promtool; the dashboard', () => {
  let h: Harness;
  let projector: RunningProjector;
  const metricsText = async () => (await fetch(`http://127.0.0.1:${projector.metricsPort}/metrics`)).text();

  // The backlog, produced before any projector runs: 30 one-to-one messages, 10 read acks,
  // 5 registrations, and two records the parser refuses.
  const messages: UnreadEvent[] = Array.from({ length: 30 }, (_, i) => ({
    type: 'message-sent',
    scope: 'c2c',
    appId: APP,
    msgId: `m${i}`,
    from: `peer${i % 6}`,
    to: 'alice',
    time: 1_700_000_000_000 + i,
  }));
  const acks: UnreadEvent[] = Array.from({ length: 10 }, (_, i) => ({
    type: 'read-ack',
    scope: 'c2c',
    appId: APP,
    account: `reader${i}`,
    peer: 'alice',
    readTime: 1_700_000_000_000,
  }));
  const registrations: UnreadEvent[] = Array.from({ length: 5 }, (_, i) => ({ type: 'account-registered', appId: APP, account: `a${i}` }));

  beforeAll(async () => {
    h = await Harness.start({ projector: false, env: { PROJECTOR_MONITOR_INTERVAL_MS: '100' } });
    await h.send(...messages, ...acks, ...registrations);
    await h.producer.sendRaw(h.topics.directory, [
      { key: 'x', value: '{"type":' },
      { key: 'y', value: JSON.stringify({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: 'z', from: 'a', to: 'b', time: 1 }) },
    ]);
  });
  afterAll(async () => {
    await projector?.close();
    await h.stop();
  });

  it('measures the backlog as lag per topic and partition, and the projector brings every partition to 0', async () => {
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      const before = await new LagMonitor(admin, h.config.kafka.consumerGroup, Object.values(h.topics).slice(0, 4)).sample();
      const byTopic = (rows: { topic: string; lag: number }[]) =>
        Object.fromEntries(Object.values(h.topics).slice(0, 4).map((t) => [t, rows.filter((r) => r.topic === t).reduce((s, r) => s + r.lag, 0)]));
      expect(before).toHaveLength(16);
      expect(before.every((r) => r.committed === -1)).toBe(true);
      expect(byTopic(before)).toEqual({
        [h.topics.messageSent]: 30,
        [h.topics.readAck]: 10,
        [h.topics.mention]: 0,
        [h.topics.directory]: 7,
      });
    } finally {
      await admin.disconnect();
    }

    projector = await startProjector(h.config, { logger: false, metricsPort: 0 });
    const lagSeries = (text: string) => [...metricSamples(text)].filter(([k]) => k.startsWith('unread_projector_consumer_lag{'));
    const series = await waitFor(
      async () => lagSeries(await metricsText()),
      (s) => s.length === 16 && s.every(([, v]) => v === 0),
      { timeoutMs: 30_000, intervalMs: 50, what: 'the lag gauge of all 16 partitions to reach 0' },
    );
    expect(series.map(([k]) => k).sort()).toContain(`unread_projector_consumer_lag{topic="${h.topics.messageSent}",partition="0"}`);
  });

  it('counts applied events by type and dead letters by reason class', async () => {
    const s = metricSamples(await metricsText());
    const of = (prefix: string) => Object.fromEntries([...s].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    expect(of('unread_projector_events_applied_total')).toEqual({
      '{type="message-sent/c2c"}': 30,
      '{type="read-ack/c2c"}': 10,
      '{type="account-registered"}': 5,
    });
    expect(of('unread_projector_events_dead_lettered_total')).toEqual(
      Object.fromEntries(REFUSAL_CLASSES.map((c) => [`{reason="${c}"}`, c === 'invalid_json' || c === 'wrong_topic' ? 1 : 0])),
    );
    expect(s.get('unread_projector_redis_ping_seconds_count')).toBeGreaterThan(0);
  });

  it('renders only the metrics named by ?name[]= (unknown names left out), everything without it', async () => {
    const text = await (
      await fetch(`http://127.0.0.1:${projector.metricsPort}/metrics?name[]=unread_projector_events_applied_total&name[]=unread_projector_rewinds_total&name[]=no_such_metric`)
    ).text();
    expect([...sampleNames(text)].sort()).toEqual(['unread_projector_events_applied_total', 'unread_projector_rewinds_total']);
    expect(sampleNames(await metricsText()).size).toBeGreaterThan(20);
  });

  it('answers /ready with 200 while joined and Redis answers, 503 (JSON) while Redis does not', async () => {
    const ready = async () => {
      const res = await fetch(`http://127.0.0.1:${projector.metricsPort}/ready`);
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) };
    };
    expect(await ready()).toEqual({ status: 200, type: 'application/json', body: { ready: true, consumer: 'joined', redis: 'reachable' } });
    await h.redis.call('CLIENT', 'PAUSE', '3000', 'ALL');
    expect(await ready()).toEqual({ status: 503, type: 'application/json', body: { ready: false, consumer: 'joined', redis: 'unreachable' } });
    expect(metricSamples(await metricsText()).get('unread_projector_ready')).toBe(0);
    await waitFor(ready, (r) => r.status === 200, { timeoutMs: 10_000, what: 'ready again after the pause' });
  });

  it('passes promtool check metrics on the real /metrics output of the projector and the gateway', async () => {
    expect(promtool(['check', 'metrics'], await metricsText())).toEqual({ status: 0, output: '' });
    // The gateway (apps/gateway) still exports prom-client's three *_total gauges, which the
    // projector drops (ProjectorMetrics); everything else it exports passes.
    await fetch(`${h.gateway!.url}/v4/openim/get_c2c_unread_msg_num`, { method: 'POST', body: '{}' });
    const gateway = promtool(['check', 'metrics'], await (await fetch(`${h.gateway!.adminUrl}/metrics`)).text());
    const complaints = gateway.output.split('\n').filter(Boolean);
    expect(complaints.filter((c) => !PROM_CLIENT_TOTAL_GAUGES.some((name) => c.startsWith(`${name} `)))).toEqual([]);
  });

  it('draws only metrics the apps export (every name in every panel query is on a real /metrics)', async () => {
    const exported = new Set([...sampleNames(await metricsText()), ...sampleNames(await (await fetch(`${h.gateway!.adminUrl}/metrics`)).text())]);
    const dash = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'unread.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const referenced = new Set(dash.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(?:unread|process|nodejs)_[a-z0-9_]+\b/g) ?? [])));
    expect(referenced.size).toBeGreaterThan(8);
    expect([...referenced].filter((name) => !exported.has(name))).toEqual([]);
    const titles = dash.panels.map((p) => p.title);
    for (const want of ['Ingest', 'lag', 'Batch time', 'Dead letters', 'Gateway requests', 'Gateway p99', 'Change feed: records', 'Change feed lag']) {
      expect(titles.some((t) => t.includes(want))).toBe(true);
    }
  });

  it('passes promtool check config on the compose stack\'s Prometheus configuration', () => {
    const r = promtool(['check', 'config', 'deploy/prometheus/prometheus.yml']);
    expect(r.status).toBe(0);
    expect(r.output).toContain('SUCCESS: deploy/prometheus/prometheus.yml is valid prometheus config file syntax');
  });
});
