/**
 * `bench solver`: where the standard auction's exact solver is fast and where it is not. For
 * each n, the whole mechanism (p = 1: allocation and every Clarke re-solve) on the paper's
 * workload with m = 8, once per coin, serially, each run in a worker thread stopped at a time
 * limit; the wall time, and how many of the run's exact solves the surrogate method left to
 * the branch-and-bound search (solver.ts). The coins are fixed (sha256 of "coin0", "coin1",
 * …), so a run is reproducible; the distributed benches draw a new coin every round.
 */
import { Worker } from 'node:worker_threads';
import { utf8 } from '../src/core/bytes.js';
import { sha256 } from '../src/core/hash.js';
import { machineLine } from './machine.js';
import {
  markdownReport,
  resultHeader,
  startMark,
  toJson,
  type ResultFiles,
  type ResultHeader,
} from './results.js';
import { createProgress } from './progress.js';
import { round2, roundSpread, spread } from './stats.js';
import { spreadCell, type Table } from './table.js';

/** Options of the solver bench, as the CLI parsed them. */
export interface SolverBenchOptions {
  readonly users: readonly number[];
  readonly coins: number;
  readonly timeoutS: number;
  readonly seed: string;
  readonly command: string;
}

/** What the worker runs: the workload seed and size, and the coin's index. */
export interface SolverJob {
  readonly seed: string;
  readonly n: number;
  readonly coin: number;
}

/** One finished run, as the worker posts it. */
export interface SolverRun {
  readonly wallMs: number;
  /** Winners before the lottery: the run solved 1 + winners exact problems. */
  readonly winners: number;
  /** Exact solves the surrogate method did not settle. */
  readonly searchSolves: number;
  readonly outcomeHash: string;
}

/** One run of the bench: a {@link SolverRun}, or null when it passed the time limit. */
export interface SolverSample {
  readonly n: number;
  readonly coin: number;
  readonly run: SolverRun | null;
}

/** The JSON result file of the solver bench. */
export interface SolverResults extends ResultHeader {
  readonly options: Omit<SolverBenchOptions, 'command'>;
  readonly samples: readonly SolverSample[];
}

/** The common-coin seed of coin `c`: sha256("coin" ‖ c). */
export function coinSeed(c: number): Uint8Array {
  return sha256(utf8(`coin${c}`));
}

/** Runs every (n, coin) in turn, each in its own worker. */
export async function runSolverBench(o: SolverBenchOptions): Promise<SolverResults> {
  const started = startMark();
  const progress = createProgress(o.users.length * o.coins);
  const samples: SolverSample[] = [];

  try {
    for (const n of o.users) {
      for (let coin = 0; coin < o.coins; coin++) {
        const run = await runInWorker({ seed: o.seed, n, coin }, o.timeoutS * 1000);
        samples.push({ n, coin, run: run && { ...run, wallMs: round2(run.wallMs) } });
        progress.tick(`solver n=${n} coin ${coin}`);
      }
    }
  } finally {
    progress.stop();
  }

  const { command, ...options } = o;
  return { ...resultHeader('solver', command, started, []), options, samples };
}

/** One run in a worker thread; null when it is still running after `limitMs`. */
async function runInWorker(job: SolverJob, limitMs: number): Promise<SolverRun | null> {
  const worker = new Worker(new URL('./solver-worker.js', import.meta.url), { workerData: job });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<SolverRun | null>((resolve, reject) => {
      timer = setTimeout(() => resolve(null), limitMs);
      worker.once('message', (run: SolverRun) => resolve(run));
      worker.once('error', reject);
    });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}

/** The table printed and written as solver.md: one row per n. */
export function solverTable(r: SolverResults): Table {
  const limit = `not done in ${r.options.timeoutS} s`;
  return {
    headers: ['n', 'coins', 'whole mechanism ms (done)', limit, 'solves by search (done)'],
    numeric: [true, true, true, true, true],
    rows: r.options.users.map((n) => {
      const runs = r.samples.filter((s) => s.n === n);
      const done = runs.flatMap((s) => (s.run ? [s.run] : []));
      const solves = done.reduce((t, x) => t + 1 + x.winners, 0);
      const search = done.reduce((t, x) => t + x.searchSolves, 0);
      return [
        String(n),
        String(runs.length),
        done.length > 0 ? spreadCell(roundSpread(spread(done.map((x) => x.wallMs)))) : '–',
        String(runs.length - done.length),
        done.length > 0 ? `${search} of ${solves}` : '–',
      ];
    }),
  };
}

/** The result files: solver.json and solver.md. */
export function solverFiles(r: SolverResults): ResultFiles {
  const caption =
    `${machineLine(r.machine)}; m = 8, coins 0–${r.options.coins - 1}, ` +
    `limit ${r.options.timeoutS} s per run, seed ${r.options.seed}`;
  const md = markdownReport(
    'Standard auction, whole mechanism serially (p = 1), one run per coin: median [min–max] ' +
      'of the runs that finished, in ms.',
    caption,
    r,
    solverTable(r),
  );
  return { 'solver.json': toJson(r), 'solver.md': md };
}
