/**
 * The worker thread of `bench solver`: one whole standard-auction mechanism run (p = 1) on the
 * paper's workload, posted back as a {@link SolverRun}. It runs in a worker so that the bench
 * can stop it at its time limit: the exact search cannot be interrupted from inside.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toHex } from '../src/core/bytes.js';
import { searchStats } from '../src/mechanisms/standard/bnb.js';
import { encodeStandardOutcome } from '../src/mechanisms/standard/codec.js';
import { runPvcg } from '../src/mechanisms/standard/pvcg.js';
import { DEFAULT_EPSILON_PPM } from '../src/mechanisms/standard/types.js';
import { outcomeHash } from '../src/protocol/fast-round.js';
import { coinSeed, type SolverJob, type SolverRun } from './solver.js';
import { standardWorkload } from './standard.js';

const job = workerData as SolverJob;
const scenario = standardWorkload(job.seed, job.n);
const input = {
  providers: scenario.providers,
  users: scenario.users,
  epsilonPpm: DEFAULT_EPSILON_PPM,
  mode: 'midr' as const,
};

const t0 = performance.now();
const outcome = runPvcg(input, coinSeed(job.coin));
const run: SolverRun = {
  wallMs: performance.now() - t0,
  winners: outcome.winners.length,
  searchSolves: searchStats.fallback,
  outcomeHash: toHex(outcomeHash(encodeStandardOutcome(outcome))),
};
parentPort!.postMessage(run);
