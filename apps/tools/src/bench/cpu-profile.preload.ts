/**
 * Preloaded (`node -r`) into the projector and gateway by `npm run bench -- --profile`:
 * SIGWINCH (ignored by default, and not one of the signals Nest's shutdown hooks take) starts
 * the V8 CPU profiler, the next SIGWINCH stops it and writes
 * $BENCH_PROFILE_DIR/$BENCH_PROFILE_NAME-<n>.cpuprofile (the format of `node --cpu-prof`),
 * so only the measured phase is profiled.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR ?? '.';
const name = process.env.BENCH_PROFILE_NAME ?? 'app';
const session = new Session();
session.connect();
let running = false;
let n = 0;

process.on('SIGWINCH', () => {
  if (!running) {
    running = true;
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));
    return;
  }
  running = false;
  session.post('Profiler.stop', (err, result) => {
    if (err) {
      process.stderr.write(`cpu-profile: ${err.message}\n`);
      return;
    }
    writeFileSync(join(dir, `${name}-${++n}.cpuprofile`), JSON.stringify(result.profile));
  });
});
