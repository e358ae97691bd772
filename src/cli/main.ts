#!/usr/bin/env node
/**
 * The `auctioneer` command line. This file only declares commands and their flags; each
 * command lives in commands/ and is imported when it runs.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ExitError, reportError } from './errors.js';
import { LOG_LEVELS } from './logger.js';

/** The package's version, read from package.json next to dist/. */
const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const program = new Command()
  .name('auctioneer')
  .version(VERSION)
  .description(
    'A distributed auctioneer: resource providers jointly run a truthful auction and all\n' +
      'agree on one allocation and one set of payments, or all abort (⊥).',
  )
  .showHelpAfterError('(run with --help for usage)')
  // Descriptions are broken by hand at < 100 columns; a narrower wrap would break them twice.
  .configureHelp({ helpWidth: 100 })
  // Usage errors throw instead of exiting with commander's status 1: bad input exits 2.
  .exitOverride();

program
  .command('demo')
  .summary('one distributed auction round on loopback, checked against the centralised run')
  .description(
    'Run one distributed auction round (STAR-Padding, or PVCG-ε with --auction standard) on\n' +
      'this machine: start every provider as its own process on loopback (ZeroMQ), submit\n' +
      "every user's bid to every provider, and check that all providers agree and that the\n" +
      'outcome equals the centralised one.\n' +
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
  .addOption(
    new Option('--auction <kind>', 'double (STAR-Padding) or standard (PVCG-ε)')
      .choices(['double', 'standard'])
      .default('double'),
  )
  .option(
    '--epsilon-ppm <ppm>',
    'standard: ε in parts per million (default 100000)',
    intArg('--epsilon-ppm', 0, 999_999),
  )
  .addOption(
    new Option('--mode <mode>', 'standard: midr (lottery, default) or wvcg').choices([
      'midr',
      'wvcg',
    ]),
  )
  .option(
    '--groups <p>',
    'standard: provider groups for the payment tasks (default ⌊m/(k+1)⌋)',
    intArg('--groups', 1, 1000),
  )
  .addOption(
    new Option('--agreement <mode>', 'bid agreement: bid-level fast, or bit-level faithful (§4)')
      .choices(['fast', 'faithful'])
      .default('fast'),
  )
  .addOption(
    new Option('--ks <flavour>', 'faithful mode: Shamir shares (it) or commit-reveal (crypto)')
      .choices(['it', 'crypto'])
      .default('it'),
  )
  .addOption(
    new Option('--decision-rule <rule>', 'faithful mode: per-lane rule')
      .choices(['majority', 'leader'])
      .default('majority'),
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
  .action(async (o, cmd: Command) => {
    refuseInapplicable(cmd, o.auction, [...DOUBLE_ONLY, ...STANDARD_ONLY]);
    refuseInapplicable(cmd, o.agreement ?? 'fast', FAITHFUL_ONLY);
    const { demoCommand } = await import('./commands/demo.js');
    const status = await demoCommand(o);
    if (status !== 0) throw new ExitError(status);
  });

/** Demo options that apply to one auction or agreement only: [option, where it applies]. */
const DOUBLE_ONLY = [['rule', '--auction double']] as const;
const STANDARD_ONLY = [
  ['epsilonPpm', '--auction standard'],
  ['mode', '--auction standard'],
  ['groups', '--auction standard'],
] as const;
const FAITHFUL_ONLY = [
  ['ks', '--agreement faithful'],
  ['decisionRule', '--agreement faithful'],
] as const;

/**
 * Refuses an option given on the command line where it has no effect (`--groups` in a double
 * auction, say) rather than silently ignoring it. `current` is the mode in force, e.g.
 * "standard"; an option applies when its `where` ends with it.
 */
function refuseInapplicable(
  cmd: Command,
  current: string,
  options: readonly (readonly [string, string])[],
): void {
  for (const [key, where] of options) {
    if (cmd.getOptionValueSource(key) !== 'cli' || where.endsWith(` ${current}`)) continue;
    const flag = '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    throw new ExitError(2, `${flag}: applies to ${where} only (this run: ${current})`);
  }
}

const PROVIDER_FLAGS = ['cluster', 'keys', 'id', 'capacity'] as const;

program
  .command('provider')
  .summary('run one provider (with --config: the provider daemon)')
  .description(
    'Run one provider of a cluster until SIGINT or SIGTERM. With --config: the daemon (a round\n' +
      'clock, signed user bids, a ledger, a status endpoint; see README "Run your own\n' +
      'cluster"). Without: a provider whose rounds a client closes (--cluster, --keys, --id,\n' +
      '--capacity and, in the double auction, --ask; the demo runs these).',
  )
  .option('--config <file>', 'a provider config file: run the daemon')
  .option('--cluster <file>', 'the cluster file (public: providers, k, auction)')
  .option('--keys <dir>', "this provider's key directory (from keygen)")
  .option('--id <id>', "this provider's id in the cluster file")
  .option('--ask <micro>', "double auction: this provider's ask, micro-units per unit")
  .option('--capacity <units>', "this provider's capacity in units (a,b,… for several resources)")
  .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
  .option('--log-file <file>', 'write the log there instead of stderr')
  .option('--latency-ms <ms>', 'one-way delay added to every envelope this provider sends')
  .addOption(
    new Option('--exit-with-parent', 'stop when stdin closes (for demo and bench)').hideHelp(),
  )
  .action(async (o, cmd: Command) => {
    const flags = [...PROVIDER_FLAGS, 'ask'] as const;
    const given = flags.filter((k) => o[k] !== undefined).map((k) => `--${k}`);
    if (o.config !== undefined) {
      if (given.length > 0) {
        throw new ExitError(2, `--config cannot be combined with ${given.join(', ')}`);
      }
      const { providerDaemonCommand } = await import('./commands/provider-daemon.js');
      await providerDaemonCommand({
        config: o.config,
        ...(cmd.getOptionValueSource('logLevel') === 'cli' && { logLevel: o.logLevel }),
        ...(o.logFile !== undefined && { logFile: o.logFile }),
      });
      return;
    }
    const missing = PROVIDER_FLAGS.filter((k) => o[k] === undefined).map((k) => `--${k}`);
    if (missing.length > 0) {
      throw new ExitError(2, `provider: give --config, or all of ${missing.join(', ')}`);
    }
    const { providerCommand } = await import('./commands/provider.js');
    await providerCommand(o);
  });

program
  .command('bid')
  .summary("sign a user's bid and submit it to every provider daemon")
  .description(
    "Sign a user's bid with its key and submit it to every provider of a cluster (daemons).\n" +
      'The round is the open one as the providers report it, unless --round names one. Exit\n' +
      'status 0 when every provider accepted the bid, 1 otherwise.',
  )
  .requiredOption('--cluster <file>', 'the cluster file')
  .requiredOption('--key <dir>', "the user's key directory (from keygen; its id is signingKey)")
  .requiredOption('--price <micro>', 'the bid: micro-units per bandwidth unit')
  .requiredOption('--demand <units>', 'bandwidth units wanted (all or nothing)')
  .option('--round <r>', 'the round to bid in (default: the open round)')
  .option('--json', 'print one JSON object', false)
  .action(async (o) => {
    const { bidCommand } = await import('./commands/bid.js');
    const status = await bidCommand(o);
    if (status !== 0) throw new ExitError(status);
  });

program
  .command('result')
  .summary("every provider's signed result of a round; exit 0 only if all agree")
  .description(
    "Fetch a round's signed result from every provider and check that they agree. Exit\n" +
      'status 0 only when every provider signed the same outcome (and it checks), else 1.',
  )
  .requiredOption('--cluster <file>', 'the cluster file')
  .requiredOption('--round <r>', 'the round')
  .option(
    '--wait-ms <ms>',
    'how long to wait for a round still running',
    intArg('--wait-ms', 0, 600_000),
    15_000,
  )
  .option('--json', 'print one JSON object', false)
  .action(async (o) => {
    const { resultCommand } = await import('./commands/result.js');
    const status = await resultCommand(o);
    if (status !== 0) throw new ExitError(status);
  });

program
  .command('verify')
  .summary("recompute a round from a provider's ledger")
  .description(
    "Recompute a round from a provider's ledger alone (signatures, agreement, coin,\n" +
      'mechanism) and say whether it matches. Exit status 0 when it does, 1 when not.',
  )
  .requiredOption('--ledger <file>', "a provider's ledger (SQLite)")
  .requiredOption('--round <r>', 'the round')
  .option('--cluster <file>', 'check the public keys against this cluster file')
  .option('--json', 'print one JSON object', false)
  .action(async (o) => {
    const { verifyCommand } = await import('./commands/verify.js');
    const status = verifyCommand(o);
    if (status !== 0) throw new ExitError(status);
  });

program
  .command('simulate')
  .summary('adversarial simulation: coalitions of deviating providers, in memory')
  .description(
    'Adversarial simulation (in memory, virtual time): N seeded runs, each a cluster of\n' +
      'm ∈ {3, 5, 8} providers where a coalition of 1..k plays one deviation strategy under a\n' +
      'random schedule. Prints the runs ending in ⊥, wrong and split outcomes, whom each ⊥\n' +
      'named, and a per-strategy table. Exit status 0 when every guarantee held, 1 otherwise.\n' +
      'With --agreement faithful (double auction only) every run uses the bit-level agreement,\n' +
      'its KS flavour and decision rule drawn per run unless --ks or --decision-rule fix them.',
  )
  .option('--runs <n>', 'number of runs', intArg('--runs', 1, 100_000_000), 1000)
  .option('--seed <seed>', 'seed every run derives from', '1')
  .addOption(
    new Option('--auction <kind>', 'the auction').choices(['double', 'standard']).default('double'),
  )
  .addOption(
    new Option('--agreement <mode>', 'bid agreement: bid-level fast, or bit-level faithful (§4)')
      .choices(['fast', 'faithful'])
      .default('fast'),
  )
  .addOption(
    new Option(
      '--ks <flavour>',
      'faithful: KS by Shamir shares (it) or commit-reveal (crypto) (default: drawn per run)',
    ).choices(['it', 'crypto']),
  )
  .addOption(
    new Option(
      '--decision-rule <rule>',
      'faithful: per-lane decision rule (default: drawn per run)',
    ).choices(['majority', 'leader']),
  )
  .option('--json', 'print one JSON object', false)
  .option(
    '--workers <w>',
    'worker threads; 0 runs in this thread (default: one per CPU)',
    intArg('--workers', 0, 64),
  )
  .option(
    '--first <i>',
    'index of the first run (replays runs of a bigger simulation)',
    intArg('--first', 0, 1e12),
  )
  .option('--strategies <list>', 'comma-separated strategies to draw from (default: all)')
  .option(
    '--phase-timeout-ms <ms>',
    'phase deadline, virtual time (default 10000)',
    intArg('--phase-timeout-ms', 1, 3_600_000),
  )
  .option(
    '--start-timeout-ms <ms>',
    'START deadline, virtual time (default 30000)',
    intArg('--start-timeout-ms', 1, 3_600_000),
  )
  .option('--verbose', 'print every run and every provider result (runs in one thread)', false)
  .action(async (o) => {
    const { simulateCommand } = await import('./commands/simulate.js');
    const status = await simulateCommand(o);
    if (status !== 0) throw new ExitError(status);
  });

program
  .command('keygen')
  .summary('create an identity: Ed25519 signing key and CURVE key pair')
  .description(
    'Create an identity: an Ed25519 signing key and a CURVE key pair (owner-only files),\n' +
      "for a provider or a user (a user's id is the signingKey it prints).",
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

// A closed stdout (`auctioneer demo | head -1`) ends the command quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has printed its message already; help and --version end with status 0.
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else process.exitCode = reportError(err);
}
