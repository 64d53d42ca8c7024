import type { RedisClient } from './redis.factory';
import { RateLimiter } from './rate-limiter';
import { BOOKKEEPING_SCRIPTS } from './scripts';

/** A client whose lease script fails as Redis does when it refuses writes (or answers a lease). */
function client(answer: () => Promise<[number, number]>) {
  let calls = 0;
  const redis = {
    // the lease script's registered command (registerScripts defines the others, unused here)
    [BOOKKEEPING_SCRIPTS.rateLease.command]: () => {
      calls++;
      return answer();
    },
    defineCommand: () => undefined,
  } as unknown as RedisClient;
  return { redis, calls: () => calls };
}

const oom = () => {
  const e = new Error("OOM command not allowed when used memory > 'maxmemory'.");
  e.name = 'ReplyError';
  return Promise.reject(e);
};

async function count(limiter: RateLimiter, n: number, limit: number, blockMs = 0): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (await limiter.allow('qchat', 'app', 'api', limit, blockMs)) allowed++;
  return allowed;
}

describe('RateLimiter while Redis grants no lease', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('counts a one-second window of its own with the full limit, and asks Redis again when it ends', async () => {
    const { redis, calls } = client(oom);
    const limiter = new RateLimiter(redis, 'p');
    expect(await count(limiter, 15, 10)).toBe(10);
    expect(calls()).toBe(1);
    expect(limiter.localWindows).toBe(1);
    jest.setSystemTime(1_001_000);
    expect(await count(limiter, 3, 10)).toBe(3);
    expect(calls()).toBe(2);
  });

  it('blocks locally like Redis would once its own window is used up', async () => {
    const { redis } = client(oom);
    const limiter = new RateLimiter(redis, 'p');
    expect(await count(limiter, 11, 10, 10_000)).toBe(10);
    jest.setSystemTime(1_005_000);
    expect(await count(limiter, 1, 10, 10_000)).toBe(0);
    jest.setSystemTime(1_010_001);
    expect(await count(limiter, 1, 10, 10_000)).toBe(1);
  });

  it('goes back to leases from Redis once it grants one', async () => {
    let refuse = true;
    const { redis } = client(() => (refuse ? oom() : Promise.resolve([2, 1_000] as [number, number])));
    const limiter = new RateLimiter(redis, 'p');
    expect(await count(limiter, 1, 10)).toBe(1);
    refuse = false;
    jest.setSystemTime(1_001_000);
    expect(await count(limiter, 2, 10)).toBe(2);
    expect(limiter.localWindows).toBe(1);
  });
});
