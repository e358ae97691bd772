/**
 * The Lagrangian bound of the branch-and-bound (R = 1): relax "each user in at most one
 * provider" with multipliers u_i ≥ 0. For any such u and any feasible assignment x,
 *
 *   Σ_{i served} w_i  ≤  Σ_i u_i + Σ_s KP_s(w − u),
 *
 * where KP_s is the 0/1 knapsack of provider s alone (capacity C_s, profits w_i − u_i, users
 * accepting s). Each KP_s is an exact dynamic programme over capacity, so the bound sees how
 * well each provider can actually be filled — the source of the LP bound's weakness on the
 * paper's workload (few users per provider). Multipliers come from a subgradient method;
 * which u it ends with only affects speed, never the result, because the inequality holds for
 * every u ≥ 0.
 *
 * Exactness: weights are scaled to w_i' = ⌈w_i / 2^shift⌉ (shift chosen so that every sum
 * stays below 2^53) and all arithmetic below is on exact JS integers; rounding up keeps the
 * bound an upper bound of the true value divided by 2^shift.
 */
import { NONE, type Compiled } from './wdp.js';

/** Iterations of the subgradient method from scratch, and from warm multipliers. */
export const ROOT_ITERATIONS = 120;
/** Iterations when starting from the root's multipliers (payment re-solves). */
export const WARM_ITERATIONS = 10;

/** Entries (8 bytes each) one set of suffix tables may hold before checkpoints thin out. */
const TABLE_BUDGET = 6_000_000;

/** A feasible assignment and its exact value. */
export interface Incumbent {
  assign: Int32Array;
  value: bigint;
}

/** Knapsack tables over suffixes of a search order, for the bound at each depth. */
export interface SuffixTables {
  /** tabs[s][j]: best reduced profit per capacity using the items order[ck[k]·…] onward. */
  readonly tabs: readonly (readonly Float64Array[])[];
  /** ck[k]: the checkpoint whose item set contains order[k..] (a superset: valid, looser). */
  readonly ck: Int32Array;
}

/** Chooses 2^shift so that (m + 2)·Σ⌈w_i / 2^shift⌉ ≤ 2^53 − 1. */
export function scaleShift(c: Compiled): bigint {
  const total = c.w.reduce((a, b) => a + b, 0n);
  const limit = BigInt(Number.MAX_SAFE_INTEGER) / BigInt(c.m + 2);
  let shift = 0n;
  while ((total >> shift) + BigInt(c.n) + 1n > limit) shift++;
  return shift;
}

/** Multipliers, per-provider knapsacks and the subgradient method. */
export class Lagrangian {
  /** ⌈w_i / 2^shift⌉ for active users, 0 for the others. */
  readonly ws: number[];
  /** Current multipliers, 0 ≤ u_i ≤ ws_i. */
  u: number[];
  /** Best (lowest) bound value found by `optimise`, in scaled units. */
  bestL = Number.MAX_SAFE_INTEGER;
  /** Eligible users per provider: active, accepting s, d_i ≤ C_s. */
  private readonly items: number[][];
  /** Per provider: min(C_s, Σ eligible demand), the largest capacity a table needs. */
  readonly capEff: number[];
  private readonly F: Float64Array[];
  private readonly take: Uint8Array[];

  constructor(
    private readonly c: Compiled,
    private readonly active: Uint8Array,
    readonly shift: bigint,
    warm: readonly number[] | null,
  ) {
    const { n, m } = c;
    this.ws = c.w.map((w, i) => (active[i] ? Number((w + (1n << shift) - 1n) >> shift) : 0));
    this.items = [];
    this.capEff = [];
    for (let s = 0; s < m; s++) {
      const list: number[] = [];
      let total = 0;
      for (let i = 0; i < n; i++) {
        if (active[i] && c.acc[i * m + s] && c.dem[i]! <= c.cap[s]!) {
          list.push(i);
          total += c.dem[i]!;
        }
      }
      this.items.push(list);
      this.capEff.push(Math.min(c.cap[s]!, total));
    }
    this.F = this.capEff.map((ce) => new Float64Array(ce + 1));
    this.take = this.capEff.map((ce, s) => new Uint8Array((ce + 1) * this.items[s]!.length));
    this.u = warm ? warm.map((x, i) => (active[i] ? Math.min(x, this.ws[i]!) : 0)) : this.lpStart();
  }

  /** Number of DP cells one evaluation touches (to decide whether this bound is affordable). */
  static cells(c: Compiled, active: Uint8Array): number {
    let cells = 0;
    for (let s = 0; s < c.m; s++) {
      let count = 0;
      let total = 0;
      for (let i = 0; i < c.n; i++) {
        if (active[i] && c.acc[i * c.m + s] && c.dem[i]! <= c.cap[s]!) {
          count++;
          total += c.dem[i]!;
        }
      }
      cells += count * (Math.min(c.cap[s]!, total) + 1);
    }
    return cells;
  }

  /**
   * Subgradient method with Polyak steps towards the incumbent and a halving step factor;
   * keeps the multipliers of the lowest bound. Each iteration also turns the per-provider
   * knapsack solutions into a feasible assignment (conflicts resolved in provider order, then
   * a best-fit fill), which may improve `inc`.
   *
   * @param stopBelow scaled bound under which the incumbent is proven optimal
   */
  optimise(iterations: number, inc: Incumbent, stopBelow: () => number): void {
    const { n, m } = this.c;
    const maxWs = this.ws.reduce((a, b) => Math.max(a, b), 0);
    let bestU = this.u.slice();
    let halvings = 0;
    let stale = 0;
    const cnt = new Int32Array(n);

    for (let it = 0; it < iterations; it++) {
      // Evaluate L(u) and the per-provider solutions.
      cnt.fill(0);
      const sols: number[][] = [];
      let L = 0;
      for (let i = 0; i < n; i++) L += this.u[i]!;
      for (let s = 0; s < m; s++) {
        const sol = this.knapsack(s, true);
        L += this.F[s]![this.capEff[s]!]!;
        for (const i of sol) cnt[i]!++;
        sols.push(sol);
      }
      this.repair(sols, inc);
      if (it === 0 || it === iterations - 1) refillProviders(this.c, this.active, this.ws, inc);

      // Keep the best multipliers; shrink the step after five iterations without progress.
      if (L < this.bestL) {
        this.bestL = L;
        bestU = this.u.slice();
        stale = 0;
      } else if (++stale >= 5) {
        halvings++;
        stale = 0;
      }
      if (this.bestL < stopBelow()) break;

      // Polyak step τ = 2·(L − LB) / (‖g‖²·2^halvings), g_i = 1 − cnt_i (active users only).
      let norm2 = 0;
      for (let i = 0; i < n; i++) {
        if (!this.active[i]) continue;
        const g = 1 - cnt[i]!;
        norm2 += g * g;
      }
      const gap = L - Number(inc.value >> this.shift);
      if (norm2 === 0 || gap <= 0) break;
      const tau = (BigInt(gap) * 2n) / (BigInt(norm2) << BigInt(halvings));
      const step = tau > BigInt(maxWs) ? maxWs : Number(tau);
      if (step === 0) break;
      for (let i = 0; i < n; i++) {
        if (!this.active[i]) continue;
        const next = this.u[i]! - step * (1 - cnt[i]!);
        this.u[i] = next < 0 ? 0 : next > this.ws[i]! ? this.ws[i]! : next;
      }
    }
    this.u = bestU;
  }

  /**
   * Suffix tables for a search order (active users only): the knapsack of each provider over
   * order[k..], stored at checkpoints every `step` positions to bound memory.
   */
  suffixTables(order: readonly number[]): SuffixTables {
    const { m } = this.c;
    const len = order.length;
    let width = 0;
    for (let s = 0; s < m; s++) width += this.capEff[s]! + 1;
    const step = Math.max(1, Math.ceil(((len + 1) * width) / TABLE_BUDGET));
    const ck = new Int32Array(len + 1);
    for (let k = 0; k <= len; k++) ck[k] = (k - (k % step)) / step;

    const tabs: Float64Array[][] = [];
    for (let s = 0; s < m; s++) {
      const ce = this.capEff[s]!;
      const F = new Float64Array(ce + 1);
      const list = new Array<Float64Array>(ck[len]! + 1);
      list[ck[len]!] = F.slice();
      for (let k = len - 1; k >= 0; k--) {
        const i = order[k]!;
        const p = this.ws[i]! - this.u[i]!;
        const d = this.c.dem[i]!;
        if (p > 0 && d <= ce && this.c.acc[i * m + s]) {
          for (let x = ce; x >= d; x--) {
            const v = F[x - d]! + p;
            if (v > F[x]!) F[x] = v;
          }
        }
        if (k % step === 0) list[ck[k]!] = F.slice();
      }
      tabs.push(list);
    }
    return { tabs, ck };
  }

  /** KP_s over every capacity up to capEff_s, using the users marked in `include`. */
  fullTables(include: Uint8Array): Float64Array[] {
    const { m } = this.c;
    const out: Float64Array[] = [];
    for (let s = 0; s < m; s++) {
      const ce = this.capEff[s]!;
      const F = new Float64Array(ce + 1);
      for (const i of this.items[s]!) {
        const p = this.ws[i]! - this.u[i]!;
        const d = this.c.dem[i]!;
        if (!include[i] || p <= 0) continue;
        for (let x = ce; x >= d; x--) {
          const v = F[x - d]! + p;
          if (v > F[x]!) F[x] = v;
        }
      }
      out.push(F);
    }
    return out;
  }

  /** Σ u_i over active users. */
  sumU(): number {
    let t = 0;
    for (let i = 0; i < this.c.n; i++) t += this.u[i]!;
    return t;
  }

  /** 0/1 knapsack of provider s on profits ws − u; returns the chosen users when asked. */
  private knapsack(s: number, solution: boolean): number[] {
    const ce = this.capEff[s]!;
    const F = this.F[s]!;
    const take = this.take[s]!;
    const list = this.items[s]!;
    F.fill(0);
    take.fill(0);
    for (let j = 0; j < list.length; j++) {
      const i = list[j]!;
      const p = this.ws[i]! - this.u[i]!;
      const d = this.c.dem[i]!;
      if (p <= 0) continue;
      const base = j * (ce + 1);
      for (let x = ce; x >= d; x--) {
        const v = F[x - d]! + p;
        if (v > F[x]!) {
          F[x] = v;
          take[base + x] = 1;
        }
      }
    }
    if (!solution) return [];

    const out: number[] = [];
    let x = ce;
    for (let j = list.length - 1; j >= 0; j--) {
      if (take[j * (ce + 1) + x]) {
        out.push(list[j]!);
        x -= this.c.dem[list[j]!]!;
      }
    }
    return out;
  }

  /** Lagrangian heuristic: per-provider solutions made disjoint, then a best-fit fill. */
  private repair(sols: readonly number[][], inc: Incumbent): void {
    const { n, m } = this.c;
    const assign = new Int32Array(n).fill(NONE);
    const res = this.c.cap.slice();
    for (let s = 0; s < m; s++) {
      for (const i of sols[s]!) {
        if (assign[i] !== NONE || this.c.dem[i]! > res[s]!) continue;
        assign[i] = s;
        res[s]! -= this.c.dem[i]!;
      }
    }
    const value = bestFitFill(this.c, this.active, assign, res);
    if (value > inc.value) {
      inc.value = value;
      inc.assign = assign;
    }
  }

  /** Multipliers from the LP relaxation: u_i = max(0, w_i − π·d_i), π the critical ratio. */
  private lpStart(): number[] {
    const { n, m } = this.c;
    let pooled = 0;
    let largest = 0;
    for (let s = 0; s < m; s++) {
      pooled += this.c.cap[s]!;
      largest = Math.max(largest, this.c.cap[s]!);
    }
    let critical = -1;
    for (const i of this.c.order[0]!) {
      if (!this.active[i] || this.c.dem[i]! > largest) continue;
      if (this.c.dem[i]! <= pooled) pooled -= this.c.dem[i]!;
      else {
        critical = i;
        break;
      }
    }

    const u = new Array<number>(n).fill(0);
    if (critical < 0) return this.ws.slice();
    const num = BigInt(this.ws[critical]!);
    const den = BigInt(this.c.dem[critical]!);
    for (let i = 0; i < n; i++) {
      if (!this.active[i]) continue;
      const price = (num * BigInt(this.c.dem[i]!) + den - 1n) / den;
      const slack = BigInt(this.ws[i]!) - price;
      u[i] = slack > 0n ? Number(slack) : 0;
    }
    return u;
  }
}

/**
 * Adds unassigned active users, in branching order, to the best-fitting accepting provider
 * (least total slack, then lowest index); returns the exact value of the result.
 */
export function bestFitFill(
  c: Compiled,
  active: Uint8Array,
  assign: Int32Array,
  res: number[],
): bigint {
  const { R } = c;
  for (const i of c.branch) {
    if (!active[i] || assign[i] !== NONE) continue;
    let chosen = NONE;
    let chosenSlack = 0;
    for (const s of c.accList[i]!) {
      let slack = 0;
      let ok = true;
      for (let r = 0; r < R && ok; r++) {
        const left = res[s * R + r]! - c.dem[i * R + r]!;
        if (left < 0) ok = false;
        slack += left;
      }
      if (ok && (chosen === NONE || slack < chosenSlack)) {
        chosen = s;
        chosenSlack = slack;
      }
    }
    if (chosen === NONE) continue;
    assign[i] = chosen;
    for (let r = 0; r < R; r++) res[chosen * R + r]! -= c.dem[i * R + r]!;
  }

  let value = 0n;
  for (let i = 0; i < c.n; i++) if (assign[i] !== NONE) value += c.w[i]!;
  return value;
}

/**
 * Local search for R = 1 (a primal heuristic, no effect on results): for each provider in
 * turn, refill it optimally — an exact knapsack over its own users plus the unserved ones,
 * on the scaled weights — and keep the change when the exact value grows. Rounds repeat
 * until one brings no gain (at most `rounds`).
 */
export function refillProviders(
  c: Compiled,
  active: Uint8Array,
  ws: readonly number[],
  inc: Incumbent,
  rounds = 4,
): void {
  const { n, m } = c;
  if (c.R !== 1) return;
  const assign = inc.assign.slice();
  let value = inc.value;

  for (let round = 0; round < rounds; round++) {
    let improved = false;
    for (let s = 0; s < m; s++) {
      // Candidates: users in s and unserved active users that accept s and fit C_s.
      const pool: number[] = [];
      let before = 0n;
      for (let i = 0; i < n; i++) {
        if (assign[i] === s) before += c.w[i]!;
        const free = assign[i] === s || (assign[i] === NONE && active[i] === 1);
        if (free && c.acc[i * m + s] && c.dem[i]! <= c.cap[s]!) pool.push(i);
      }
      const chosen = knapsackSelect(c.cap[s]!, pool, c.dem, ws);
      let after = 0n;
      for (const i of chosen) after += c.w[i]!;
      if (after <= before) continue;

      // Apply: the old content of s becomes unserved, the chosen users move to s.
      for (let i = 0; i < n; i++) if (assign[i] === s) assign[i] = NONE;
      for (const i of chosen) assign[i] = s;
      value += after - before;
      improved = true;
    }
    if (!improved) break;
  }

  if (value > inc.value) {
    inc.value = value;
    inc.assign = assign;
  }
}

/** Exact 0/1 knapsack (max Σ ws, capacity cap) over `pool`; returns the chosen users. */
function knapsackSelect(
  cap: number,
  pool: readonly number[],
  dem: readonly number[],
  ws: readonly number[],
): number[] {
  let total = 0;
  for (const i of pool) total += dem[i]!;
  const ce = Math.min(cap, total);
  const F = new Float64Array(ce + 1);
  const take = new Uint8Array((ce + 1) * pool.length);
  for (let j = 0; j < pool.length; j++) {
    const i = pool[j]!;
    const d = dem[i]!;
    const p = ws[i]!;
    const base = j * (ce + 1);
    for (let x = ce; x >= d; x--) {
      const v = F[x - d]! + p;
      if (v > F[x]!) {
        F[x] = v;
        take[base + x] = 1;
      }
    }
  }

  const out: number[] = [];
  let x = ce;
  for (let j = pool.length - 1; j >= 0; j--) {
    if (take[j * (ce + 1) + x]) {
      out.push(pool[j]!);
      x -= dem[pool[j]!]!;
    }
  }
  return out;
}
