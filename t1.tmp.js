require('reflect-metadata');
const Redis = require('ioredis').default;
const { ProjectionStore, Keyspace } = require('/work/main/dist/libs/store/src');
const { MixedStream, World, QUICK_WORLD } = require('/work/main/dist/apps/tools/src/bench/event-stream');
(async () => {
  const redis = new Redis(6391);
  const store = new ProjectionStore(redis, new Keyspace('t'+Date.now()), { mentionRetentionMs: 86400000 });
  const world = new World(QUICK_WORLD, 'app1', 'app2', 7);
  const stream = new MixedStream(world, 8, Date.now(), { channels: true, tag: 'x' });
  for (let round = 0; round < 5; round++) {
    const evs = stream.take(2000);
    const byTopic = {};
    let t = Date.now();
    const batches = [];
    for (let i = 0; i < evs.length; i += 200) batches.push(evs.slice(i, i + 200));
    await Promise.all(batches.map(b => store.applyBatch(b).catch(e => console.log('ERR', e.message))));
    console.log('folded 2000 in', Date.now() - t, 'ms');
    t = Date.now();
    await Promise.all(batches.map(b => store.applyAll(b)));
    console.log('direct 2000 in', Date.now() - t, 'ms');
  }
  redis.disconnect();
})();
