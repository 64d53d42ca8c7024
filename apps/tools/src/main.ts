import 'reflect-metadata';
import { runLocal } from './local.command';

const USAGE = `usage: node dist/apps/tools/src/main.js <command>
  local     run the whole service locally (mock broker + redis-server + projector + gateway + sample data)
`;

async function main(argv: string[]): Promise<void> {
  const [command] = argv;
  switch (command) {
    case 'local':
      return runLocal(process.env);
    default:
      process.stderr.write(USAGE);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`tools: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
