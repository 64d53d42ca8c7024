#!/usr/bin/env node
// Redis' own cost per event of each kind, the way the bench's cost rows measure it
// (apps/tools/src/bench/measure-costs.ts: the same event streams, each event's script(s)
// called alone, 100 pipelined, then folded through ProjectionStore.applyBatch, batches of 200,
// eight in flight), against a Redis of your choosing and without seeding a world (the cost
// rows write under a prefix of their own, so the seed does not enter them). For profiling Redis
// itself (docs/performance.md, "Redis CPU per write"):
//
//   redis-server --port 7391 --save '' &                    # Redis CPU from INFO cpu
//   node tools/redis-cost-profile.js 7391
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg/out.%p redis-server --port 7392 --save '' &
//   CALLGRIND=<valgrind pid> CALLGRIND_DIR=/tmp/cg node tools/redis-cost-profile.js 7392 c2c-msg,mention 3000
//
// With CALLGRIND it reports Redis' instructions per event (callgrind_control zeroes the counts
// before each phase and dumps them after; deterministic, so it compares builds on a loaded
// machine), else Redis CPU per event. STATS=1 adds INFO commandstats per event.
// Arguments: port, kinds (default c2c-msg,group-msg,mention,channel-ack), events per kind
// (default 10 000), the build to load (default ./dist).
// Unlike the bench's rows it neither waits for Redis to finish rehashing its keyspace nor
// removes a phase's keys before the next: on a Redis that already holds many keys, a phase
// that takes the keyspace past a power of two pays for moving every key into a larger table
// (docs/performance.md, "Cost rows"): run it on an empty redis-server, as above.
require('reflect-metadata');
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const Redis = require('ioredis');

const [port, kindList = 'c2c-msg,group-msg,mention,channel-ack', count = '10000', distArg] = process.argv.slice(2);
const dist = path.resolve(distArg ?? path.join(__dirname, '..', 'dist'));
const { Keyspace, ProjectionStore } = require(path.join(dist, 'libs/store/src'));
const { MixedStream, World, FULL_WORLD, KINDS } = require(path.join(dist, 'apps/tools/src/bench/event-stream'));
const env = process.env;
const url = `redis://127.0.0.1:${port}`;
const n = Number(count);

function instructions() {
  execSync(`callgrind_control -d ${env.CALLGRIND}`, { stdio: 'ignore' });
  const dir = env.CALLGRIND_DIR ?? '.';
  const newest = fs
    .readdirSync(dir)
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  return Number(/^(?:summary|totals): (\d+)/m.exec(fs.readFileSync(newest, 'utf8'))[1]);
}

(async () => {
  const redis = new Redis(url);
  const pipelined = new Redis(url, { enableAutoPipelining: true });
  const cpu = async () => {
    const info = await redis.info('cpu');
    const get = (name) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)[1]);
    return get('used_cpu_user') + get('used_cpu_sys');
  };
  const stats = async () => new Map([...(await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)].map((m) => [m[1], { calls: +m[2], usec: +m[3] }]));
  const measure = async (run) => {
    const [c0, s0] = [await cpu(), await stats()];
    if (env.CALLGRIND) execSync(`callgrind_control -z ${env.CALLGRIND}`, { stdio: 'ignore' });
    await run();
    const value = env.CALLGRIND ? instructions() / n : (((await cpu()) - c0) * 1e6) / n;
    const s1 = await stats();
    const commands = [...s1]
      .map(([cmd, s]) => ({ cmd, calls: s.calls - (s0.get(cmd)?.calls ?? 0), usec: s.usec - (s0.get(cmd)?.usec ?? 0) }))
      .filter((d) => d.calls > 0 && !['info', 'ping'].includes(d.cmd))
      .map((d) => `${d.cmd} ${(d.calls / n).toFixed(2)}/event`)
      .join(', ');
    return { value, commands };
  };
  const world = new World(FULL_WORLD, '1400000000', 'profile', 1);
  const retention = { mentionRetentionMs: 7 * 24 * 3600 * 1000 };
  const tag = `prof${Date.now().toString(36)}`;
  const folded = new ProjectionStore(redis, new Keyspace(`${tag}f`), retention);
  const alone = new ProjectionStore(pipelined, new Keyspace(`${tag}a`), retention);
  const warm = new ProjectionStore(pipelined, new Keyspace(`${tag}w`), retention);
  const unit = env.CALLGRIND ? 'instructions' : 'µs';
  for (const kind of kindList.split(',')) {
    const i = KINDS.indexOf(kind);
    const events = new MixedStream(world, 21 + i, Date.now(), { channels: true, tag: `k${i}`, only: [kind] }).take(n);
    for (const e of events.slice(0, 5)) await warm.apply(e);
    await folded.applyBatch(events.slice(0, 5)); // the folded script in Redis' cache (NOSCRIPT, EVAL) before measuring
    const a = await measure(async () => {
      for (let j = 0; j < n; j += 100) await Promise.all(events.slice(j, j + 100).map((e) => alone.apply(e)));
    });
    const f = await measure(async () => {
      const batches = [];
      for (let j = 0; j < n; j += 200) batches.push(events.slice(j, j + 200));
      for (let j = 0; j < batches.length; j += 8) await Promise.all(batches.slice(j, j + 8).map((b) => folded.applyBatch(b)));
    });
    console.log(`${kind}: folded ${f.value.toFixed(1)} ${unit}/event, alone ${a.value.toFixed(1)} ${unit}/event`);
    if (env.STATS) console.log(`  folded: ${f.commands}\n  alone:  ${a.commands}`);
  }
  for (const p of [`${tag}f`, `${tag}a`, `${tag}w`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${p}:*`, 'COUNT', 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  redis.disconnect();
  pipelined.disconnect();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
