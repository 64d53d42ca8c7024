import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { loadConfig } from '@app/config';
import type { UnreadEvent } from '@app/contracts';
import { Keyspace, ProjectionStore, storeOptionsOf } from '@app/store';
import type { AppProcess, BenchEnv } from './bench-env';
import type { ReadSizes } from './measure-reads';
import { MixedStream, World, seedCount, seedEvents, FULL_WORLD, QUICK_WORLD, type WorldSpec } from './event-stream';
import { summariseProfile, type ProfileSummary } from './profile-summary';
import { sleep } from './stats';

export type BenchMode = 'full' | 'quick' | 'tiny';

/** How big each measurement is, per mode. `full` is `npm run bench` (≈ 5 min on 2 cores). */
export interface BenchSizes {
  world: WorldSpec;
  ingestEvents: number;
  freshness: { rate: number; tickMs: number; warmupSeconds: number; seconds: number; intervalMs: number };
  queries: { connections: number; warmupSeconds: number; seconds: number };
  scale: { groupMessages: number; rounds: number; c2cOwners: number; c2cPeers: number; c2cPerPeer: number; mentions: number };
  reads: ReadSizes;
}

/** The read fixtures of the table; quick runs keep them (they seed in seconds) and measure fewer calls. */
const READS: ReadSizes = { liveGroups: 200, goneGroups: 300, limit: 10, channels: 100, mentionsPerChannel: 250, batchAccounts: 100, batchGroups: 100, unknownAccounts: 100, peersPerAccount: 50, calls: 30, idleMs: 1_000 };

export const SIZES: Record<BenchMode, BenchSizes> = {
  full: {
    world: FULL_WORLD,
    ingestEvents: 100_000,
    freshness: { rate: 5_000, tickMs: 100, warmupSeconds: 3, seconds: 20, intervalMs: 50 },
    queries: { connections: 32, warmupSeconds: 3, seconds: 10 },
    scale: { groupMessages: 2_500, rounds: 6, c2cOwners: 1_000, c2cPeers: 5, c2cPerPeer: 4, mentions: 5_000 },
    reads: READS,
  },
  quick: {
    world: QUICK_WORLD,
    ingestEvents: 10_000,
    freshness: { rate: 5_000, tickMs: 100, warmupSeconds: 2, seconds: 5, intervalMs: 50 },
    queries: { connections: 32, warmupSeconds: 1, seconds: 3 },
    scale: { groupMessages: 400, rounds: 3, c2cOwners: 100, c2cPeers: 5, c2cPerPeer: 4, mentions: 1_000 },
    reads: { ...READS, calls: 10, idleMs: 500 },
  },
  tiny: {
    world: { ...QUICK_WORLD, accounts: 200, tiers: [{ size: 10, count: 5 }, { size: 200, count: 1 }], qchatMembers: 50, queryMentions: 250, queryGroups: 3 },
    ingestEvents: 500,
    freshness: { rate: 200, tickMs: 100, warmupSeconds: 0.5, seconds: 1.5, intervalMs: 100 },
    queries: { connections: 4, warmupSeconds: 0, seconds: 1 },
    scale: { groupMessages: 50, rounds: 1, c2cOwners: 10, c2cPeers: 2, c2cPerPeer: 2, mentions: 50 },
    reads: { liveGroups: 12, goneGroups: 18, limit: 10, channels: 5, mentionsPerChannel: 20, batchAccounts: 10, batchGroups: 10, unknownAccounts: 10, peersPerAccount: 20, calls: 3, idleMs: 200 },
  },
};

/** What the code under test can do, probed at start: rows it cannot serve are skipped, with the reason. */
export interface Capabilities {
  /** The channel (QChat) projection applies events. */
  channels: boolean;
  channelsWhy?: string;
}

/**
 * Everything a measurement needs: the services, the world, the main stream (which owns the
 * group seq counters), and the live projector and gateway, started once and shared.
 */
export class BenchContext {
  readonly world: World;
  readonly stream: MixedStream;
  live?: { app: AppProcess; metricsUrl: string; groupId: string };
  gateway?: { app: AppProcess; url: string };
  readonly profiles: Record<string, ProfileSummary> = {};
  readonly phases: Record<string, number> = {};

  constructor(
    readonly env: BenchEnv,
    readonly mode: BenchMode,
    readonly sizes: BenchSizes,
    readonly seed: number,
    readonly caps: Capabilities,
  ) {
    this.world = new World(sizes.world, env.tencent.sdkAppId, env.netease.appKey, seed);
    const scaleGroups = [this.world.smallestGroup().id, this.world.largestGroup().id];
    this.stream = new MixedStream(this.world, seed + 1, Date.now(), { channels: caps.channels, excludeGroups: scaleGroups, tag: 'i' });
  }

  static async create(env: BenchEnv, mode: BenchMode, seed: number): Promise<BenchContext> {
    return new BenchContext(env, mode, SIZES[mode], seed, await probeCapabilities(env));
  }

  get liveGroupId(): string {
    return `bench-${this.env.id}-live`;
  }

  /** Directory and query fixtures through a projector on the seed topics (the apps' own write path). */
  async seedWorld(): Promise<void> {
    const started = Date.now();
    const groupId = `bench-${this.env.id}-seed`;
    const { app } = await this.env.projector('seed', groupId, 'projector-seed');
    const total = seedCount(this.world);
    this.env.log(`seeding ${total} directory and fixture events (largest group ${this.world.largestGroup().size} members)`);
    const events = seedEvents(this.world, Date.now(), this.seed);
    const filtered = this.caps.channels ? events : skipApp(events, this.world.qchatApp);
    await this.env.produce('seed', filtered, { chunk: 10_000, groupId, maxLag: 40_000 });
    await this.env.waitCaughtUp(groupId, 'seed', 600_000, app);
    await app.stop();
    this.phases.seedSeconds = (Date.now() - started) / 1000;
  }

  /** The projector of the live topics (started by the ingest measurement, or here when it is skipped). */
  async liveProjector(): Promise<{ app: AppProcess; metricsUrl: string; groupId: string }> {
    if (!this.live) {
      const p = await this.env.projector('live', this.liveGroupId, 'projector');
      this.live = { ...p, groupId: this.liveGroupId };
    }
    return this.live;
  }

  async liveGateway(): Promise<{ app: AppProcess; url: string }> {
    this.gateway ??= await this.env.gateway();
    return this.gateway;
  }

  /** Waits until the live projector has applied everything produced so far. */
  async caughtUp(): Promise<void> {
    const live = await this.liveProjector();
    await this.env.waitCaughtUp(live.groupId, 'live', 300_000, live.app);
  }

  async profile<T>(app: AppProcess, label: string, work: () => Promise<T>): Promise<T> {
    await app.toggleProfile();
    try {
      return await work();
    } finally {
      const file = await app.toggleProfile();
      if (file) this.profiles[label] = summariseProfile(file);
    }
  }

  /**
   * A moment for Redis and the apps to go quiet before a measurement that reads global
   * counters, and until Redis has finished rehashing its keyspace's tables. When the keyspace
   * outgrows its table (at each power of two of keys), Redis moves every key into one twice as
   * large, a few at a time (on each key lookup and 1 ms per cron tick): with the bench's
   * world in Redis (~230 000 keys) that is tens of milliseconds of Redis CPU falling into
   * whichever measurement runs then — 2-4 µs per event in a pass of 10 000 one-to-one messages
   * (docs/performance.md, "Cost rows"). Returns how long it waited for the rehash, or null if
   * Redis does not say (DEBUG refused: a Redis given with --redis-url).
   */
  async settle(): Promise<number | null> {
    await sleep(this.mode === 'tiny' ? 100 : 500);
    const started = Date.now();
    for (;;) {
      let stats: string;
      try {
        stats = String(await this.env.redis.call('DEBUG', 'HTSTATS', '0'));
      } catch {
        return null;
      }
      if (!stats.includes('rehashing target') || Date.now() - started > 30_000) return (Date.now() - started) / 1000;
      await sleep(100);
    }
  }

}

/** The seed without the QChat tenant's events (while the channel projection is not there). */
function* skipApp(events: Iterable<UnreadEvent>, app: string): Generator<UnreadEvent> {
  for (const e of events) if (e.appId !== app) yield e;
}

/**
 * Whether the channel projection works: applies one directory event through the store on
 * a throwaway key prefix, then removes what it wrote.
 */
async function probeCapabilities(env: BenchEnv): Promise<Capabilities> {
  const prefix = `probe${randomBytes(3).toString('hex')}`;
  const redis = new Redis(env.redisUrl);
  try {
    const config = loadConfig({ KAFKA_BROKERS: 'unused:9092', REDIS_URL: env.redisUrl });
    const store = new ProjectionStore(redis, new Keyspace(prefix), storeOptionsOf(config));
    await store.apply({ type: 'qchat-channel-created', appId: 'probe', serverId: '1', channelId: '2' } as never);
    await store.apply({ type: 'qchat-server-member-joined', appId: 'probe', serverId: '1', account: 'a' } as never);
    return { channels: true };
  } catch (err) {
    return { channels: false, channelsWhy: `the channel projection is not available yet (${(err as Error).message})` };
  } finally {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}
