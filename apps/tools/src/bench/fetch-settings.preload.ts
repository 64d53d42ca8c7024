/**
 * Preloaded (`node -r`) into the projector by the bench when it runs the projector with other
 * fetch settings (`--projector-fetch`, the `fetch` sweep): overwrites the fields of the
 * projector's exported FETCH_SETTINGS (apps/projector/src/kafka-batch.transport.ts) with
 * $BENCH_PROJECTOR_FETCH (JSON) before the app starts, so no projector code changes for a
 * measurement. Refuses to start (exit 1) when that export is gone, rather than measuring the
 * defaults under another name.
 */
import { dirname, join } from 'node:path';
import { parseProjectorFetch } from './fetch-settings';

const wanted = parseProjectorFetch(process.env.BENCH_PROJECTOR_FETCH ?? '{}');
const transport = join(dirname(process.argv[1] ?? '.'), 'kafka-batch.transport.js');
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(transport) as { FETCH_SETTINGS?: Record<string, unknown> };
  const target = mod.FETCH_SETTINGS;
  if (!target || typeof target !== 'object') throw new Error(`${transport} exports no FETCH_SETTINGS`);
  for (const k of Object.keys(wanted)) if (!(k in target)) throw new Error(`FETCH_SETTINGS has no ${k}`);
  Object.assign(target, wanted);
} catch (err) {
  process.stderr.write(`fetch-settings preload: ${(err as Error).message}\n`);
  process.exit(1);
}
