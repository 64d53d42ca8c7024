import { fork, spawn, type ChildProcess, type Serializable } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { PROJECTOR_NODE_FLAGS, loadConfig } from '@app/config';
import { CONSUMED_TOPIC_ROLES, DEFAULT_TOPICS, type TopicNames, type UnreadEvent } from '@app/contracts';
import { EventProducer } from '@app/kafka';
import { MockBroker, ROOT, RedisServer, freePort } from '../local-services';
import { tencentUserSig } from '../usersig';
import { sleep } from './stats';

export interface BenchEnvOptions {
  /** Use this Kafka cluster instead of starting the mock broker (BENCH_KAFKA_BROKERS). */
  kafkaBrokers?: string;
  /** Use this Redis instead of starting redis-server (BENCH_REDIS_URL). */
  redisUrl?: string;
  /** Run the projector and gateway from this build instead of ./dist (`--apps-dist`, to compare builds). */
  appsDist?: string;
  /** Write CPU profiles of the apps here (`--profile`). */
  profileDir?: string;
  /** Run the projector with these FETCH_SETTINGS (`--projector-fetch`, JSON; fetch-settings.preload.ts). */
  projectorFetch?: string;
  partitions: number;
  /** Print progress to stderr. */
  verbose: boolean;
}

/** The compiled benchmark code (children and workers always run from dist). */
export const BENCH_DIST = join(ROOT, 'dist', 'apps', 'tools', 'src', 'bench');

/** The two topic sets: `seed` (directory and fixtures), `live` (everything measured afterwards). */
/** Topic sets of a run: the seed, the live (mixed) stream, and the c2c-only backlog of the second ingest variant. */
export type Stage = 'seed' | 'live' | 'c2c';

/** A projector or gateway running as its own process from dist. */
export class AppProcess {
  private profiling = false;
  private profiles = 0;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    private readonly profileDir: string | undefined,
  ) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Starts (or stops and writes) a CPU profile, when the app was started with profiling. */
  async toggleProfile(): Promise<string | undefined> {
    if (!this.profileDir) return undefined;
    this.profiling = !this.profiling;
    const before = existsSync(this.profileDir) ? readdirSync(this.profileDir).length : 0;
    this.child.kill('SIGWINCH');
    if (this.profiling) return undefined;
    this.profiles++;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const files = readdirSync(this.profileDir).filter((f) => f.startsWith(`${this.name}-`) && f.endsWith('.cpuprofile'));
      if (files.length > 0 && readdirSync(this.profileDir).length > before) return join(this.profileDir, files.sort().at(-1)!);
      await sleep(100);
    }
    throw new Error(`${this.name} did not write its CPU profile`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** A benchmark worker (a forked node process from dist) that answers one input with one result. */
export interface Worker<TOut> {
  result: Promise<TOut>;
  /** Sends a control message (e.g. 'stop'). */
  send(message: unknown): void;
  /** Resolves with what the worker passed to `ready()` (e.g. a port). */
  ready: Promise<unknown>;
  child: ChildProcess;
}

/**
 * The services and apps of one benchmark run: broker and Redis (own or given), tenants,
 * topics and key prefix unique to the run, children started from dist with their own env.
 */
export class BenchEnv {
  readonly id = randomBytes(3).toString('hex');
  /** The run's tenants; `apiKey` opens the summary API (docs/api/summary.md). */
  readonly tencent = { sdkAppId: '1400099999', secretKey: randomBytes(32).toString('hex'), admin: 'administrator', apiKey: randomBytes(16).toString('hex') };
  readonly netease = { appKey: `bench${randomBytes(8).toString('hex')}`, appSecret: randomBytes(12).toString('hex'), apiKey: randomBytes(16).toString('hex') };
  readonly keyPrefix = `b${this.id}`;
  readonly logDir: string;
  readonly kafka: Kafka;
  readonly redis: Redis;
  private readonly apps: AppProcess[] = [];
  private readonly workers: ChildProcess[] = [];
  private admin?: Admin;

  private constructor(
    readonly options: BenchEnvOptions,
    readonly brokers: string[],
    readonly redisUrl: string,
    private readonly broker?: MockBroker,
    private readonly redisServer?: RedisServer,
  ) {
    this.logDir = join(tmpdir(), `unread-bench-${this.id}`);
    mkdirSync(this.logDir, { recursive: true });
    this.kafka = new Kafka({ clientId: `bench-${this.id}`, brokers, logLevel: logLevel.NOTHING });
    this.redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  }

  static async start(options: BenchEnvOptions): Promise<BenchEnv> {
    // DEBUG HTSTATS from this host: the Redis-CPU measurements wait until Redis has finished
    // rehashing its keyspace's tables (BenchContext.settle)
    const redisServer = options.redisUrl ? undefined : await RedisServer.start(['--enable-debug-command', 'local']);
    const broker = options.kafkaBrokers ? undefined : await MockBroker.start({ brokers: 1 });
    const env = new BenchEnv(options, options.kafkaBrokers?.split(',') ?? broker!.brokers, options.redisUrl ?? redisServer!.url, broker, redisServer);
    if (broker) {
      const topics: Record<string, number> = {};
      for (const stage of ['seed', 'live', 'c2c'] as const) {
        const t = env.topics(stage);
        for (const role of CONSUMED_TOPIC_ROLES) topics[t[role]] = options.partitions;
        topics[t.deadLetter] = 1;
        topics[t.unreadChanged] = options.partitions;
      }
      await broker.createTopics(topics);
    }
    return env;
  }

  log(message: string): void {
    if (this.options.verbose) process.stderr.write(`bench: ${message}\n`);
  }

  topics(stage: Stage): TopicNames {
    const p = `bench-${this.id}-${stage}`;
    return {
      messageSent: `${p}.${DEFAULT_TOPICS.messageSent}`,
      readAck: `${p}.${DEFAULT_TOPICS.readAck}`,
      mention: `${p}.${DEFAULT_TOPICS.mention}`,
      directory: `${p}.${DEFAULT_TOPICS.directory}`,
      deadLetter: `${p}.${DEFAULT_TOPICS.deadLetter}`,
      unreadChanged: `${p}.${DEFAULT_TOPICS.unreadChanged}`,
    };
  }

  consumedTopics(stage: Stage): string[] {
    const t = this.topics(stage);
    return CONSUMED_TOPIC_ROLES.map((r) => t[r]);
  }

  /** Environment of a projector or gateway of this run (validated with the apps' own loadConfig). */
  appEnv(stage: Stage, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const t = this.topics(stage);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      KAFKA_BROKERS: this.brokers.join(','),
      KAFKA_CLIENT_ID: `bench-${this.id}`,
      TOPIC_MESSAGE_SENT: t.messageSent,
      TOPIC_READ_ACK: t.readAck,
      TOPIC_MENTION: t.mention,
      TOPIC_DIRECTORY: t.directory,
      TOPIC_DEAD_LETTER: t.deadLetter,
      TOPIC_UNREAD_CHANGED: t.unreadChanged,
      REDIS_URL: this.redisUrl,
      REDIS_KEY_PREFIX: this.keyPrefix,
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // the benchmark's own tenants: the vendors' default limits (200/s, 100/s) and the summary
      // API's (1000 accounts/s, 100 000 channel reads/s) would cap the measurement
      TENCENT_RATE_LIMIT: '1000000',
      QCHAT_RATE_LIMIT: '1000000',
      SUMMARY_RATE_LIMIT: '1000000',
      SUMMARY_CHANNEL_RATE_LIMIT: '100000000',
      TENANTS_JSON: JSON.stringify({
        tencent: [{ sdkAppId: this.tencent.sdkAppId, secretKey: this.tencent.secretKey, admins: [this.tencent.admin], apiKey: this.tencent.apiKey }],
        netease: [{ appKey: this.netease.appKey, appSecret: this.netease.appSecret, apiKey: this.netease.apiKey }],
      }),
      ...extra,
    };
    loadConfig(env);
    return env;
  }

  /** Starts dist/apps/<name>/src/main.js as its own process (CPU-profiled with --profile). */
  spawnApp(name: 'projector' | 'gateway', env: NodeJS.ProcessEnv, label: string = name, projectorFetch = this.options.projectorFetch): AppProcess {
    const execArgv: string[] = name === 'projector' ? [...PROJECTOR_NODE_FLAGS] : [];
    if (this.options.profileDir) {
      mkdirSync(this.options.profileDir, { recursive: true });
      execArgv.push('-r', join(BENCH_DIST, 'cpu-profile.preload.js'));
      env = { ...env, BENCH_PROFILE_DIR: this.options.profileDir, BENCH_PROFILE_NAME: label };
    }
    if (name === 'projector' && projectorFetch !== undefined) {
      execArgv.push('-r', join(BENCH_DIST, 'fetch-settings.preload.js'));
      env = { ...env, BENCH_PROJECTOR_FETCH: projectorFetch };
    }
    const dist = this.options.appsDist ?? join(ROOT, 'dist');
    const child = spawn(process.execPath, [...execArgv, join(dist, 'apps', name, 'src', 'main.js')], {
      // a build outside the repository still finds the repository's node_modules
      env: this.options.appsDist ? { ...env, NODE_PATH: join(ROOT, 'node_modules') } : env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(this.logDir, `${label}.log`), { flags: 'a' });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const app = new AppProcess(label, child, this.options.profileDir);
    this.apps.push(app);
    return app;
  }

  /**
   * A projector of `stage`'s topics in its own group; `fetch` (JSON) overrides its
   * FETCH_SETTINGS for this one, `env` adds variables (e.g. its own REDIS_KEY_PREFIX).
   */
  async projector(
    stage: Stage,
    groupId: string,
    label: string,
    opts: { fetch?: string; env?: Record<string, string> } = {},
  ): Promise<{ app: AppProcess; metricsUrl: string }> {
    const port = await freePort();
    const env = this.appEnv(stage, { KAFKA_CONSUMER_GROUP: groupId, PROJECTOR_METRICS_PORT: String(port), ...opts.env });
    const app = this.spawnApp('projector', env, label, opts.fetch ?? this.options.projectorFetch);
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    await this.waitHttp(metricsUrl, app);
    return { app, metricsUrl };
  }

  async gateway(): Promise<{ app: AppProcess; url: string }> {
    const port = await freePort();
    const adminPort = await freePort();
    const app = this.spawnApp('gateway', this.appEnv('live', { HTTP_PORT: String(port), GATEWAY_ADMIN_PORT: String(adminPort), KAFKA_CONSUMER_GROUP: 'unused' }));
    const url = `http://127.0.0.1:${port}`;
    await this.waitHttp(`${url}/health/ready`, app);
    return { app, url };
  }

  private async waitHttp(url: string, app: AppProcess): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (app.child.exitCode !== null) throw new Error(`${app.name} exited with ${app.child.exitCode} (log: ${this.logDir}/${app.name}.log)`);
      try {
        const res = await fetch(url);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${app.name} did not answer ${url} (log: ${this.logDir}/${app.name}.log)`);
      await sleep(100);
    }
  }

  /** Forks dist/apps/tools/src/bench/<name>.js with its input; see worker.ts. */
  startWorker<TOut>(name: string, input: unknown): Worker<TOut> {
    const child = fork(join(BENCH_DIST, `${name}.js`), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.workers.push(child);
    let readyResolve!: (value: unknown) => void;
    const ready = new Promise<unknown>((r) => (readyResolve = r));
    const result = new Promise<TOut>((resolve, reject) => {
      child.on('message', (m: { type: string; result?: TOut; error?: string; value?: unknown }) => {
        if (m.type === 'ready') readyResolve(m.value);
        else if (m.type === 'result') resolve(m.result as TOut);
        else if (m.type === 'error') reject(new Error(`${name}: ${m.error}`));
      });
      child.once('exit', (code) => reject(new Error(`${name} worker exited (${code}) without a result`)));
    });
    result.catch(() => undefined); // observed by whoever awaits it; a worker that dies early must not crash the run
    child.send(input as Serializable);
    return { result, ready, child, send: (message) => child.send(message as Serializable) };
  }

  producer(stage: Stage): EventProducer {
    return new EventProducer(this.kafka, this.topics(stage));
  }

  /** Sends events in chunks, pausing while the group lags more than `maxLag` (the mock broker keeps only 5 MiB per partition). */
  async produce(stage: Stage, events: Iterable<UnreadEvent>, opts: { chunk?: number; groupId?: string; maxLag?: number } = {}): Promise<number> {
    const producer = this.producer(stage);
    const chunkSize = opts.chunk ?? 5_000;
    let chunk: UnreadEvent[] = [];
    let sent = 0;
    const flush = async () => {
      await producer.send(chunk);
      sent += chunk.length;
      chunk = [];
      if (opts.groupId && opts.maxLag !== undefined) {
        while ((await this.lag(opts.groupId, stage)) > opts.maxLag) await sleep(200);
      }
    };
    for (const ev of events) {
      chunk.push(ev);
      if (chunk.length >= chunkSize) await flush();
    }
    if (chunk.length) await flush();
    await producer.disconnect();
    return sent;
  }

  /** Removes this run's keys matching `pattern` from its Redis (SCAN + UNLINK). */
  async deleteKeys(pattern: string): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await this.redis.unlink(...keys);
    } while (cursor !== '0');
  }

  private async getAdmin(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }

  /** End offsets of a stage's consumed topics, per topic and partition. */
  async endOffsets(stage: Stage): Promise<Map<string, number>> {
    const admin = await this.getAdmin();
    const out = new Map<string, number>();
    for (const topic of this.consumedTopics(stage)) {
      for (const p of await admin.fetchTopicOffsets(topic)) out.set(`${topic}:${p.partition}`, Number(p.high));
    }
    return out;
  }

  /** Records not yet committed by the group over a stage's consumed topics. */
  async lag(groupId: string, stage: Stage): Promise<number> {
    const admin = await this.getAdmin();
    const ends = await this.endOffsets(stage);
    const committed = await admin.fetchOffsets({ groupId, topics: this.consumedTopics(stage) });
    let lag = 0;
    for (const t of committed) {
      for (const p of t.partitions) {
        const end = ends.get(`${t.topic}:${p.partition}`) ?? 0;
        const done = Number(p.offset) < 0 ? 0 : Number(p.offset);
        lag += Math.max(0, end - done);
      }
    }
    return lag;
  }

  async waitCaughtUp(groupId: string, stage: Stage, timeoutMs = 300_000, app?: AppProcess): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lag = await this.lag(groupId, stage);
      if (lag === 0) return;
      if (app && app.child.exitCode !== null) throw new Error(`${app.name} exited (log: ${this.logDir}/${app.name}.log)`);
      if (Date.now() > deadline) throw new Error(`group ${groupId} still lags ${lag} records after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** A Tencent REST URL signed for the run's admin (official generator). */
  tencentUrl(base: string, api: string): string {
    const sig = tencentUserSig(this.tencent.sdkAppId, this.tencent.secretKey, this.tencent.admin, 86_400);
    return `${base}/v4/${api}?sdkappid=${this.tencent.sdkAppId}&identifier=${this.tencent.admin}&usersig=${encodeURIComponent(sig)}&random=${randomBytes(4).readUInt32BE()}&contenttype=json`;
  }

  /** QChat headers with a fresh Nonce and its CheckSum. */
  qchatHeaders(nonce: string = randomBytes(16).toString('hex')): Record<string, string> {
    const curTime = String(Math.floor(Date.now() / 1000));
    const checkSum = createHash('sha1').update(this.netease.appSecret + nonce + curTime).digest('hex');
    return {
      AppKey: this.netease.appKey,
      Nonce: nonce,
      CurTime: curTime,
      CheckSum: checkSum,
      'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8',
    };
  }

  /** Stops everything; the apps' logs are kept (and their folder printed) only when asked. */
  async stop(keepLogs = false): Promise<void> {
    for (const w of this.workers) if (w.exitCode === null) w.kill('SIGKILL');
    await Promise.all(this.apps.map((a) => a.stop()));
    await this.admin?.disconnect().catch(() => undefined);
    this.redis.disconnect();
    await this.broker?.stop();
    await this.redisServer?.stop();
    if (keepLogs) process.stderr.write(`bench: the apps' logs are in ${this.logDir}\n`);
    else rmSync(this.logDir, { recursive: true, force: true });
  }
}
