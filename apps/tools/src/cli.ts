#!/usr/bin/env node
import 'reflect-metadata';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig } from '@app/config';
import { CONSUMED_TOPIC_ROLES } from '@app/contracts';
import { EventProducer, asKafkaRefusal, createKafka } from '@app/kafka';
import { Generations, Keyspace, ProjectionStore, createRedisClient, generationPrefix, pruneUnregistered, storeOptionsOf } from '@app/store';
import { explain } from './explain.command';
import { formatProduceReport, openInput, produceLines } from './produce.command';
import { Progress } from './progress';
import { capacityReport } from './capacity';
import { rebuild } from './rebuild.command';
import { watchFeed } from './watch.command';
import { RebuildProgress } from './rebuild.progress';

/** Exit codes of every command (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** The command failed: broker or Redis unreachable, a rebuild that could not switch, … */
  failed: 1,
  /** Bad arguments or configuration. */
  usage: 2,
  /** `produce`: at least one line is not a valid event (the valid ones were produced, unless --dry-run). */
  invalidInput: 3,
} as const;

/** A failure with its own exit code (a usage error found after parsing, invalid input). */
class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const wholeNumber = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}`);
  return n;
};

function channelArg(v: string): { serverId: string; channelId: string } {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected SERVER_ID/CHANNEL_ID (decimal ids), e.g. 87834762/25372323');
  return { serverId: m[1]!, channelId: m[2]! };
}

/** The `unread` program; `env` is the configuration of the commands that talk to the service (as for the apps). */
export function buildProgram(env: NodeJS.ProcessEnv): Command {
  const program = new Command('unread')
    .description('Operate unread: publish and check events, explain counts, rebuild projections, run it locally, benchmark it.')
    .exitOverride()
    .enablePositionalOptions()
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', '\nConfiguration comes from the environment, as for the apps (docs/configuration.md). Exit codes: 0 ok, 1 failed, 2 usage or configuration, 3 invalid input lines (docs/cli.md).');

  program
    .command('produce')
    .description('publish JSON-lines events (one event a line) to their topics with their partition keys, after validating every line against the contracts')
    .argument('<file>', 'a file of JSON lines, or - for standard input')
    .option('--dry-run', 'validate only: produce nothing')
    .option('--batch-size <n>', 'events per produce request', wholeNumber('--batch-size', 1), 500)
    .option('--progress-every <ms>', 'when stderr is not a terminal: a progress line this often', wholeNumber('--progress-every', 50), 5_000)
    .action(async (file: string, opts: { dryRun?: boolean; batchSize: number; progressEvery: number }) => {
      const config = loadConfig(env, { requireRedis: false });
      const { input, totalLines } = await openInput(file).catch((err: Error) => {
        throw new ExitError(`cannot read ${file}: ${err.message}`, EXIT.usage);
      });
      const progress = new Progress({ stream: process.stderr, unit: 'lines', intervalMs: opts.progressEvery });
      const kafka = opts.dryRun ? undefined : createKafka(config.kafka, `${config.kafka.clientId}-cli`);
      const producer = kafka ? new EventProducer(kafka, config.kafka.topics) : undefined;
      try {
        const report = await produceLines(input, producer, {
          topics: config.kafka.topics,
          dryRun: opts.dryRun,
          batchSize: opts.batchSize,
          progress,
          totalLines,
          onInvalid: (line, reason) => progress.log(`line ${line}: ${reason}\n`),
        });
        progress.stop();
        process.stdout.write(formatProduceReport(report, Boolean(opts.dryRun)));
        if (report.invalid > 0) throw new ExitError('', EXIT.invalidInput);
      } finally {
        progress.stop();
        await producer?.disconnect().catch(() => undefined);
      }
    });

  program
    .command('explain')
    .description('print why the counts of an account are what they are, read from the projections')
    .argument('<app>', 'the tenant: a Tencent SDKAppID or a NetEase AppKey')
    .argument('<account>', 'the account')
    .addOption(new Option('--peer <account>', 'one-to-one: unread from this peer, its read time, the unread message ids').conflicts(['group', 'channel']))
    .addOption(new Option('--group <groupId>', 'group: max and read sequences, joins, own messages and admin overrides').conflicts(['channel']))
    .addOption(new Option('--channel <serverId/channelId>', 'QChat channel: unread mentions and the roles that match').argParser(channelArg))
    .action(async (app: string, account: string, opts: { peer?: string; group?: string; channel?: { serverId: string; channelId: string } }) => {
      const config = loadConfig(env);
      const redis = createRedisClient(config.redis, { offlineQueue: true, commandTimeoutMs: 10_000, connectionName: 'unread-explain' });
      try {
        const { active } = await new Generations(redis, config.redis.keyPrefix).read();
        const store = new ProjectionStore(redis, new Keyspace(generationPrefix(config.redis.keyPrefix, active)), storeOptionsOf(config));
        process.stdout.write(await explain(store, { app, account, ...opts }));
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    });

  program
    .command('prune-unregistered')
    .description('remove the one-to-one state of recipients never registered that have been idle for --idle-days (docs/projections.md, "Recipients never registered"); prints what it did as JSON')
    .requiredOption('--idle-days <days>', 'keep an owner with any unread message or read time newer than this', wholeNumber('--idle-days', 1))
    .option('--app <app>', 'only this tenant')
    .option('--dry-run', 'count what would go, delete nothing')
    .action(async (opts: { idleDays: number; app?: string; dryRun?: boolean }) => {
      const config = loadConfig(env);
      const redis = createRedisClient(config.redis, { offlineQueue: true, commandTimeoutMs: 10_000, connectionName: 'unread-prune' });
      try {
        const { active } = await new Generations(redis, config.redis.keyPrefix).read();
        const store = new ProjectionStore(redis, new Keyspace(generationPrefix(config.redis.keyPrefix, active)), storeOptionsOf(config));
        const report = await pruneUnregistered(store, { idleMs: opts.idleDays * 86_400_000, app: opts.app, check: opts.dryRun === true });
        process.stdout.write(`${JSON.stringify({ dryRun: opts.dryRun === true, ...report })}\n`);
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    });

  program
    .command('rebuild')
    .description('rebuild every projection from the log into a new generation, then switch to it (docs/reliability.md)')
    .option('--keep-old', "keep the previous generation's keys")
    .option('--grace-ms <ms>', 'wait this long after the switch before deleting the previous generation', wholeNumber('--grace-ms', 0))
    .option('--progress-every <ms>', 'when stderr is not a terminal: a progress line per topic this often', wholeNumber('--progress-every', 50), 5_000)
    .action(async (opts: { keepOld?: boolean; graceMs?: number; progressEvery: number }) => {
      const config = loadConfig(env);
      const topics = CONSUMED_TOPIC_ROLES.map((r) => config.kafka.topics[r]);
      const progress = new Progress({ stream: process.stderr, unit: 'events', intervalMs: opts.progressEvery });
      const reporter = new RebuildProgress(createKafka(config.kafka, `${config.kafka.clientId}-rebuild-progress`).admin(), topics, progress);
      await reporter.start();
      try {
        const r = await rebuild(config, {
          keepOld: opts.keepOld,
          graceMs: opts.graceMs,
          onBatch: reporter.onBatch,
          log: (line) => progress.log(`rebuild: ${line}\n`),
        });
        await reporter.stop();
        process.stdout.write(`${JSON.stringify(r)}\n`);
      } finally {
        await reporter.stop().catch(() => undefined);
      }
    });

  program
    .command('watch')
    .description('tail the change feed (docs/events.md, "The change feed"): one line per record of APP, or of one ACCOUNT; Ctrl-C stops')
    .argument('<app>', 'the tenant (SDKAppID or AppKey)')
    .argument('[account]', 'only this account')
    .option('--from-beginning', 'start at the oldest record kept (the last of every account on the compacted topic), not at new records')
    .option('--count <n>', 'stop after n records', (v: string) => {
      if (!/^[1-9][0-9]{0,8}$/.test(v)) throw new InvalidArgumentError('a positive integer');
      return Number(v);
    })
    .option('--json', 'print each record as it is on the topic')
    .action(async (app: string, account: string | undefined, o: { fromBeginning?: boolean; count?: number; json?: boolean }) => {
      const stop = new Promise<void>((r) => process.once('SIGINT', () => r()).once('SIGTERM', () => r()));
      await watchFeed(loadConfig(env), { app, account, ...o }, (line) => process.stdout.write(`${line}\n`), stop);
    });

  program
    .command('capacity')
    .description('size a deployment from a benchmark result: projector cores, partitions, Redis shards and memory (docs/capacity.md)')
    .argument('[file]', 'a bench result', 'bench/results/latest.json')
    .action((file: string) => {
      process.stdout.write(`${capacityReport(file)}\n`);
    });

  program
    .command('local')
    .description('run the whole service locally: mock broker, redis-server, projector, gateway and sample data (npm run start:local)')
    .action(async () => (await import('./local.command')).runLocal(env)); // loaded on use: it pulls in both apps

  program
    .command('bench')
    .description('the benchmark with same-run baselines (docs/performance.md; unread bench --help for its options)')
    .argument('[options...]', 'the benchmark\'s own options, e.g. --quick, --only ingest,queries')
    .helpOption(false)
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (args: string[]) => (await import('./bench/bench.command')).runBenchCommand(args, env));

  return program;
}

/** `err` as the one clear line of a broker that refused the client's security, when it is one. */
function kafkaRefusal(err: unknown, env: NodeJS.ProcessEnv): unknown {
  try {
    return asKafkaRefusal(err, loadConfig(env, { requireRedis: false }).kafka);
  } catch {
    return err; // the command failed before a configuration could be read
  }
}

/** Runs the program and resolves with its exit code (errors are reported on stderr). */
export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    await buildProgram(env).parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed the message or the help already
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof ExitError) {
      if (err.message) process.stderr.write(`unread: ${err.message}\n`);
      return err.code;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`unread: ${err.message}\n`);
      return EXIT.usage;
    }
    const shown = kafkaRefusal(err, env);
    process.stderr.write(`unread: ${shown instanceof Error ? shown.message : String(shown)}\n`);
    return EXIT.failed;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2), process.env).then((code) => {
    // `local` keeps running until Ctrl-C; every other command ends here (no client timer keeps it alive).
    if (code !== EXIT.ok || process.argv[2] !== 'local') process.exit(code);
  });
}
