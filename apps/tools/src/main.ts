import 'reflect-metadata';
import { loadConfig } from '@app/config';
import { runBenchCommand } from './bench/bench.command';
import { runLocal } from './local.command';
import { migrateAccounts } from './migrate-accounts.command';
import { adoptPositions } from './positions.command';
import { rebuild } from './rebuild.command';

const USAGE = `usage: node dist/apps/tools/src/main.js <command>
  local     run the whole service locally (mock broker + redis-server + projector + gateway + sample data)
  rebuild [--keep-old] [--grace-ms N]
            rebuild every projection from the log into a new generation, then switch to it
            (configuration from the environment, as for the apps; docs/reliability.md)
  migrate-accounts
            move account existence from the per-tenant sets of earlier versions to each
            account's own key (docs/projections.md, "Directory")
  positions adopt
            record the live group's committed offsets as the applied positions Redis holds,
            once, when upgrading a deployment that ran before positions existed (docs/reliability.md)
  bench [--quick] [--only ...] [--profile]
            the benchmark with same-run baselines (docs/performance.md; --help for options)
`;

async function main(argv: string[]): Promise<void> {
  const [command] = argv;
  switch (command) {
    case 'local':
      return runLocal(process.env);
    case 'bench':
      return runBenchCommand(argv.slice(1), process.env);
    case 'rebuild': {
      const flags = argv.slice(1);
      const grace = flags.indexOf('--grace-ms');
      const graceMs = grace >= 0 ? Number(flags[grace + 1]) : undefined;
      if (graceMs !== undefined && !(Number.isInteger(graceMs) && graceMs >= 0)) throw new Error('--grace-ms needs a whole number of ms');
      const r = await rebuild(loadConfig(process.env), { keepOld: flags.includes('--keep-old'), graceMs });
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    case 'migrate-accounts': {
      const r = await migrateAccounts(loadConfig(process.env), (line) => process.stderr.write(`${line}\n`));
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    case 'positions':
      if (argv[1] !== 'adopt') break;
      await adoptPositions(loadConfig(process.env));
      return;
    default:
      break;
  }
  process.stderr.write(USAGE);
  process.exit(2);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`tools: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
