/**
 * `auctioneer simulate`: the adversarial simulation of issue #7. Runs N seeded runs, each a
 * random cluster (m ∈ {3, 5, 8}) with a coalition of 1..k deviating providers playing one
 * strategy of the catalogue under a random schedule, and reports how many runs ended in ⊥,
 * whether any honest provider output a wrong outcome or a different one from another, and
 * whom each ⊥ named. `--agreement faithful` runs the bit-level agreement of #4 instead (the
 * double auction only), with the KS flavour and decision rule drawn per run or fixed by --ks
 * and --decision-rule.
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from '../../core/errors.js';
import { formatReport, type SimulationReport } from '../../sim/report.js';
import { runSimulation } from '../../sim/simulate.js';
import { STRATEGIES, type StrategyName } from '../../sim/strategies.js';

/** Options of the simulate command, as the CLI parsed them. */
export interface SimulateOptions {
  runs: number;
  seed: string;
  auction: string;
  agreement: string;
  ks?: string;
  decisionRule?: string;
  json: boolean;
  workers?: number;
  first?: number;
  strategies?: string;
  phaseTimeoutMs?: number;
  startTimeoutMs?: number;
  verbose: boolean;
}

/** The JSON `--json` prints: the report plus where and how long it ran. */
export interface SimulateJson extends SimulationReport {
  readonly command: string;
  readonly cpuSeconds: number;
  readonly seconds: number;
  readonly node: string;
  readonly cpus: number;
}

/**
 * Runs the simulation and prints its report; returns 0 when no honest provider output a wrong
 * or split outcome, none hung or failed locally and no ⊥ named an honest provider, else 1.
 */
export async function simulateCommand(o: SimulateOptions): Promise<number> {
  const strategies = parseStrategies(o.strategies);
  const verbose = o.verbose && !o.json;
  const workers = verbose ? 0 : (o.workers ?? Math.min(availableParallelism(), o.runs));
  const progress = !o.json && process.stderr.isTTY === true;
  const cpu0 = process.cpuUsage();

  const report = await runSimulation({
    runs: o.runs,
    seed: o.seed,
    auction: o.auction,
    agreement: o.agreement,
    ...(o.ks !== undefined && { ks: o.ks }),
    ...(o.decisionRule !== undefined && { decisionRule: o.decisionRule }),
    workers,
    ...(o.first !== undefined && { firstRun: o.first }),
    ...(strategies && { strategies }),
    ...(o.phaseTimeoutMs !== undefined && { phaseTimeoutMs: o.phaseTimeoutMs }),
    ...(o.startTimeoutMs !== undefined && { startTimeoutMs: o.startTimeoutMs }),
    ...(progress && {
      onProgress: (done: number, total: number) =>
        process.stderr.write(`\r  ${done} of ${total} runs`),
    }),
    ...(verbose && {
      onRun: (d) => {
        const v = d.verdict;
        const head =
          `run ${d.plan.index}: m=${d.plan.m} k=${d.plan.k} coalition {${d.plan.coalition}} ` +
          (d.plan.faithful ? `ks=${d.plan.faithful.ks} rule=${d.plan.faithful.rule} ` : '') +
          `${d.plan.strategy} ${d.plan.variant.label}; ` +
          `delay ≤ ${d.plan.schedule.maxDelayMs} ms, latency ${d.plan.schedule.latencyMs} ms, ` +
          `duplicates ${d.plan.schedule.dupPercent}%`;
        const lines = [head];
        d.results.forEach((r, i) => {
          const who = `${i}${d.plan.coalition.includes(i) ? '*' : ' '}`;
          if (r === null) lines.push(`  ${who} never finished`);
          else if (r.ok)
            lines.push(
              `  ${who} outcome ${Buffer.from(r.outcomeHash).toString('hex').slice(0, 16)}`,
            );
          else lines.push(`  ${who} ⊥ blames [${r.reason.blamed}]: ${r.reason.message}`);
        });
        for (const p of v.problems) lines.push(`  ! ${p}`);
        process.stdout.write(lines.join('\n') + '\n');
      },
    }),
  });
  if (progress) process.stderr.write('\r\x1b[K');

  const cpu = process.cpuUsage(cpu0);
  const ok =
    report.wrongOutcomes === 0 &&
    report.splits === 0 &&
    report.hangs === 0 &&
    report.localFailures === 0 &&
    report.blameWrong === 0;
  if (o.json) {
    const out: SimulateJson = {
      ...report,
      command: `auctioneer simulate ${process.argv.slice(3).join(' ')}`.trim(),
      seconds: Math.round(report.elapsedMs / 100) / 10,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
      node: process.version,
      cpus: availableParallelism(),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    process.stdout.write(formatReport(report) + '\n');
    process.stdout.write(
      `  CPU time ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; ` +
        `${ok ? 'every guarantee held' : 'a guarantee was violated (see above)'}\n`,
    );
  }
  return ok ? 0 : 1;
}

function parseStrategies(text: string | undefined): StrategyName[] | undefined {
  if (text === undefined) return undefined;
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const known = STRATEGIES.map((s) => s.name as string);
  for (const n of names) {
    if (!known.includes(n)) {
      throw new ConfigError(`--strategies: unknown strategy "${n}" (known: ${known.join(', ')})`);
    }
  }
  return names as StrategyName[];
}
