/**
 * The adversarial simulator's entry point (issue #7): runs N seeded runs, in this thread or
 * spread over worker threads, and counts what happened. Run i of seed s is the same run
 * wherever it executes, so the report does not depend on the number of workers.
 *
 * @example
 *   const report = await runSimulation({ runs: 1000, seed: '1', workers: 2 });
 *   if (report.wrongOutcomes > 0) ...
 */
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../core/errors.js';
import {
  DECISION_RULES,
  KS_FLAVOURS,
  type DecisionRule,
  type KsFlavour,
} from '../protocol/faithful/params.js';
import { AUCTION_KINDS, type AuctionKind } from './auctions.js';
import { VirtualClock } from './clock.js';
import { simIdentities } from './keys.js';
import {
  SIM_AGREEMENTS,
  SIM_PHASE_TIMEOUT_MS,
  SIM_SIZES,
  SIM_START_TIMEOUT_MS,
  drawPlan,
  enabledStrategies,
  type PlanOptions,
  type RunPlan,
  type SimAgreement,
} from './plan.js';
import { countRun, emptyReport, mergeReport, type SimulationReport } from './report.js';
import { executePlan, type RunDetail, type SimEnvironment } from './run.js';
import { STRATEGIES, type StrategyName } from './strategies.js';
import { installCryptoMemo, uninstallCryptoMemo } from './crypto-memo.js';

/** Options of a simulation. */
export interface SimulationOptions {
  /** Number of runs, ≥ 1. */
  readonly runs: number;
  /** The seed every run derives from. */
  readonly seed: string;
  /** Index of the first run (to replay runs of a larger simulation). @default 0 */
  readonly firstRun?: number;
  /** Worker threads; 0 runs everything in the calling thread. @default 0 */
  readonly workers?: number;
  /** "double" or "standard". @default "double" */
  readonly auction?: string;
  /** "fast" or "faithful" (bit level, #4; the double auction only). @default "fast" */
  readonly agreement?: string;
  /** Faithful only: "it" or "crypto" for every run. @default drawn per run */
  readonly ks?: string;
  /** Faithful only: "majority" or "leader" for every run. @default drawn per run */
  readonly decisionRule?: string;
  /** @default SIM_PHASE_TIMEOUT_MS (virtual) */
  readonly phaseTimeoutMs?: number;
  /** @default SIM_START_TIMEOUT_MS (virtual) */
  readonly startTimeoutMs?: number;
  /** Strategies to draw from. @default every one that applies to the auction */
  readonly strategies?: readonly StrategyName[];
  /** Called now and then with the number of runs done. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Called with every run's detail (only when workers is 0). */
  readonly onRun?: (detail: RunDetail) => void;
}

/** Runs a simulation and returns its report. @throws ConfigError for options it cannot run. */
export async function runSimulation(o: SimulationOptions): Promise<SimulationReport> {
  checkOptions(o);
  const started = performance.now();
  const firstRun = o.firstRun ?? 0;
  const planOpts: PlanOptions = {
    auction: (o.auction ?? 'double') as AuctionKind,
    agreement: (o.agreement ?? 'fast') as SimAgreement,
    ...(o.ks !== undefined && { ks: o.ks as KsFlavour }),
    ...(o.decisionRule !== undefined && { decisionRule: o.decisionRule as DecisionRule }),
    phaseTimeoutMs: o.phaseTimeoutMs ?? SIM_PHASE_TIMEOUT_MS,
    startTimeoutMs: o.startTimeoutMs ?? SIM_START_TIMEOUT_MS,
    ...(o.strategies && { strategies: o.strategies }),
  };
  const workers = Math.min(o.workers ?? 0, o.runs);

  let report: SimulationReport;
  if (workers <= 0) {
    const indices = Array.from({ length: o.runs }, (_, i) => firstRun + i);
    report = await runIndices(o.seed, indices, planOpts, o.onProgress, o.onRun);
  } else {
    report = await runInWorkers(o.seed, firstRun, o.runs, workers, planOpts, o.onProgress);
  }
  report.workers = workers;
  report.elapsedMs = performance.now() - started;
  return canonicalOrder(report);
}

/** Lists strategies in catalogue order, sizes by m and flavours by name, however split. */
function canonicalOrder(r: SimulationReport): SimulationReport {
  const perStrategy: SimulationReport['perStrategy'] = {};
  for (const s of STRATEGIES)
    if (r.perStrategy[s.name]) perStrategy[s.name] = r.perStrategy[s.name]!;
  const perSize: SimulationReport['perSize'] = {};
  for (const m of SIM_SIZES) if (r.perSize[`m=${m}`]) perSize[`m=${m}`] = r.perSize[`m=${m}`]!;
  const perFlavour: SimulationReport['perFlavour'] = {};
  for (const ks of KS_FLAVOURS) {
    for (const rule of DECISION_RULES) {
      const t = r.perFlavour[`${ks}/${rule}`];
      if (t) perFlavour[`${ks}/${rule}`] = t;
    }
  }
  r.perStrategy = perStrategy;
  r.perSize = perSize;
  r.perFlavour = perFlavour;
  return r;
}

/** Executes one run (by plan) in this thread, with the simulation environment around it. */
export async function simulateRun(plan: RunPlan): Promise<RunDetail> {
  return withSimEnvironment(plan.seed, (env) => executePlan(plan, env));
}

/** Runs `f` with virtual time and the verification memo installed, then removes both. */
export async function withSimEnvironment<T>(
  seed: string,
  f: (env: SimEnvironment) => Promise<T>,
): Promise<T> {
  const clock = VirtualClock.install();
  installCryptoMemo();
  try {
    return await f({ clock, identities: simIdentities(seed) });
  } finally {
    uninstallCryptoMemo();
    clock.uninstall();
  }
}

/** Runs the given run indices in this thread. */
export async function runIndices(
  seed: string,
  indices: readonly number[],
  planOpts: PlanOptions,
  onProgress?: (done: number, total: number) => void,
  onRun?: (detail: RunDetail) => void,
): Promise<SimulationReport> {
  const report = emptyReport({
    seed,
    auction: planOpts.auction ?? 'double',
    agreement: planOpts.agreement ?? 'fast',
    firstRun: indices[0] ?? 0,
    phaseTimeoutMs: planOpts.phaseTimeoutMs ?? SIM_PHASE_TIMEOUT_MS,
    startTimeoutMs: planOpts.startTimeoutMs ?? SIM_START_TIMEOUT_MS,
  });
  await withSimEnvironment(seed, async (env) => {
    let done = 0;
    for (const index of indices) {
      const detail = await executePlan(drawPlan(seed, index, planOpts), env);
      env.clock.reset();
      countRun(report, detail);
      onRun?.(detail);
      if (++done % 100 === 0 || done === indices.length) onProgress?.(done, indices.length);
    }
  });
  return report;
}

/** Spreads runs over worker threads, run i to worker i mod W, and merges their reports. */
async function runInWorkers(
  seed: string,
  firstRun: number,
  runs: number,
  workers: number,
  planOpts: PlanOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<SimulationReport> {
  const progress = new Array<number>(workers).fill(0);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const indices: number[] = [];
      for (let i = w; i < runs; i += workers) indices.push(firstRun + i);
      return new Promise<SimulationReport>((resolve, reject) => {
        const worker = new Worker(new URL('./worker.js', import.meta.url), {
          workerData: { seed, indices, planOpts },
        });
        worker.on('message', (msg: WorkerMessage) => {
          if (msg.type === 'progress') {
            progress[w] = msg.done;
            onProgress?.(
              progress.reduce((a, b) => a + b, 0),
              runs,
            );
          } else resolve(msg.report);
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (code !== 0) reject(new Error(`simulation worker ${w} exited with ${code}`));
        });
      });
    }),
  );

  const report = emptyReport({
    seed,
    auction: planOpts.auction ?? 'double',
    agreement: planOpts.agreement ?? 'fast',
    firstRun,
    phaseTimeoutMs: planOpts.phaseTimeoutMs ?? SIM_PHASE_TIMEOUT_MS,
    startTimeoutMs: planOpts.startTimeoutMs ?? SIM_START_TIMEOUT_MS,
  });
  for (const p of parts) mergeReport(report, p);
  return report;
}

/** What a worker posts back. */
export type WorkerMessage =
  { type: 'progress'; done: number } | { type: 'report'; report: SimulationReport };

function checkOptions(o: SimulationOptions): void {
  if (!Number.isSafeInteger(o.runs) || o.runs < 1) {
    throw new ConfigError(`runs: expected an integer ≥ 1, got ${o.runs}`);
  }
  const auction = o.auction ?? 'double';
  if (!(AUCTION_KINDS as readonly string[]).includes(auction)) {
    throw new ConfigError(`auction: expected double or standard, got ${JSON.stringify(auction)}`);
  }
  const agreement = o.agreement ?? 'fast';
  if (!(SIM_AGREEMENTS as readonly string[]).includes(agreement)) {
    throw new ConfigError(`agreement: expected fast or faithful, got ${JSON.stringify(agreement)}`);
  }
  if (agreement === 'faithful' && auction !== 'double') {
    throw new ConfigError(
      `--agreement faithful runs the double auction only: the faithful agreement encodes ` +
        `double-auction bids as bits, and --auction ${auction} has no bit encoding yet`,
    );
  }
  for (const [flag, v, choices] of [
    ['--ks', o.ks, KS_FLAVOURS],
    ['--decision-rule', o.decisionRule, DECISION_RULES],
  ] as const) {
    if (v === undefined) continue;
    if (agreement !== 'faithful') {
      throw new ConfigError(`${flag}: applies to --agreement faithful only`);
    }
    if (!(choices as readonly string[]).includes(v)) {
      throw new ConfigError(`${flag}: expected ${choices.join(' or ')}, got ${JSON.stringify(v)}`);
    }
  }
  for (const [field, v] of [
    ['phaseTimeoutMs', o.phaseTimeoutMs],
    ['startTimeoutMs', o.startTimeoutMs],
  ] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) {
      throw new ConfigError(`${field}: expected a whole number of milliseconds ≥ 1, got ${v}`);
    }
  }
  enabledStrategies(o.strategies, auction as AuctionKind);
}
