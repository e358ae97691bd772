/**
 * Exact winner determination for the standard auction (mechanisms.md B.2, Decision 3): the
 * multiple-choice, multi-dimensional multiple knapsack
 *
 *   max Σ_i w_i·[x_i ≠ none]   s.t.   Σ_{i : x_i = s} d_i[r] ≤ C[s][r]  ∀ s, r;   x_i ∈ A_i ∪ {none}
 *
 * solved to optimality gap 0 in integer arithmetic only (quantities are exact JS integers below
 * 2^53, weights bigint), so every provider computes bit-identical results.
 *
 * **Tie rule (the same on every machine, blind to bids).** Encode a choice as 0 for none and
 * s + 1 for provider index s. Among all optimal assignments the solvers return the one whose
 * code vector, read in user order (the mechanism passes users in id order), is
 * lexicographically smallest: a low-id user is left unserved whenever that costs nothing, and
 * otherwise goes to the lowest-index provider that still allows an optimum. Users with weight 0
 * are never served.
 *
 * Two implementations, checked against each other by the tests:
 * - {@link exactMaxOracle}: a memoised capacity-state dynamic programme (B.3 option 1), for
 *   small instances only (its state space is Π (C[s][r] + 1)).
 * - {@link exactMaxBnB}: for R = 1, first the surrogate method (surrogate.ts, packing.ts): the
 *   one-knapsack relaxation over Σ C, whose optimal user set, when it can be split among the
 *   providers, is optimal; then, when that does not settle the problem, branch-and-bound
 *   (B.3 option 2, bnb.ts) with a Lagrangian bound built from exact per-provider knapsacks
 *   (R = 1) or the LP bound (any R).
 *
 * Measured on the paper's standard workload (m = 8): at n = 125 the plain LP bound leaves a
 * gap of 0.3–4 % and the search does not finish in minutes (a float MILP solver at zero gap
 * needs 270–400 s); the Lagrangian bound closes the gap to about 0.01 % and the search to
 * 0.2–20 million nodes for a whole mechanism run. From n = 225 (about 28 users per provider)
 * the surrogate optimum packed in every solve we ran, and a whole mechanism run takes 0.1–2.5 s
 * up to n = 1000 (docs/benchmarks.md).
 *
 * Known shortcoming (#5): between the two regimes, n ≈ 150–200 with m = 8, some solves have a
 * surrogate optimum that cannot be split (a few large users per provider) and fall back to the
 * search, whose time depends on the coin: at n = 150, 175 and 200, 2, 3 and 3 whole runs of
 * 4 were not done in 30 s (`npm run bench -- solver`). What would close it is a search over
 * the surrogate solutions themselves (next-best knapsack sets until one packs), not more
 * subgradient steps.
 */
import { Engine, type BoundKind } from './bnb.js';
import { compile, type WdpProblem, type WdpSolution } from './wdp.js';

export type { BoundKind } from './bnb.js';
export type { WdpProblem, WdpSolution } from './wdp.js';

/** Name recorded in outcomes when the branch-and-bound ran. */
export const BNB_SOLVER = 'exact-bnb-lagrangian/v1';

/** Name recorded in outcomes when the dynamic-programming oracle ran. */
export const ORACLE_SOLVER = 'exact-dp-oracle/v1';

/** Options of the branch-and-bound. */
export interface BnbOptions {
  /**
   * The bound: `lagrangian` needs R = 1; `auto` uses it when R = 1 and its tables are
   * affordable, else `lp`. Results are identical; only the running time differs.
   * @default 'auto'
   */
  readonly bound?: BoundKind;
  /**
   * Settle a solve by the surrogate relaxation and a split among the providers first
   * (surrogate.ts, packing.ts) when it can; otherwise, or when false, search.
   * @default true
   */
  readonly surrogate?: boolean;
}

/**
 * The exact optimum with the canonical tie rule, by the production solver (branch-and-bound).
 *
 * @param excluded user indices forced unserved (x_i = none), e.g. {i} for W_-i
 * @throws RangeError on a malformed problem (lengths, negatives, bad provider indices)
 */
export function exactMax(problem: WdpProblem, excluded?: ReadonlySet<number>): WdpSolution {
  return exactMaxBnB(problem, excluded);
}

/**
 * Branch-and-bound: the exact optimum and its lexicographically smallest assignment.
 *
 * @param excluded user indices forced unserved
 * @throws RangeError on a malformed problem
 */
export function exactMaxBnB(
  problem: WdpProblem,
  excluded?: ReadonlySet<number>,
  options: BnbOptions = {},
): WdpSolution {
  return new Engine(compile(problem), options.bound, options.surrogate).solve(excluded);
}

/**
 * A problem compiled once and solved repeatedly with different exclusions: task 1 solves it,
 * the payment tasks re-solve it once per winner, sharing the root Lagrange multipliers.
 */
export class WdpInstance {
  private readonly engine: Engine;

  /**
   * Compiles and checks the problem.
   *
   * @throws RangeError on a malformed problem
   */
  constructor(problem: WdpProblem, options: BnbOptions = {}) {
    this.engine = new Engine(compile(problem), options.bound, options.surrogate);
  }

  /** Same as {@link exactMaxBnB}. */
  solve(excluded?: ReadonlySet<number>): WdpSolution {
    return this.engine.solve(excluded);
  }

  /**
   * The optimum value only (what W_-i needs).
   *
   * @param hint a feasible assignment, e.g. x* (excluded users are dropped from it); it only
   *   speeds the search up
   */
  value(excluded?: ReadonlySet<number>, hint?: readonly (number | null)[]): bigint {
    return this.engine.value(excluded, hint);
  }
}

/**
 * Capacity-state dynamic programme with memoisation: f(k, residual) = best value of users
 * k..n−1 given residual capacities. Exact by construction; exponential in S·R, so it is the
 * test oracle and the solver of small instances. Reconstruction walks the users in order and
 * takes the smallest code that keeps the optimum, which is the canonical tie rule.
 *
 * @param excluded user indices forced unserved
 * @throws RangeError when the state table grows past `maxStates` (default 2,000,000)
 */
export function exactMaxOracle(
  problem: WdpProblem,
  excluded?: ReadonlySet<number>,
  maxStates = 2_000_000,
): WdpSolution {
  // Independent of compile(): the oracle reads the problem as given.
  const n = problem.demand.length;
  const m = problem.capacity.length;
  const R = m > 0 ? problem.capacity[0]!.length : 0;
  if (m < 1 || R < 1 || problem.weight.length !== n || problem.accepts.length !== n) {
    throw new RangeError('exactMaxOracle: malformed problem');
  }
  const res = problem.capacity.flatMap((row) => row.map(Number));
  const dem = problem.demand.flatMap((row) => row.map(Number));
  const w = problem.weight;
  const acc = problem.accepts.map((a) => {
    const row = new Array<boolean>(m).fill(a === null);
    for (const s of a ?? []) row[s] = true;
    return row;
  });
  const memo = new Map<string, bigint>();

  const allowed = (i: number): boolean => !(excluded?.has(i) ?? false) && w[i]! > 0n;
  const ok = (i: number, s: number): boolean => {
    if (!allowed(i) || !acc[i]![s]) return false;
    for (let r = 0; r < R; r++) if (dem[i * R + r]! > res[s * R + r]!) return false;
    return true;
  };
  const place = (i: number, s: number, sign: number): void => {
    for (let r = 0; r < R; r++) res[s * R + r]! -= sign * dem[i * R + r]!;
  };

  const f = (k: number): bigint => {
    if (k === n) return 0n;
    const key = `${k}|${res.join(',')}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;

    let best = f(k + 1);
    for (let s = 0; s < m; s++) {
      if (!ok(k, s)) continue;
      place(k, s, 1);
      const v = w[k]! + f(k + 1);
      place(k, s, -1);
      if (v > best) best = v;
    }

    if (memo.size >= maxStates)
      throw new RangeError(`exactMaxOracle: more than ${maxStates} states`);
    memo.set(key, best);
    return best;
  };

  // Forward reconstruction: the first code (none, then providers by index) that keeps f.
  const value = f(0);
  const assignment: (number | null)[] = new Array<number | null>(n).fill(null);
  let remaining = value;
  for (let k = 0; k < n; k++) {
    if (f(k + 1) === remaining) continue;
    let chosen: number | null = null;
    for (let s = 0; s < m && chosen === null; s++) {
      if (!ok(k, s)) continue;
      place(k, s, 1);
      if (w[k]! + f(k + 1) === remaining) chosen = s;
      else place(k, s, -1);
    }
    if (chosen === null) throw new Error('exactMaxOracle: reconstruction failed (bug)');
    assignment[k] = chosen;
    remaining -= w[k]!;
  }
  return { value, assignment };
}
