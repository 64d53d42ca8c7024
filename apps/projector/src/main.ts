import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { startProjector } from './projector';

async function main(): Promise<void> {
  const config = loadConfigOrExit('projector');
  const projector = await startProjector(config, { metricsPort: config.projectorMetricsPort });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`projector: ${signal}, finishing the batch in flight and leaving the group\n`);
    projector.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`projector: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`projector: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
