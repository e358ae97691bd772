/**
 * Exact winner determination for the standard auction (mechanisms.md B.2, Decision 3): the
 * multiple-choice, multi-dimensional multiple knapsack
 *
 *   max Σ_i w_i·[x_i ≠ none]   s.t.   Σ_{i : x_i = s} d_i[r] ≤ C[s][r]  ∀ s, r;   x_i ∈ A_i ∪ {none}
 *
 * solved to optimality gap 0 in integer arithmetic only (quantities are exact JS integers far
 * below 2^53, weights are bigint), so every provider computes bit-identical results.
 *
 * **Tie rule (the same on every machine, blind to bids).** Encode a choice as 0 for none and
 * s + 1 for provider index s. Among all optimal assignments the solvers return the one whose
 * code vector, read in user order (the caller passes users in id order), is lexicographically
 * smallest: low-id users are left unserved when that costs nothing, and otherwise go to the
 * lowest-index provider that still allows an optimum. Users with weight 0 are never served.
 *
 * Two implementations, which tests check against each other:
 * - {@link exactMaxOracle}: a memoised capacity-state dynamic programme (B.3 option 1), for
 *   small instances only (the state space is Π (C[s][r] + 1)).
 * - {@link exactMaxBnB}: a depth-first branch-and-bound (B.3 option 2) bounded by the LP /
 *   fractional relaxation per resource type (pooled residual capacity, Dantzig's rule, items
 *   that no longer fit anywhere skipped). Phase 1 finds the optimum value W*, branching in
 *   efficiency order with best fit first and symmetric providers merged; phase 2 walks the
 *   users in id order, children in code order, pruning every node whose bound is below W*,
 *   and stops at the first optimum, which is then the lexicographically smallest one.
 *   Value-only re-solves (W_-i) need phase 1 alone: {@link exactMaxValue}.
 */

/** The winner determination problem: users in id order, providers in configured order. */
export interface WdpProblem {
  /** C[s][r]: capacity of provider s in resource r (integer ≥ 0). */
  readonly capacity: readonly (readonly bigint[])[];
  /** d_i[r]: demand of user i in resource r (integer ≥ 0). */
  readonly demand: readonly (readonly bigint[])[];
  /** A_i as provider indices (any order), or null for every provider. */
  readonly accepts: readonly (readonly number[] | null)[];
  /** w_i ≥ 0, the (perturbed) weight of serving user i. */
  readonly weight: readonly bigint[];
}

/** An optimum: its value and the canonical assignment (provider index, or null for none). */
export interface WdpSolution {
  /** The optimum value Σ w_i over served users. */
  readonly value: bigint;
  /** Per user (same order as the problem): provider index, or null when not served. */
  readonly assignment: readonly (number | null)[];
}

/** Name recorded in outcomes when the branch-and-bound ran. */
export const BNB_SOLVER = 'exact-bnb-lp/v1';

/** Name recorded in outcomes when the dynamic-programming oracle ran. */
export const ORACLE_SOLVER = 'exact-dp-oracle/v1';

/** Largest quantity the solvers accept, so that sums of quantities stay exact integers. */
const MAX_SOLVER_QUANTITY = 1n << 40n;

const NONE = -1;

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
 */
export function exactMaxBnB(problem: WdpProblem, excluded?: ReadonlySet<number>): WdpSolution {
  const bnb = new BranchAndBound(compile(problem), excluded);
  const value = bnb.maxValue(0n);
  return { value, assignment: bnb.canonical(value) };
}

/**
 * The exact optimum value only (phase 1 of the branch-and-bound), for the payment re-solves.
 *
 * @param excluded user indices forced unserved
 * @param lowerBound the value of a solution known to be feasible under `excluded` (for W_-i:
 *   W* − w_i, the main optimum without user i); the search only looks for better ones
 */
export function exactMaxValue(
  problem: WdpProblem,
  excluded?: ReadonlySet<number>,
  lowerBound = 0n,
): bigint {
  return new BranchAndBound(compile(problem), excluded).maxValue(lowerBound);
}

/**
 * A problem compiled once and re-solved with different exclusions (the payment tasks re-solve
 * the same problem once per winner).
 */
export class WdpInstance {
  private readonly c: Compiled;

  /** Compiles and checks the problem. */
  constructor(problem: WdpProblem) {
    this.c = compile(problem);
  }

  /** Same as {@link exactMaxBnB}. */
  solve(excluded?: ReadonlySet<number>): WdpSolution {
    const bnb = new BranchAndBound(this.c, excluded);
    const value = bnb.maxValue(0n);
    return { value, assignment: bnb.canonical(value) };
  }

  /** Same as {@link exactMaxValue}. */
  value(excluded?: ReadonlySet<number>, lowerBound = 0n): bigint {
    return new BranchAndBound(this.c, excluded).maxValue(lowerBound);
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
  const c = compile(problem);
  const { n, m, R } = c;
  const memo = new Map<string, bigint>();
  const res = c.cap.slice();

  const allowed = (i: number): boolean => !(excluded?.has(i) ?? false) && c.w[i]! > 0n;
  const fits = (i: number, s: number): boolean => {
    for (let r = 0; r < R; r++) if (c.dem[i * R + r]! > res[s * R + r]!) return false;
    return true;
  };
  const place = (i: number, s: number, sign: number): void => {
    for (let r = 0; r < R; r++) res[s * R + r]! -= sign * c.dem[i * R + r]!;
  };

  const f = (k: number): bigint => {
    if (k === n) return 0n;
    const key = `${k}|${res.join(',')}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;

    let best = f(k + 1);
    if (allowed(k)) {
      for (let s = 0; s < m; s++) {
        if (!c.acc[k * m + s] || !fits(k, s)) continue;
        place(k, s, 1);
        const v = c.w[k]! + f(k + 1);
        place(k, s, -1);
        if (v > best) best = v;
      }
    }

    if (memo.size >= maxStates) throw new RangeError(`exactMaxOracle: more than ${maxStates} states`);
    memo.set(key, best);
    return best;
  };

  // Forward reconstruction: the first code (none, then providers by index) that keeps f.
  const value = f(0);
  const assignment: (number | null)[] = new Array<number | null>(n).fill(null);
  let remaining = value;
  for (let k = 0; k < n; k++) {
    if (f(k + 1) === remaining) continue;
    let chosen = NONE;
    for (let s = 0; s < m && chosen === NONE; s++) {
      if (!allowed(k) || !c.acc[k * m + s] || !fits(k, s)) continue;
      place(k, s, 1);
      if (c.w[k]! + f(k + 1) === remaining) chosen = s;
      else place(k, s, -1);
    }
    if (chosen === NONE) throw new Error('exactMaxOracle: reconstruction failed (bug)');
    assignment[k] = chosen;
    remaining -= c.w[k]!;
  }
  return { value, assignment };
}

// ---------------------------------------------------------------------------------------------
// Compiled form: flat integer arrays, efficiency orders, provider symmetry classes.

interface Compiled {
  readonly n: number;
  readonly m: number;
  readonly R: number;
  /** C[s][r] at s·R + r. */
  readonly cap: number[];
  /** d_i[r] at i·R + r. */
  readonly dem: number[];
  readonly w: readonly bigint[];
  /** 1 when user i accepts provider s, at i·m + s. */
  readonly acc: Uint8Array;
  /** Accepted provider indices of user i, ascending. */
  readonly accList: readonly (readonly number[])[];
  /** Providers with identical accept columns share a class (interchangeable in a search). */
  readonly cls: readonly number[];
  /** True when every user accepts every provider. */
  readonly allAccept: boolean;
  /** Per resource r: users by w_i / d_i[r] descending (d = 0 first), ties by index. */
  readonly order: readonly (readonly number[])[];
  /** Phase-1 branching order: users by w_i / Σ_r (d_i[r] / ΣC[·][r]) descending. */
  readonly branch: readonly number[];
}

function compile(p: WdpProblem): Compiled {
  const m = p.capacity.length;
  const n = p.demand.length;
  if (m < 1) throw new RangeError('WdpProblem: at least one provider is needed');
  const R = p.capacity[0]!.length;
  if (R < 1) throw new RangeError('WdpProblem: at least one resource type is needed');
  if (p.weight.length !== n || p.accepts.length !== n) {
    throw new RangeError('WdpProblem: demand, accepts and weight must have one entry per user');
  }

  // Quantities become exact JS integers; weights stay bigint.
  const cap = flatten(p.capacity, R, 'capacity');
  const dem = flatten(p.demand, R, 'demand');
  const w = p.weight.map((x, i) => {
    if (x < 0n) throw new RangeError(`WdpProblem: weight[${i}] is negative`);
    return x;
  });

  // Accept matrix, lists and provider classes.
  const acc = new Uint8Array(n * m);
  const accList: number[][] = [];
  let allAccept = true;
  for (let i = 0; i < n; i++) {
    const a = p.accepts[i];
    if (a === null || a === undefined) {
      acc.fill(1, i * m, (i + 1) * m);
    } else {
      for (const s of a) {
        if (!Number.isInteger(s) || s < 0 || s >= m) {
          throw new RangeError(`WdpProblem: accepts[${i}] has a bad provider index ${s}`);
        }
        acc[i * m + s] = 1;
      }
    }
    const list: number[] = [];
    for (let s = 0; s < m; s++) if (acc[i * m + s]) list.push(s);
    if (list.length !== m) allAccept = false;
    accList.push(list);
  }
  const cls = providerClasses(acc, n, m);

  // Efficiency orders, compared exactly by cross-multiplication.
  const order: number[][] = [];
  for (let r = 0; r < R; r++) {
    const d = (i: number): bigint => BigInt(dem[i * R + r]!);
    order.push(sortByRatio(n, w, d));
  }
  const total = Array.from({ length: R }, (_, r) => {
    let t = 0;
    for (let s = 0; s < m; s++) t += cap[s * R + r]!;
    return BigInt(Math.max(t, 1));
  });
  const size = (i: number): bigint => {
    let sz = 0n;
    for (let r = 0; r < R; r++) {
      let term = BigInt(dem[i * R + r]!);
      for (let q = 0; q < R; q++) if (q !== r) term *= total[q]!;
      sz += term;
    }
    return sz;
  };
  const branch = R === 1 ? order[0]! : sortByRatio(n, w, size);
  return { n, m, R, cap, dem, w, acc, accList, cls, allAccept, order, branch };
}

function flatten(rows: readonly (readonly bigint[])[], R: number, what: string): number[] {
  const out: number[] = [];
  rows.forEach((row, j) => {
    if (row.length !== R) throw new RangeError(`WdpProblem: ${what}[${j}] has length ≠ ${R}`);
    for (const v of row) {
      if (v < 0n || v > MAX_SOLVER_QUANTITY) {
        throw new RangeError(`WdpProblem: ${what}[${j}] value ${v} out of range`);
      }
      out.push(Number(v));
    }
  });
  return out;
}

/** Indices sorted by w_i / size_i descending (size 0 first), ties by index; exact. */
function sortByRatio(n: number, w: readonly bigint[], size: (i: number) => bigint): number[] {
  const sz = Array.from({ length: n }, (_, i) => size(i));
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => {
    const lhs = w[a]! * sz[b]!;
    const rhs = w[b]! * sz[a]!;
    if (lhs !== rhs) return lhs > rhs ? -1 : 1;
    if (sz[a] === 0n && sz[b] !== 0n) return -1;
    if (sz[b] === 0n && sz[a] !== 0n) return 1;
    return a - b;
  });
  return idx;
}

function providerClasses(acc: Uint8Array, n: number, m: number): number[] {
  const ids = new Map<string, number>();
  const cls: number[] = [];
  for (let s = 0; s < m; s++) {
    let key = '';
    for (let i = 0; i < n; i++) key += acc[i * m + s] ? '1' : '0';
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
    }
    cls.push(id);
  }
  return cls;
}

// ---------------------------------------------------------------------------------------------
// Branch-and-bound.

class BranchAndBound {
  private readonly res: number[];
  private readonly pooled: number[];
  /** 1 when the user's choice is fixed (by the search, or none from the start). */
  private readonly decided: Uint8Array;
  /** Users fixed to none from the start: excluded, weight 0, or fitting nowhere. */
  private readonly forcedNone: Uint8Array;
  private readonly assign: Int32Array;
  private readonly maxRes: number[];
  private best = 0n;
  private target = 0n;

  constructor(
    private readonly c: Compiled,
    excluded: ReadonlySet<number> | undefined,
  ) {
    const { n, m, R } = c;
    this.res = c.cap.slice();
    this.pooled = Array.from({ length: R }, (_, r) => {
      let t = 0;
      for (let s = 0; s < m; s++) t += c.cap[s * R + r]!;
      return t;
    });
    this.maxRes = new Array<number>(R).fill(0);
    this.assign = new Int32Array(n).fill(NONE);
    this.forcedNone = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const out = (excluded?.has(i) ?? false) || c.w[i]! === 0n || !this.fitsSomewhere(i);
      if (out) this.forcedNone[i] = 1;
    }
    this.decided = this.forcedNone.slice();
  }

  /** Phase 1: the optimum value, given a known feasible value `lower`. */
  maxValue(lower: bigint): bigint {
    this.best = lower;
    const branch = this.c.branch.filter((i) => !this.forcedNone[i]);
    this.search(branch, 0, 0n);
    return this.best;
  }

  /** Phase 2: the lexicographically smallest assignment of value `target` (the optimum). */
  canonical(target: bigint): (number | null)[] {
    this.target = target;
    if (!this.walk(0, 0n)) throw new Error('exactMaxBnB: no assignment reaches W* (bug)');
    return Array.from(this.assign, (s) => (s === NONE ? null : s));
  }

  private search(branch: readonly number[], k: number, V: bigint): void {
    if (V > this.best) this.best = V;
    if (k === branch.length || this.boundBelow(V, this.best + 1n)) return;

    // Children: best fit first, one provider per symmetry class and residual vector.
    const i = branch[k]!;
    this.decided[i] = 1;
    for (const s of this.children(i, true)) {
      this.place(i, s, 1);
      this.search(branch, k + 1, V + this.c.w[i]!);
      this.place(i, s, -1);
    }

    this.search(branch, k + 1, V);
    this.decided[i] = 0;
  }

  private walk(k: number, V: bigint): boolean {
    // Reaching W* with the rest unserved is the smallest completion (none has code 0).
    if (V === this.target) return true;
    if (k === this.c.n || this.boundBelow(V, this.target)) return false;
    if (this.forcedNone[k]) return this.walk(k + 1, V);

    // Children in code order: none, then providers by index (symmetric duplicates skipped).
    this.decided[k] = 1;
    if (this.walk(k + 1, V)) return true;
    for (const s of this.children(k, false)) {
      this.place(k, s, 1);
      this.assign[k] = s;
      if (this.walk(k + 1, V + this.c.w[k]!)) return true;
      this.assign[k] = NONE;
      this.place(k, s, -1);
    }

    this.decided[k] = 0;
    return false;
  }

  /**
   * Providers user i fits into now, one per (class, residual vector): two such providers are
   * interchangeable for every later decision, so the second subtree mirrors the first. Ordered
   * by index, or best fit first (smallest residual sum, then index) when `bestFit`.
   */
  private children(i: number, bestFit: boolean): number[] {
    const { R } = this.c;
    const out: number[] = [];
    for (const s of this.c.accList[i]!) {
      if (!this.fits(i, s)) continue;
      if (out.some((t) => this.sameState(s, t))) continue;
      out.push(s);
    }
    if (bestFit && out.length > 1) {
      const slack = (s: number): number => {
        let t = 0;
        for (let r = 0; r < R; r++) t += this.res[s * R + r]!;
        return t;
      };
      out.sort((a, b) => slack(a) - slack(b) || a - b);
    }
    return out;
  }

  private sameState(s: number, t: number): boolean {
    const { R } = this.c;
    if (this.c.cls[s] !== this.c.cls[t]) return false;
    for (let r = 0; r < R; r++) if (this.res[s * R + r] !== this.res[t * R + r]) return false;
    return true;
  }

  private fits(i: number, s: number): boolean {
    const { R } = this.c;
    for (let r = 0; r < R; r++) if (this.c.dem[i * R + r]! > this.res[s * R + r]!) return false;
    return true;
  }

  private fitsSomewhere(i: number): boolean {
    for (const s of this.c.accList[i]!) if (this.fits(i, s)) return true;
    return false;
  }

  private place(i: number, s: number, sign: number): void {
    const { R } = this.c;
    for (let r = 0; r < R; r++) {
      const d = sign * this.c.dem[i * R + r]!;
      this.res[s * R + r]! -= d;
      this.pooled[r]! -= d;
    }
  }

  /**
   * True when the relaxation proves that no completion of the current node reaches
   * `threshold`. For each resource r separately: undecided users that still fit somewhere,
   * taken in w/d[r] order into the pooled residual capacity Σ_s res[s][r], the last one
   * fractionally and rounded down (valid: the integer optimum is an integer ≤ the LP value).
   */
  private boundBelow(V: bigint, threshold: bigint): boolean {
    const need = threshold - V;
    if (need <= 0n) return false;
    const { R, m } = this.c;
    const quickFit = this.c.allAccept;
    if (quickFit) {
      for (let r = 0; r < R; r++) {
        let mx = 0;
        for (let s = 0; s < m; s++) mx = Math.max(mx, this.res[s * R + r]!);
        this.maxRes[r] = mx;
      }
    }

    for (let r = 0; r < R; r++) {
      let cap = this.pooled[r]!;
      let sum = 0n;
      let reached = false;
      for (const i of this.c.order[r]!) {
        if (this.decided[i]) continue;
        if (quickFit ? !this.fitsMax(i) : !this.fitsSomewhere(i)) continue;
        const d = this.c.dem[i * R + r]!;
        if (d <= cap) {
          cap -= d;
          sum += this.c.w[i]!;
          if (sum >= need) {
            reached = true;
            break;
          }
        } else {
          sum += (this.c.w[i]! * BigInt(cap)) / BigInt(d);
          reached = sum >= need;
          break;
        }
      }
      if (!reached) return true;
    }
    return false;
  }

  /** With every provider acceptable: fits somewhere iff it fits the largest residuals. */
  private fitsMax(i: number): boolean {
    const { R } = this.c;
    if (R === 1) return this.c.dem[i]! <= this.maxRes[0]!;
    return this.fitsSomewhere(i);
  }
}
