import 'reflect-metadata';
import { loadConfigOrExit } from '@app/config';
import { startGateway } from './gateway';

async function main(): Promise<void> {
  const config = loadConfigOrExit('gateway');
  const gateway = await startGateway(config);
  process.stderr.write(`gateway: listening on ${gateway.url} (admin: ${gateway.adminUrl})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
