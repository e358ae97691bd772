#!/usr/bin/env node
/**
 * The `auctioneer` command line. This file only declares commands and their flags; each
 * command lives in commands/ and is imported when it runs.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ExitError, reportError } from './errors.js';
import { LOG_LEVELS } from './logger.js';

const program = new Command()
  .name('auctioneer')
  .description(
    'A distributed auctioneer: resource providers jointly run a truthful auction and all\n' +
      'agree on one allocation and one set of payments, or all abort (⊥).',
  )
  .showHelpAfterError('(run with --help for usage)');

program
  .command('demo')
  .description(
    'Run one distributed double-auction round on this machine: start every provider as its\n' +
      "own process on loopback (ZeroMQ), submit every user's bid to every provider, and check\n" +
      'that all providers agree and that the outcome equals the centralised one.\n' +
      'Default: the Bremen Freifunk map (6 gateways, k = 2). With --providers or --users and\n' +
      "no --scenario, the paper's workload runs instead.",
  )
  .option(
    '--scenario <name|file>',
    "bremen, bielefeld, ulm, cologne-bonn-area, a meshviewer.json path, or 'paper'",
  )
  .option('--providers <m>', 'number of providers (paper workload)', intArg('--providers', 1, 1000))
  .option(
    '--users <n>',
    'number of users (paper workload; on a map: keep the n busiest)',
    intArg('--users', 1, 1_000_000),
  )
  .option(
    '--k <k>',
    'largest coalition tolerated; needs m ≥ 2k+1 (default: ⌊(m−1)/2⌋)',
    intArg('--k', 0, 500),
  )
  .option('--seed <seed>', 'seed of the scenario (asks, bids, capacities)', '1')
  .addOption(
    new Option('--rule <rule>', 'STAR-Padding winner rule')
      .choices(['safe', 'paper'])
      .default('safe'),
  )
  .option('--json', 'print one JSON object instead of the summary', false)
  .option(
    '--timeout-ms <ms>',
    'how long to wait for the round',
    intArg('--timeout-ms', 100, 3_600_000),
    60_000,
  )
  .option(
    '--latency-ms <ms>',
    'one-way delay added to every envelope between providers',
    intArg('--latency-ms', 0, 10_000),
  )
  .option('--keep', 'keep the work directory (keys, cluster file, provider logs)', false)
  .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('warn'))
  .action(async (o) => {
    const { demoCommand } = await import('./commands/demo.js');
    const status = await demoCommand(o);
    if (status !== 0) throw new ExitError(status);
  });

program
  .command('provider')
  .description('Run one provider of a cluster until SIGINT or SIGTERM.')
  .requiredOption('--cluster <file>', 'the cluster file (public: providers, k, auction)')
  .requiredOption('--keys <dir>', "this provider's key directory (from keygen)")
  .requiredOption('--id <id>', "this provider's id in the cluster file")
  .requiredOption('--ask <micro>', "this provider's ask, micro-units per bandwidth unit")
  .requiredOption('--capacity <units>', "this provider's capacity, bandwidth units")
  .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
  .option('--log-file <file>', 'write the log there instead of stderr')
  .option('--latency-ms <ms>', 'one-way delay added to every envelope this provider sends')
  .action(async (o) => {
    const { providerCommand } = await import('./commands/provider.js');
    await providerCommand(o);
  });

program
  .command('keygen')
  .description(
    'Create an identity: an Ed25519 signing key and a CURVE key pair (owner-only files).',
  )
  .requiredOption('--out <dir>', 'directory to create the keys in')
  .action(async (o) => {
    const { keygenCommand } = await import('./commands/keygen.js');
    keygenCommand(o);
  });

function intArg(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^-?[0-9]+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `${name}: expected an integer in [${min}, ${max}], got "${v}"`,
      );
    }
    return n;
  };
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}
