import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt } from './private-redis';
import type { Admin, Kafka } from 'kafkajs';
import { PROJECTOR_NODE_FLAGS, type AppConfig } from '@app/config';
import { CONSUMED_TOPIC_ROLES } from '@app/contracts';
import { ROOT, freePort, reapOnExit } from './processes';
import { Harness } from './harness';
import { waitFor } from './wait';
import type { Ev } from './workload';

const MAIN = join(ROOT, 'dist', 'apps', 'projector', 'src', 'main.js');

/** Builds dist/apps/projector when a source is newer than it. */
export function ensureProjectorBuilt(): void {
  ensureBuilt('projector', MAIN);
}

/** The REDIS_* variables of a Redis configuration (the inverse of loadConfig for them; TLS files are not recreated). */
function redisEnv(redis: AppConfig['redis']): Record<string, string> {
  const list = (xs: { host: string; port: number }[]) => xs.map((x) => `${x.host}:${x.port}`).join(',');
  const env: Record<string, string> = {};
  if (redis.url) env.REDIS_URL = redis.url;
  if (redis.clusterNodes?.length) env.REDIS_CLUSTER_NODES = list(redis.clusterNodes);
  if (redis.sentinel) {
    env.REDIS_SENTINELS = list(redis.sentinel.sentinels);
    env.REDIS_SENTINEL_MASTER = redis.sentinel.masterName;
    if (redis.sentinel.username !== undefined) env.REDIS_SENTINEL_USERNAME = redis.sentinel.username;
    if (redis.sentinel.password !== undefined) env.REDIS_SENTINEL_PASSWORD = redis.sentinel.password;
  }
  if (redis.username !== undefined) env.REDIS_USERNAME = redis.username;
  if (redis.password !== undefined) env.REDIS_PASSWORD = redis.password;
  if (redis.db !== undefined) env.REDIS_DB = String(redis.db);
  return env;
}

/** The environment that makes an app read `config` (the inverse of loadConfig, for the fields a projector uses). */
export function envOf(config: AppConfig, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    KAFKA_CLIENT_ID: config.kafka.clientId,
    KAFKA_CONSUMER_GROUP: config.kafka.consumerGroup,
    TOPIC_MESSAGE_SENT: config.kafka.topics.messageSent,
    TOPIC_READ_ACK: config.kafka.topics.readAck,
    TOPIC_MENTION: config.kafka.topics.mention,
    TOPIC_DIRECTORY: config.kafka.topics.directory,
    TOPIC_DEAD_LETTER: config.kafka.topics.deadLetter,
    TOPIC_UNREAD_CHANGED: config.kafka.topics.unreadChanged,
    CHANGE_FEED: String(config.changeFeed.enabled),
    ...redisEnv(config.redis),
    REDIS_KEY_PREFIX: config.redis.keyPrefix,
    MENTION_RETENTION_MS: String(config.mentionRetentionMs),
    C2C_UNREAD_CAP: String(config.c2cUnreadCap),
    GROUP_UNCOUNTED_HORIZON: String(config.groupUncountedHorizon),
    PROJECTOR_COMMIT_INTERVAL_MS: String(config.projector.commitIntervalMs),
    PROJECTOR_MAX_IN_FLIGHT_EVENTS: String(config.projector.maxInFlightEvents),
    LOG_LEVEL: process.env.DEBUG_PROJECTOR ? 'warn' : 'fatal',
    ...overrides,
  };
}

/** A projector running as its own process (node dist/apps/projector/src/main.js), as in production. */
export class ProjectorProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly metricsPort: number,
  ) {}

  static async start(config: AppConfig): Promise<ProjectorProcess> {
    const metricsPort = await freePort();
    const child = reapOnExit(
      spawn(process.execPath, [...PROJECTOR_NODE_FLAGS, MAIN], {
        env: envOf(config, { PROJECTOR_METRICS_PORT: String(metricsPort) }),
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
    const p = new ProjectorProcess(child, metricsPort);
    await waitFor(() => p.metric('unread_projector_events_applied_total').then(() => true), Boolean, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'the projector process to serve /metrics',
    });
    return p;
  }

  /** The value of a counter on /metrics (summed over labels). */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.split(' ').pop());
    }
    return sum;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** SIGKILL: no shutdown hook runs, nothing in flight is finished or committed. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await gone;
  }

  /** SIGTERM: finishes the batch in flight and leaves the group. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await gone;
  }
}

/** Committed offsets of a group and high watermarks of the consumed topics, as "topic:partition" → offset. */
export async function offsets(admin: Admin, config: AppConfig, groupId = config.kafka.consumerGroup): Promise<{ committed: Record<string, number>; high: Record<string, number> }> {
  const topics = CONSUMED_TOPIC_ROLES.map((r) => config.kafka.topics[r]);
  const committed: Record<string, number> = {};
  const high: Record<string, number> = {};
  for (const t of await admin.fetchOffsets({ groupId, topics })) {
    for (const p of t.partitions) committed[`${t.topic}:${p.partition}`] = Math.max(0, Number(p.offset));
  }
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) high[`${topic}:${p.partition}`] = Number(p.high);
  }
  return { committed, high };
}

/** Waits until `groupId` has committed every record of the consumed topics. */
export async function drainedGroup(kafka: Kafka, config: AppConfig, groupId = config.kafka.consumerGroup, timeoutMs = 30_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const { committed, high } = await offsets(admin, config, groupId);
        const behind = Object.entries(high).find(([k, h]) => (committed[k] ?? 0) < h);
        return behind ? `${behind[0]} committed ${committed[behind[0]] ?? 0} of ${behind[1]}` : 'drained';
      },
      (state) => state === 'drained',
      { timeoutMs, intervalMs: 50, what: `group ${groupId} to commit every record` },
    );
  } finally {
    await admin.disconnect();
  }
}

/** Sends `events` (and adds them to `sent`, the test's record of what it sent), then waits for the group to commit everything. */
export async function sendDrained(h: { send(...events: Ev[]): Promise<unknown>; kafka: Kafka; config: AppConfig }, sent: Ev[], events: Ev[]): Promise<void> {
  sent.push(...events);
  await h.send(...events);
  await drainedGroup(h.kafka, h.config);
}

/** A harness without in-process apps (the test runs projector processes from dist/, rebuilt when stale) and a connected admin client. */
export async function processHarness(): Promise<{ h: Harness; admin: Admin }> {
  ensureProjectorBuilt();
  const h = await Harness.start({ projector: false, gateway: false });
  const admin = h.kafka.admin();
  await admin.connect();
  return { h, admin };
}
