import { readFileSync } from 'node:fs';
import type { BenchReport } from './bench/bench-result';

/** What the sizing model takes from a benchmark run (bench/results/*.json). */
export interface MeasuredCosts {
  /** The projector's own CPU per event (µs), mixed stream and c2c backlog. */
  projectorMicros: { mixed: number; c2c: number };
  /** Redis CPU per event (µs) by kind (cost.redis.* rows). */
  redisMicros: Record<string, number>;
  /** Redis bytes per element. */
  bytes: { c2cUnread: number; mention: number; groupMember: number };
  source: string;
}

/** A deployment to size: event rates by kind (per second) and what Redis keeps. */
export interface Load {
  name: string;
  accounts: number;
  rates: Record<string, number>;
  /** Unread one-to-one messages held per account on average. */
  unreadPerAccount: number;
  /** Group memberships per account on average. */
  groupsPerAccount: number;
  /** Mentions stored per second (kept for the retention period). */
  mentionRetentionDays: number;
}

export interface Sizing {
  load: Load;
  eventsPerSecond: number;
  projectorCores: number;
  projectorReplicas: number;
  partitionsPerTopic: number;
  redisCores: number;
  memoryGB: number;
  shardsForCpu: number;
  shardsForMemory: number;
  redisShards: number;
  firstLimit: string;
}

/** Planning limits: how much of a resource a deployment should plan to use. */
export const LIMITS = {
  /** Of a projector core (headroom for catching up after an outage). */
  projectorUtilisation: 0.6,
  /** Of a Redis shard's main thread (headroom for failover, rebuilds and reads). */
  redisUtilisation: 0.5,
  /** Data per Redis shard (GB), e.g. a 32 GB node with room for replication buffers and fork. */
  shardMemoryGB: 24,
  /** Kafka partitions per projector replica and topic, so replicas can be added without repartitioning. */
  partitionsPerReplica: 2,
} as const;

export function costsFromReport(report: BenchReport, source: string): MeasuredCosts {
  const row = (id: string) => report.rows.find((r) => r.id === id);
  const value = (id: string) => {
    const v = row(id)?.value;
    if (typeof v !== 'number') throw new Error(`${source} has no value for ${id}: run npm run bench (full, all measurements)`);
    return v;
  };
  const projector = (id: string) => {
    const v = (row(id)?.details as { projector?: { cpuMicrosPerEvent?: number } } | undefined)?.projector?.cpuMicrosPerEvent;
    if (typeof v !== 'number' || !(v > 0)) throw new Error(`${source} has no projector CPU for ${id}`);
    return v;
  };
  const redisMicros: Record<string, number> = {};
  for (const r of report.rows) if (r.id.startsWith('cost.redis.') && typeof r.value === 'number') redisMicros[r.id.slice('cost.redis.'.length)] = r.value;
  return {
    projectorMicros: { mixed: projector('ingest'), c2c: projector('ingest-c2c') },
    redisMicros,
    bytes: { c2cUnread: value('scale.c2c-memory'), mention: value('scale.mention-memory'), groupMember: value('cost.bytes.group-member') },
    source,
  };
}

export function size(load: Load, c: MeasuredCosts): Sizing {
  const eventsPerSecond = Object.values(load.rates).reduce((a, b) => a + b, 0);
  const projectorCores = (eventsPerSecond * c.projectorMicros.mixed) / 1e6;
  const projectorReplicas = Math.max(1, Math.ceil(projectorCores / LIMITS.projectorUtilisation));
  let redisCores = 0;
  for (const [kind, rate] of Object.entries(load.rates)) {
    const micros = c.redisMicros[kind];
    if (micros === undefined) throw new Error(`no Redis cost measured for ${kind}`);
    redisCores += (rate * micros) / 1e6;
  }
  const mentionsKept = (load.rates.mention ?? 0) * load.mentionRetentionDays * 86_400;
  const bytes =
    load.accounts * load.unreadPerAccount * c.bytes.c2cUnread +
    load.accounts * load.groupsPerAccount * c.bytes.groupMember +
    mentionsKept * c.bytes.mention;
  const memoryGB = bytes / 1e9;
  const shardsForCpu = Math.ceil(redisCores / LIMITS.redisUtilisation);
  const shardsForMemory = Math.ceil(memoryGB / LIMITS.shardMemoryGB);
  const redisShards = Math.max(1, shardsForCpu, shardsForMemory);
  const partitionsPerTopic = Math.max(4, projectorReplicas * LIMITS.partitionsPerReplica);
  const pressures: [string, number][] = [
    ['Redis memory', memoryGB / LIMITS.shardMemoryGB],
    ['Redis CPU', redisCores / LIMITS.redisUtilisation],
    ['projector CPU', projectorCores / LIMITS.projectorUtilisation],
  ];
  pressures.sort((a, b) => b[1] - a[1]);
  const firstLimit = pressures[0]![1] < 1 ? `nothing (largest: ${pressures[0]![0]}, ${(pressures[0]![1] * 100).toFixed(0)} % of one unit)` : pressures[0]![0];
  return { load, eventsPerSecond, projectorCores, projectorReplicas, partitionsPerTopic, redisCores, memoryGB, shardsForCpu, shardsForMemory, redisShards, firstLimit };
}

/**
 * The three worked sizes of docs/capacity.md. Rates are by the bench's event kinds; the
 * split of messages into one-to-one and group, and of reads per message, are assumptions
 * written next to each size in the doc.
 */
export const SIZES: Load[] = [
  {
    name: 'small app: 100k accounts, 50 msgs/s',
    accounts: 100_000,
    rates: { 'c2c-msg': 30, 'group-msg': 20, 'c2c-ack': 15, 'group-ack': 10, directory: 1 },
    unreadPerAccount: 10,
    groupsPerAccount: 5,
    mentionRetentionDays: 7,
  },
  {
    name: 'large app: 10M daily actives (30M accounts), 20k msgs/s with group fan-in',
    accounts: 30_000_000,
    rates: { 'c2c-msg': 8_000, 'group-msg': 12_000, 'c2c-ack': 4_000, 'group-ack': 6_000, mention: 100, 'channel-msg': 500, 'channel-ack': 500, directory: 50 },
    unreadPerAccount: 5,
    groupsPerAccount: 20,
    mentionRetentionDays: 7,
  },
  {
    name: 'very large: 200M accounts, 300k events/s',
    accounts: 200_000_000,
    rates: { 'c2c-msg': 100_000, 'group-msg': 90_000, 'c2c-ack': 50_000, 'group-ack': 45_000, mention: 1_000, 'channel-msg': 6_000, 'channel-ack': 6_000, directory: 2_000 },
    unreadPerAccount: 5,
    groupsPerAccount: 20,
    mentionRetentionDays: 7,
  },
];

const n = (x: number, digits = 1) => x.toLocaleString('en-US', { maximumFractionDigits: digits });

/** The sizing table for a benchmark result file, as Markdown. */
export function capacityReport(file: string): string {
  const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
  const c = costsFromReport(report, file);
  const lines = [
    `From ${file} (${report.startedAt}, ${report.mode} run): projector ${n(c.projectorMicros.mixed)} µs CPU per event (mixed stream; ${n(c.projectorMicros.c2c)} µs on the c2c backlog);`,
    `Redis µs per event: ${Object.entries(c.redisMicros).map(([k, v]) => `${k} ${n(v)}`).join(', ')};`,
    `Redis bytes: ${n(c.bytes.c2cUnread, 0)} per unread one-to-one message, ${n(c.bytes.groupMember, 0)} per group member record, ${n(c.bytes.mention, 0)} per stored mention.`,
    '',
    '| size | events/s | projector cores | projector replicas | partitions per topic | Redis CPU (cores) | Redis memory (GB) | shards for CPU / memory | Redis shards (+1 replica each) | runs out first |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const load of SIZES) {
    const s = size(load, c);
    lines.push(
      `| ${load.name} | ${n(s.eventsPerSecond, 0)} | ${n(s.projectorCores, 2)} | ${s.projectorReplicas} | ${s.partitionsPerTopic} | ${n(s.redisCores, 2)} | ${n(s.memoryGB, 1)} | ${s.shardsForCpu} / ${s.shardsForMemory} | ${s.redisShards} | ${s.firstLimit} |`,
    );
  }
  return lines.join('\n');
}
