require('reflect-metadata');
const Redis = require('ioredis').default;
const { ProjectionStore, Keyspace } = require('/work/main/dist/libs/store/src');
const { MixedStream, World, QUICK_WORLD } = require('/work/main/dist/apps/tools/src/bench/event-stream');
(async () => {
  const redis = new Redis(6391);
  const store = new ProjectionStore(redis, new Keyspace('t'+Date.now()), { mentionRetentionMs: 86400000 });
  const world = new World(QUICK_WORLD, 'app1', 'app2', 7);
  const stream = new MixedStream(world, 8, Date.now(), { channels: true, tag: 'x' });
  const evs = stream.take(20000);
  const by = {};
  for (const e of evs) { const k = e.type + '/' + (e.scope||''); (by[k] ??= []).push(e); }
  for (const [k, list] of Object.entries(by)) {
    await redis.config('RESETSTAT');
    let t = process.hrtime.bigint();
    const batches = []; for (let i = 0; i < list.length; i += 200) batches.push(list.slice(i, i + 200));
    await Promise.all(batches.map(b => process.env.DIRECT ? store.applyAll(b) : store.applyBatch(b)));
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const info = await redis.info('commandstats');
    const us = [...info.matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)].map(m => `${m[1]}:${m[2]}/${m[3]}us`).join(' ');
    console.log(k, list.length, 'events', ms.toFixed(0), 'ms', (list.length / ms * 1000).toFixed(0), 'ev/s', us);
  }
  redis.disconnect();
})();
