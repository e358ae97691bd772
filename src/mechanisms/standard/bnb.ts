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
import { NONE, type Compiled } from './wdp.js';

/** Which bound the branch-and-bound uses; `auto` picks `lagrangian` when R = 1 and affordable. */
export type BoundKind = 'auto' | 'lagrangian' | 'lp';

/** Most DP cells per subgradient iteration before `auto` falls back to the LP bound. */
const MAX_LAGRANGIAN_CELLS = 80_000_000;

/** A compiled problem plus what re-solves can share (the root multipliers). */
export class Engine {
  private rootU: number[] | null = null;
  private readonly shift: bigint;

  constructor(
    readonly c: Compiled,
    private readonly bound: BoundKind = 'auto',
  ) {
    this.shift = scaleShift(c);
  }

  /** The optimum and its canonical assignment. */
  solve(excluded?: ReadonlySet<number>): { value: bigint; assignment: (number | null)[] } {
    const active = activeUsers(this.c, excluded);
    const inc = greedy(this.c, active);
    const search = this.prepare(active, inc, excluded === undefined || excluded.size === 0);
    const value = search.maxValue(inc.value);
    return { value, assignment: search.canonical(value) };
  }

  /**
   * The optimum value only.
   *
   * @param hint a feasible assignment (e.g. x* for a W_-i re-solve); excluded users are
   *   removed from it, then it is filled greedily and used as the first incumbent
   */
  value(excluded?: ReadonlySet<number>, hint?: readonly (number | null)[]): bigint {
    const active = activeUsers(this.c, excluded);
    let inc = greedy(this.c, active);
    if (hint) {
      const fromHint = repairHint(this.c, active, hint);
      if (fromHint.value > inc.value) inc = fromHint;
    }
    const search = this.prepare(active, inc, false);
    return search.maxValue(inc.value);
  }

  private prepare(active: Uint8Array, inc: Incumbent, isRoot: boolean): Search {
    if (!this.useLagrangian(active)) return new Search(this.c, active, null, this.shift);

    // Root multipliers once per engine; re-solves start from them (with excluded users at 0).
    if (this.rootU === null && !isRoot) {
      const all = activeUsers(this.c, undefined);
      const rootInc = greedy(this.c, all);
      const root = new Lagrangian(this.c, all, this.shift, null);
      root.optimise(ROOT_ITERATIONS, rootInc, () => 0);
      this.rootU = root.u;
    }
    const warm = isRoot ? null : this.rootU;
    const lag = new Lagrangian(this.c, active, this.shift, warm);
    const search = new Search(this.c, active, lag, this.shift);
    lag.optimise(warm ? WARM_ITERATIONS : ROOT_ITERATIONS, inc, () => search.scaledThreshold(inc));
    if (isRoot) this.rootU = lag.u;
    return search;
  }

  private useLagrangian(active: Uint8Array): boolean {
    if (this.bound === 'lp' || this.c.R !== 1) return false;
    if (this.bound === 'lagrangian') return true;
    return Lagrangian.cells(this.c, active) <= MAX_LAGRANGIAN_CELLS;
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

function repairHint(c: Compiled, active: Uint8Array, hint: readonly (number | null)[]): Incumbent {
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

/** One search over one set of active users. */
class Search {
  private readonly res: number[];
  private readonly pooled: number[];
  /** 1 when the user's choice is fixed (by the search, or inactive from the start). */
  private readonly decided: Uint8Array;
  private readonly assign: Int32Array;
  private readonly maxRes: number[];
  private readonly one: bigint;
  private best = 0n;
  private target = 0n;
  /** Scaled pruning threshold: a node is cut when its scaled bound is below it. */
  private thr = 0;
  private sumU = 0;
  private tables: SuffixTables | null = null;

  constructor(
    private readonly c: Compiled,
    private readonly active: Uint8Array,
    private readonly lag: Lagrangian | null,
    private readonly shift: bigint,
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
    this.decided = active.map((a) => 1 - a);
    this.one = 1n << shift;
  }

  /** ⌈(inc + 1) / 2^shift⌉: the scaled threshold below which a phase-1 node is cut. */
  scaledThreshold(inc: Incumbent): number {
    return Number((inc.value + this.one) >> this.shift);
  }

  /** Phase 1: the optimum value, given the value `lower` of a feasible solution. */
  maxValue(lower: bigint): bigint {
    this.best = lower;
    const order = this.c.branch.filter((i) => this.active[i]);
    if (this.lag) {
      this.tables = this.lag.suffixTables(order);
      this.sumU = this.lag.sumU();
      this.thr = this.ceilScaled(lower + 1n);
      this.searchLagrangian(order, 0, 0n, 0);
    } else {
      this.searchLp(order, 0, 0n);
    }
    return this.best;
  }

  /** Phase 2: the lexicographically smallest assignment of value `target` (the optimum). */
  canonical(target: bigint): (number | null)[] {
    this.target = target;
    const order: number[] = [];
    for (let i = 0; i < this.c.n; i++) if (this.active[i]) order.push(i);
    if (this.lag) {
      this.tables = this.lag.suffixTables(order);
      this.sumU = this.lag.sumU();
      this.thr = this.ceilScaled(target);
    }
    if (!this.walk(order, 0, 0n, 0)) throw new Error('exactMaxBnB: no assignment reaches W* (bug)');
    return Array.from(this.assign, (s) => (s === NONE ? null : s));
  }

  // --- phase 1 ----------------------------------------------------------------------------

  private searchLagrangian(order: readonly number[], k: number, V: bigint, Vs: number): void {
    if (V > this.best) {
      this.best = V;
      this.thr = this.ceilScaled(V + 1n);
    }
    if (k === order.length || this.lagBound(k, Vs) < this.thr) return;

    // Children with their bounds (tables at k + 1), most promising first.
    const i = order[k]!;
    const lag = this.lag!;
    this.decided[i] = 1;
    this.sumU -= lag.u[i]!;
    const d = this.c.dem[i]!;
    const base = this.lagBound(k + 1, Vs);
    const kids: [number, number][] = [];
    for (const s of this.children(i)) {
      const before = this.lookup(s, k + 1, this.res[s]!);
      const after = this.lookup(s, k + 1, this.res[s]! - d);
      kids.push([s, base - before + after + lag.ws[i]!]);
    }
    kids.push([NONE, base]);
    kids.sort((a, b) => b[1] - a[1] || (a[0] === NONE ? 1 : b[0] === NONE ? -1 : a[0] - b[0]));

    for (const [s, bound] of kids) {
      if (bound < this.thr) break;
      if (s === NONE) {
        this.searchLagrangian(order, k + 1, V, Vs);
      } else {
        this.place(i, s, 1);
        this.searchLagrangian(order, k + 1, V + this.c.w[i]!, Vs + lag.ws[i]!);
        this.place(i, s, -1);
      }
    }

    this.sumU += lag.u[i]!;
    this.decided[i] = 0;
  }

  private searchLp(order: readonly number[], k: number, V: bigint): void {
    if (V > this.best) this.best = V;
    if (k === order.length || this.lpBelow(V, this.best + 1n)) return;

    // Children: best fit first, then none.
    const i = order[k]!;
    this.decided[i] = 1;
    const kids = this.children(i);
    kids.sort((a, b) => this.slack(a) - this.slack(b) || a - b);
    for (const s of kids) {
      this.place(i, s, 1);
      this.searchLp(order, k + 1, V + this.c.w[i]!);
      this.place(i, s, -1);
    }

    this.searchLp(order, k + 1, V);
    this.decided[i] = 0;
  }

  // --- phase 2 ----------------------------------------------------------------------------

  private walk(order: readonly number[], k: number, V: bigint, Vs: number): boolean {
    // Reaching W* with the rest unserved is the smallest completion (none has code 0).
    if (V === this.target) return true;
    if (k === order.length) return false;
    if (this.lag ? this.lagBound(k, Vs) < this.thr : this.lpBelow(V, this.target)) return false;

    // Children in code order: none, then providers by index (symmetric duplicates skipped).
    const i = order[k]!;
    const ui = this.lag ? this.lag.u[i]! : 0;
    const wsi = this.lag ? this.lag.ws[i]! : 0;
    this.decided[i] = 1;
    this.sumU -= ui;
    if (this.walk(order, k + 1, V, Vs)) return true;
    for (const s of this.children(i)) {
      this.place(i, s, 1);
      this.assign[i] = s;
      if (this.walk(order, k + 1, V + this.c.w[i]!, Vs + wsi)) return true;
      this.assign[i] = NONE;
      this.place(i, s, -1);
    }

    this.sumU += ui;
    this.decided[i] = 0;
    return false;
  }

  // --- shared -----------------------------------------------------------------------------

  /** Scaled Lagrangian bound at depth k: Vs + Σ_{undecided} u_i + Σ_s KP_s(residual). */
  private lagBound(k: number, Vs: number): number {
    let b = Vs + this.sumU;
    for (let s = 0; s < this.c.m; s++) b += this.lookup(s, k, this.res[s]!);
    return b;
  }

  private lookup(s: number, k: number, residual: number): number {
    const t = this.tables!;
    const ce = this.lag!.capEff[s]!;
    return t.tabs[s]![t.ck[k]!]![residual < ce ? residual : ce]!;
  }

  private ceilScaled(v: bigint): number {
    return Number((v + this.one - 1n) >> this.shift);
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
