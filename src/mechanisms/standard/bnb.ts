/**
 * The branch-and-bound engine behind solver.ts (mechanisms.md B.3, EXACT_MAX option 2).
 *
 * Two bounds, chosen per problem (the choice changes speed, never results):
 * - `lagrangian` (R = 1 and affordable tables): the bound of lagrange.ts, looked up in O(m)
 *   per node from knapsack tables over the users still undecided;
 * - `lp` (any R): per resource type, the fractional knapsack over the pooled residual capacity
 *   of the undecided users that still fit somewhere (Dantzig's rule, rounded down); the
 *   bound is the minimum over resource types.
 *
 * Phase 1 finds the optimum value: users in efficiency order, children ordered by their bound
 * (Lagrangian) or best fit (LP), symmetric providers merged. Phase 2 finds the canonical
 * assignment: users in id order, children in code order (none, then providers by index), every
 * node whose bound is below W* pruned; the first leaf reaching W* is the lexicographically
 * smallest optimum, because every subtree visited earlier holds only smaller code vectors.
 */
import {
  bestFitFill,
  Lagrangian,
  ROOT_ITERATIONS,
  scaleShift,
  WARM_ITERATIONS,
  type Incumbent,
  type SuffixTables,
} from './lagrange.js';
import { lexMinPacking, splitIntoProviders } from './packing.js';
import { surrogateOptimum } from './surrogate.js';
import { NONE, type Compiled, type WdpSolution } from './wdp.js';

/** Which bound the branch-and-bound uses; `auto` picks `lagrangian` when R = 1 and affordable. */
export type BoundKind = 'auto' | 'lagrangian' | 'lp';

/**
 * Diagnostic counters of this process, for benchmarks and tests: nodes visited by the
 * searches, and solves settled by the surrogate method (`surrogate`) or not (`fallback`).
 */
export const searchStats = { nodes: 0, surrogate: 0, fallback: 0 };

/** Solutions kept in an engine's pool. */
const POOL_SIZE = 32;

/** Most DP cells per subgradient iteration before `auto` falls back to the LP bound. */
const MAX_LAGRANGIAN_CELLS = 80_000_000;

/** A compiled problem plus what re-solves can share (the root multipliers). */
export class Engine {
  private rootU: number[] | null = null;
  /** Good solutions met so far, best first: starting points for later re-solves. */
  private readonly pool: Incumbent[] = [];
  private readonly record = (assign: Int32Array, value: bigint): void => {
    if (this.pool.some((p) => p.value === value)) return;
    this.pool.push({ assign, value });
    this.pool.sort((a, b) => (a.value > b.value ? -1 : a.value < b.value ? 1 : 0));
    if (this.pool.length > POOL_SIZE) this.pool.pop();
  };
  private readonly shift: bigint;
  private readonly dom: Dominance;

  /**
   * @param bound the bound of the search
   * @param surrogate try the surrogate method first (R = 1); results are the same either way
   */
  constructor(
    readonly c: Compiled,
    private readonly bound: BoundKind = 'auto',
    private readonly surrogate = true,
  ) {
    this.shift = scaleShift(c);
    this.dom = dominance(c);
  }

  /** The optimum and its canonical assignment. */
  solve(excluded?: ReadonlySet<number>): WdpSolution {
    const active = activeUsers(this.c, excluded);
    const quick = this.surrogate ? this.surrogateSolve(active) : null;
    if (quick) return quick;
    searchStats.fallback++;
    const inc = greedy(this.c, active);
    const lag = this.multipliers(active, inc, excluded === undefined || excluded.size === 0);

    // Phase 1 (W* and a witness) over the users that may be in a better solution.
    const a1 = this.fixOut(active, lag, inc.value + 1n);
    const first = new Search(this.c, a1, this.bounds(lag, a1), this.free(), this.record);
    const value = first.maxValue(inc.value);
    const witness = first.bestAssign ?? inc.assign;
    this.record(witness, value);

    // Phase 2 over the users that may be in an optimum.
    const a2 = this.fixOut(active, lag, value);
    return { value, assignment: this.lexMin(a2, this.bounds(lag, a2), value, witness) };
  }

  /**
   * The optimum value only.
   *
   * @param hint a feasible assignment (e.g. x* for a W_-i re-solve); excluded users are
   *   removed from it, then it is filled greedily and used as the first incumbent
   */
  value(excluded?: ReadonlySet<number>, hint?: readonly (number | null)[]): bigint {
    const active = activeUsers(this.c, excluded);
    const quick = this.surrogate ? this.surrogateValue(active) : null;
    if (quick !== null) return quick;
    searchStats.fallback++;
    let inc = greedy(this.c, active);
    const starts = this.pool.map((p) => p.assign);
    if (hint) starts.unshift(Int32Array.from(hint, (s) => s ?? NONE));
    for (const start of starts) {
      const candidate = repairHint(this.c, active, start);
      if (candidate.value > inc.value) inc = candidate;
    }
    const lag = this.multipliers(active, inc, false);
    const a1 = this.fixOut(active, lag, inc.value + 1n);
    const search = new Search(this.c, a1, this.bounds(lag, a1), this.free(), this.record);
    return search.maxValue(inc.value);
  }

  /**
   * The optimum value by the surrogate method: the surrogate knapsack's optimal set, split
   * among the providers, is feasible and reaches the upper bound U, so W = U. Null when the
   * split fails (or the method does not apply).
   */
  private surrogateValue(active: Uint8Array): bigint | null {
    const optimum = surrogateOptimum(this.c, active);
    if (!optimum) return null;
    if (!(splitIntoProviders(this.c, optimum.users, this.c.cap) instanceof Int32Array)) return null;
    searchStats.surrogate++;
    return optimum.value;
  }

  /**
   * The optimum and its canonical assignment by the surrogate method. The optimal set S is
   * the only one when every optimum serves every user of S (each shown by the LP bound with
   * i forced out, or by the surrogate optimum without i, a bound on W_-i, being below W*);
   * the canonical assignment is then the lexicographically smallest packing of S. Null when
   * any step is not settled.
   */
  private surrogateSolve(active: Uint8Array): WdpSolution | null {
    const optimum = surrogateOptimum(this.c, active);
    if (!optimum) return null;
    const witness = splitIntoProviders(this.c, optimum.users, this.c.cap);
    if (!(witness instanceof Int32Array)) return null;
    const target = optimum.value;

    for (const i of optimum.users) {
      if (optimum.provesNeeded(i, target)) continue;
      const without = active.slice();
      without[i] = 0;
      const bound = surrogateOptimum(this.c, without)?.value;
      if (bound === undefined || bound >= target) return null;
    }
    const x = lexMinPacking(this.c, optimum.users, witness);
    if (!x) return null;
    this.record(x, target);
    searchStats.surrogate++;
    return { value: target, assignment: Array.from(x, (s) => (s === NONE ? null : s)) };
  }

  private free(): Int32Array {
    return new Int32Array(this.c.n).fill(UNSET);
  }

  /**
   * Phase 2, by sequential fixing: walk the users in id order keeping an optimal witness x.
   * For user k, try the codes below x_k in code order (none, then providers by index); a code
   * is kept as soon as some optimum extends the fixed prefix with it (that optimum becomes the
   * new witness), else x_k itself is kept. Each try is a guided search for value W* with the
   * prefix fixed. A provider with the same class and residual as x_k's is accepted without a
   * search (swap the two providers in x for the later users); one with the same state as a
   * provider that already failed is skipped.
   */
  private lexMin(
    active: Uint8Array,
    bounds: Bounds,
    target: bigint,
    witness: Int32Array,
  ): (number | null)[] {
    const { n, m } = this.c;
    let x: Int32Array = witness.slice();
    const fixed = new Int32Array(n).fill(UNSET);
    const res = this.c.cap.slice();
    const state = new StateView(this.c, res);

    for (let k = 0; k < n; k++) {
      const current = x[k]!;
      if (current !== NONE) {
        const failed: number[] = [];
        const tries = [NONE, ...this.c.accList[k]!.filter((t) => t < current)];
        for (const t of tries) {
          if (t !== NONE && (!state.fits(k, t) || failed.some((f) => state.same(f, t)))) continue;
          if (t !== NONE && state.same(t, current)) {
            x = swapFrom(x, k, t, current);
            break;
          }
          fixed[k] = t;
          const found = new Search(this.c, active, bounds, fixed).reach(target);
          if (found) {
            x = found;
            break;
          }
          if (t !== NONE) failed.push(t);
        }
      }

      // Fix user k to its final code.
      fixed[k] = x[k]!;
      if (x[k]! !== NONE) state.place(k, x[k]!);
    }
    void m;
    return Array.from(x, (s) => (s === NONE ? null : s));
  }

  /** Optimised multipliers for the active users (null when the LP bound is used). */
  private multipliers(active: Uint8Array, inc: Incumbent, isRoot: boolean): Lagrangian | null {
    if (!this.useLagrangian(active)) return null;

    // Root multipliers once per engine; re-solves start from them (with excluded users at 0).
    if (this.rootU === null && !isRoot) {
      const all = activeUsers(this.c, undefined);
      const root = new Lagrangian(this.c, all, this.shift, null);
      root.optimise(ROOT_ITERATIONS, greedy(this.c, all), () => 0);
      this.rootU = root.u;
    }
    const warm = isRoot ? null : this.rootU;
    const lag = new Lagrangian(this.c, active, this.shift, warm);
    const one = 1n << this.shift;
    const stop = (): number => Number((inc.value + one) >> this.shift);
    lag.optimise(warm ? WARM_ITERATIONS : ROOT_ITERATIONS, inc, stop);
    if (isRoot) this.rootU = lag.u;
    return lag;
  }

  /**
   * Reduced-cost fixing: drops the active users that no solution of value ≥ `threshold` can
   * serve. User j placed in provider s yields at most L − KP_s(C_s) + (w_j − u_j) +
   * KP_s(C_s − d_j) (tables over all active users, j included: still an upper bound); when
   * that is below the threshold for every provider, j is out. Two rounds, the second with
   * tables over the survivors.
   */
  private fixOut(active: Uint8Array, lag: Lagrangian | null, threshold: bigint): Uint8Array {
    if (!lag) return active;
    const { n, m } = this.c;
    const thr = Number((threshold + (1n << this.shift) - 1n) >> this.shift);
    let current = active;

    for (let round = 0; round < 2; round++) {
      const F = lag.fullTables(current);
      let L = 0;
      for (let i = 0; i < n; i++) if (current[i]) L += lag.u[i]!;
      for (let s = 0; s < m; s++) L += F[s]![Math.min(this.c.cap[s]!, lag.capEff[s]!)]!;

      const next = current.slice();
      let changed = false;
      for (let j = 0; j < n; j++) {
        if (!current[j]) continue;
        const gain = lag.ws[j]! - lag.u[j]!;
        let possible = false;
        for (const s of this.c.accList[j]!) {
          const cap = Math.min(this.c.cap[s]!, lag.capEff[s]!);
          if (this.c.dem[j]! > this.c.cap[s]!) continue;
          const rest = Math.min(this.c.cap[s]! - this.c.dem[j]!, lag.capEff[s]!);
          if (L - F[s]![cap]! + gain + F[s]![rest]! >= thr) {
            possible = true;
            break;
          }
        }
        if (!possible) {
          next[j] = 0;
          changed = true;
        }
      }
      current = next;
      if (!changed) break;
    }
    return current;
  }

  /** The Lagrangian tables for a search over `active` (nothing for the LP bound). */
  private bounds(lag: Lagrangian | null, active: Uint8Array): Bounds {
    if (!lag) return { lag: null, tables: null, pos: null, shift: this.shift, dom: this.dom };
    const order = this.c.heavy.filter((i) => active[i]);
    const pos = new Int32Array(this.c.n + 1).fill(order.length);
    order.forEach((i, k) => (pos[i] = k));
    return { lag, tables: lag.suffixTables(order), pos, shift: this.shift, dom: this.dom };
  }

  private useLagrangian(active: Uint8Array): boolean {
    if (this.bound === 'lp' || this.c.R !== 1) return false;
    if (this.bound === 'lagrangian') return true;
    return Lagrangian.cells(this.c, active) <= MAX_LAGRANGIAN_CELLS;
  }
}

/** The Lagrangian data a search reads (all null for the LP bound). */
interface Bounds {
  readonly lag: Lagrangian | null;
  readonly tables: SuffixTables | null;
  /** Position of each active user in the tables' order; pos[n] = the order's length. */
  readonly pos: Int32Array | null;
  readonly shift: bigint;
  readonly dom: Dominance;
}

/**
 * Dominance between users: j dominates i when d_j ≤ d_i (every r), w_j ≥ w_i, A_j ⊇ A_i and
 * (d_j, −w_j, j) precedes (d_i, −w_i, i) in a fixed total order. A solution serving i but not
 * j turns into one at least as good by putting j in i's place, and repeating such swaps ends
 * (each one moves a served user down the total order), so some optimum — indeed some
 * solution at least as good as any given one — serves no user dominated by an unserved one.
 * The searches therefore cut "place i while a dominating j was refused" and "refuse j while
 * a user it dominates is placed" (only among users the search itself decides).
 */
interface Dominance {
  /** by[i]: the users that dominate i. */
  readonly by: readonly (readonly number[])[];
  /** of[j]: the users j dominates. */
  readonly of: readonly (readonly number[])[];
}

function dominance(c: Compiled): Dominance {
  const { n, m, R } = c;
  const by: number[][] = Array.from({ length: n }, () => []);
  const of: number[][] = Array.from({ length: n }, () => []);
  const precedes = (j: number, i: number): boolean => {
    for (let r = 0; r < R; r++) {
      const dj = c.dem[j * R + r]!;
      const di = c.dem[i * R + r]!;
      if (dj !== di) return dj < di;
    }
    if (c.w[j] !== c.w[i]) return c.w[j]! > c.w[i]!;
    return j < i;
  };
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j || c.w[j]! < c.w[i]! || !precedes(j, i)) continue;
      let ok = true;
      for (let r = 0; r < R && ok; r++) ok = c.dem[j * R + r]! <= c.dem[i * R + r]!;
      for (let s = 0; s < m && ok; s++) ok = !c.acc[i * m + s] || c.acc[j * m + s] === 1;
      if (!ok) continue;
      by[i]!.push(j);
      of[j]!.push(i);
    }
  }
  return { by, of };
}

/** "Not fixed" in a search's fixed-codes array. */
const UNSET = -2;
const PLACED = 1;
const REFUSED = 2;

/** x with providers a and b exchanged for users k.. (a symmetric copy of the same optimum). */
function swapFrom(x: Int32Array, k: number, a: number, b: number): Int32Array {
  const y = x.slice();
  for (let i = k; i < y.length; i++) {
    if (y[i] === a) y[i] = b;
    else if (y[i] === b) y[i] = a;
  }
  return y;
}

/** Residual capacities with fit and symmetry tests. */
class StateView {
  constructor(
    private readonly c: Compiled,
    readonly res: number[],
  ) {}

  fits(i: number, s: number): boolean {
    const { R } = this.c;
    for (let r = 0; r < R; r++) if (this.c.dem[i * R + r]! > this.res[s * R + r]!) return false;
    return true;
  }

  same(s: number, t: number): boolean {
    const { R } = this.c;
    if (this.c.cls[s] !== this.c.cls[t]) return false;
    for (let r = 0; r < R; r++) if (this.res[s * R + r] !== this.res[t * R + r]) return false;
    return true;
  }

  place(i: number, s: number): void {
    const { R } = this.c;
    for (let r = 0; r < R; r++) this.res[s * R + r]! -= this.c.dem[i * R + r]!;
  }
}

/** Users that may be served: not excluded, weight > 0, fitting some accepted provider. */
export function activeUsers(c: Compiled, excluded: ReadonlySet<number> | undefined): Uint8Array {
  const { n, R } = c;
  const active = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (excluded?.has(i) || c.w[i]! === 0n) continue;
    for (const s of c.accList[i]!) {
      let ok = true;
      for (let r = 0; r < R && ok; r++) ok = c.dem[i * R + r]! <= c.cap[s * R + r]!;
      if (ok) {
        active[i] = 1;
        break;
      }
    }
  }
  return active;
}

function greedy(c: Compiled, active: Uint8Array): Incumbent {
  const assign = new Int32Array(c.n).fill(NONE);
  const value = bestFitFill(c, active, assign, c.cap.slice());
  return { assign, value };
}

function repairHint(c: Compiled, active: Uint8Array, hint: ArrayLike<number | null>): Incumbent {
  const { n, m, R } = c;
  const assign = new Int32Array(n).fill(NONE);
  const res = c.cap.slice();
  for (let i = 0; i < n; i++) {
    const s = hint[i];
    if (s === null || s === undefined || !active[i] || s < 0 || s >= m || !c.acc[i * m + s]) {
      continue;
    }
    let ok = true;
    for (let r = 0; r < R && ok; r++) ok = c.dem[i * R + r]! <= res[s * R + r]!;
    if (!ok) continue;
    assign[i] = s;
    for (let r = 0; r < R; r++) res[s * R + r]! -= c.dem[i * R + r]!;
  }
  return { assign, value: bestFitFill(c, active, assign, res) };
}

/**
 * One depth-first search over the active users that are not fixed, in branching order.
 * `fixed[i]` is UNSET, NONE or a provider index; fixed placements are applied up front.
 */
class Search {
  /** The best assignment found (fixed placements included), if any beat the start value. */
  bestAssign: Int32Array | null = null;
  private readonly res: number[];
  private readonly pooled: number[];
  /** 1 when the user's choice is fixed (by the search, by `fixed`, or inactive). */
  private readonly decided: Uint8Array;
  private readonly assign: Int32Array;
  private readonly order: number[];
  private readonly maxRes: number[];
  private readonly one: bigint;
  private readonly V0: bigint = 0n;
  private readonly Vs0: number = 0;
  private best = 0n;
  /** Stop as soon as best reaches this (phase-2 feasibility checks). */
  private stopAt: bigint | null = null;
  /** Scaled pruning threshold: a node is cut when its scaled bound is below it. */
  private thr = 0;
  private sumU = 0;
  /** Per-depth child buffers (provider or NONE, and scaled bound). */
  private readonly kidS: Int32Array[];
  private readonly kidB: Float64Array[];
  /** PLACED or REFUSED for users decided by this search (dominance tests), else 0. */
  private readonly mark: Int8Array;

  constructor(
    private readonly c: Compiled,
    active: Uint8Array,
    private readonly b: Bounds,
    fixed: Int32Array,
    private readonly onImprove?: (assign: Int32Array, value: bigint) => void,
  ) {
    const { n, m, R } = c;
    this.res = c.cap.slice();
    this.assign = new Int32Array(n).fill(NONE);
    this.decided = new Uint8Array(n);
    this.mark = new Int8Array(n);
    this.one = 1n << b.shift;
    this.order = [];

    // Fixed choices first, then the free users in branching order.
    for (let i = 0; i < n; i++) {
      if (!active[i] || fixed[i] !== UNSET) this.decided[i] = 1;
      const s = fixed[i]!;
      if (!active[i] || s < 0) continue;
      this.assign[i] = s;
      for (let r = 0; r < R; r++) this.res[s * R + r]! -= c.dem[i * R + r]!;
      this.V0 += c.w[i]!;
      this.Vs0 += b.lag ? b.lag.ws[i]! : 0;
    }
    for (const i of b.lag ? c.heavy : c.branch) if (!this.decided[i]) this.order.push(i);
    if (b.lag) for (const i of this.order) this.sumU += b.lag.u[i]!;

    this.pooled = Array.from({ length: R }, (_, r) => {
      let t = 0;
      for (let s = 0; s < m; s++) t += this.res[s * R + r]!;
      return t;
    });
    this.maxRes = new Array<number>(R).fill(0);
    this.kidS = Array.from({ length: this.order.length }, () => new Int32Array(m + 1));
    this.kidB = Array.from({ length: this.order.length }, () => new Float64Array(m + 1));
  }

  /** Phase 1: the optimum value, given the value `lower` of a feasible solution. */
  maxValue(lower: bigint): bigint {
    this.best = lower;
    this.run();
    return this.best;
  }

  /** Some assignment extending the fixed choices with value ≥ target, or null if none. */
  reach(target: bigint): Int32Array | null {
    this.best = target - 1n;
    this.stopAt = target;
    this.run();
    this.stopAt = null;
    return this.best >= target ? this.bestAssign : null;
  }

  private run(): void {
    if (this.V0 > this.best) this.improve(this.V0);
    if (this.b.lag) {
      this.thr = this.ceilScaled(this.best + 1n);
      this.searchLagrangian(0, this.V0, this.Vs0);
    } else {
      this.searchLp(0, this.V0);
    }
  }

  private improve(V: bigint): void {
    this.best = V;
    this.bestAssign = this.assign.slice();
    this.thr = this.ceilScaled(V + 1n);
    this.onImprove?.(this.bestAssign, V);
  }

  private done(): boolean {
    return this.stopAt !== null && this.best >= this.stopAt;
  }

  private searchLagrangian(k: number, V: bigint, Vs: number): void {
    searchStats.nodes++;
    if (V > this.best) this.improve(V);
    if (k === this.order.length || this.done() || this.lagBound(k, Vs) < this.thr) return;

    // Children with their bounds (tables at k + 1), most promising first.
    const i = this.order[k]!;
    const lag = this.b.lag!;
    this.decided[i] = 1;
    this.sumU -= lag.u[i]!;
    const d = this.c.dem[i]!;
    const base = this.lagBound(k + 1, Vs);
    const S = this.kidS[k]!;
    const B = this.kidB[k]!;
    let count = 0;
    const add = (s: number, bound: number): void => {
      // Insertion sort: bound descending, then provider index, NONE last.
      let j = count++;
      while (j > 0 && (B[j - 1]! < bound || (B[j - 1] === bound && S[j - 1]! === NONE))) {
        S[j] = S[j - 1]!;
        B[j] = B[j - 1]!;
        j--;
      }
      S[j] = s;
      B[j] = bound;
    };
    if (this.mayPlace(i)) {
      for (const s of this.children(i)) {
        const r = this.res[s]!;
        add(s, base - this.lookup(s, k + 1, r) + this.lookup(s, k + 1, r - d) + lag.ws[i]!);
      }
    }
    if (this.mayRefuse(i)) add(NONE, base);

    for (let j = 0; j < count && !this.done(); j++) {
      const s = S[j]!;
      if (B[j]! < this.thr) break;
      if (s === NONE) {
        this.mark[i] = REFUSED;
        this.searchLagrangian(k + 1, V, Vs);
      } else {
        this.place(i, s, 1);
        this.searchLagrangian(k + 1, V + this.c.w[i]!, Vs + lag.ws[i]!);
        this.place(i, s, -1);
      }
    }

    this.sumU += lag.u[i]!;
    this.decided[i] = 0;
    this.mark[i] = 0;
  }

  private searchLp(k: number, V: bigint): void {
    searchStats.nodes++;
    if (V > this.best) this.improve(V);
    if (k === this.order.length || this.done() || this.lpBelow(V, this.best + 1n)) return;

    // Children: best fit first, then none.
    const i = this.order[k]!;
    this.decided[i] = 1;
    const kids = this.mayPlace(i) ? this.children(i) : [];
    kids.sort((a, b) => this.slack(a) - this.slack(b) || a - b);
    for (const s of kids) {
      if (this.done()) break;
      this.place(i, s, 1);
      this.searchLp(k + 1, V + this.c.w[i]!);
      this.place(i, s, -1);
    }

    if (!this.done() && this.mayRefuse(i)) {
      this.mark[i] = REFUSED;
      this.searchLp(k + 1, V);
    }
    this.decided[i] = 0;
    this.mark[i] = 0;
  }

  /** False when a user dominating i was refused by this search. */
  private mayPlace(i: number): boolean {
    for (const j of this.b.dom.by[i]!) if (this.mark[j] === REFUSED) return false;
    return true;
  }

  /** False when a user that i dominates was placed by this search. */
  private mayRefuse(i: number): boolean {
    for (const j of this.b.dom.of[i]!) if (this.mark[j] === PLACED) return false;
    return true;
  }

  /** Scaled Lagrangian bound at depth k: Vs + Σ_{undecided} u_i + Σ_s KP_s(residual). */
  private lagBound(k: number, Vs: number): number {
    let b = Vs + this.sumU;
    for (let s = 0; s < this.c.m; s++) b += this.lookup(s, k, this.res[s]!);
    return b;
  }

  /**
   * KP_s(residual) over a superset of the undecided users: the table checkpoint that covers
   * the tables' order from the position of order[k] on.
   */
  private lookup(s: number, k: number, residual: number): number {
    const t = this.b.tables!;
    const p = k < this.order.length ? this.b.pos![this.order[k]!]! : this.b.pos![this.c.n]!;
    const ce = this.b.lag!.capEff[s]!;
    return t.tabs[s]![t.ck[p]!]![residual < ce ? residual : ce]!;
  }

  private ceilScaled(v: bigint): number {
    return Number((v + this.one - 1n) >> this.b.shift);
  }

  /**
   * Providers user i fits into now, in index order, one per (class, residual vector): two
   * such providers are interchangeable for every later decision, so the second subtree
   * mirrors the first (same values; in phase 2 its code vectors are larger).
   */
  private children(i: number): number[] {
    const out: number[] = [];
    for (const s of this.c.accList[i]!) {
      if (!this.fits(i, s)) continue;
      if (out.some((t) => this.sameState(s, t))) continue;
      out.push(s);
    }
    return out;
  }

  private slack(s: number): number {
    let t = 0;
    for (let r = 0; r < this.c.R; r++) t += this.res[s * this.c.R + r]!;
    return t;
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
    this.assign[i] = sign > 0 ? s : NONE;
    this.mark[i] = sign > 0 ? PLACED : 0;
    for (let r = 0; r < R; r++) {
      const d = sign * this.c.dem[i * R + r]!;
      this.res[s * R + r]! -= d;
      this.pooled[r]! -= d;
    }
  }

  /**
   * True when the LP relaxation proves that no completion reaches `threshold`. For each
   * resource r: undecided users that still fit somewhere, in w/d[r] order, into the pooled
   * residual capacity, the last one fractionally and rounded down (valid: the integer optimum
   * is an integer not above the LP value).
   */
  private lpBelow(V: bigint, threshold: bigint): boolean {
    const need = threshold - V;
    if (need <= 0n) return false;
    const { R, m } = this.c;
    const quick = this.c.allAccept && R === 1;
    if (quick) {
      let mx = 0;
      for (let s = 0; s < m; s++) mx = Math.max(mx, this.res[s]!);
      this.maxRes[0] = mx;
    }

    for (let r = 0; r < R; r++) {
      let cap = this.pooled[r]!;
      let sum = 0n;
      let reached = false;
      for (const i of this.c.order[r]!) {
        if (this.decided[i]) continue;
        if (quick ? this.c.dem[i]! > this.maxRes[0]! : !this.fitsSomewhere(i)) continue;
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
}
