import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Redis, { type RedisOptions } from 'ioredis';
import { ROOT, RedisServer } from './processes';

/**
 * A private redis-server for the describe block that calls this (started in its beforeAll,
 * stopped in its afterAll) and an auto-pipelining client of it: read `server` and `redis`
 * inside the tests, not at describe time.
 */
export function privateRedis(): { readonly server: RedisServer; readonly redis: Redis } {
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url, { enableAutoPipelining: true });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('privateRedis: read it inside a test (the server starts in beforeAll)');
      return server;
    },
    get redis() {
      if (!redis) throw new Error('privateRedis: read it inside a test (the server starts in beforeAll)');
      return redis;
    },
  };
}

/** Runs `work` with a client of `url` (a server the test reads directly), disconnected afterwards. */
export async function withRedis<T>(url: string | RedisOptions, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = typeof url === 'string' ? new Redis(url) : new Redis(url); // one overload each
  try {
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/** The latest modification time of any file under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist/apps/<app> when one of its sources or libs/ is newer than `main` (what `bash tools/setup.sh` does for all apps). */
export function ensureBuilt(app: 'projector' | 'tools' | 'gateway', main: string): void {
  const sources = Math.max(newest(join(ROOT, 'apps', app, 'src')), newest(join(ROOT, 'libs')));
  if (existsSync(main) && statSync(main).mtimeMs >= sources) return;
  spawnSync('npx', ['nest', 'build', app], { cwd: ROOT, stdio: 'ignore' });
  if (!existsSync(main)) throw new Error(`could not build ${main}`);
}
