/**
 * The surrogate relaxation of the winner determination problem (R = 1): add up the provider
 * capacity constraints into one, Σ_i d_i·y_i ≤ Σ_s C_s, and drop which provider serves whom.
 * Every feasible assignment is a solution of this single 0/1 knapsack, so its optimum U is an
 * upper bound on W*; when the knapsack's optimal user set can be split among the providers
 * (packing.ts), that split is optimal and U = W* (Pisinger's MULKNAP idea). On the paper's
 * workload with many users per provider this bound is within 0.1 % of W* and, unlike the
 * Lagrangian bound, costs milliseconds.
 *
 * The knapsack is solved exactly:
 * 1. Dantzig's bound with the break user c (ratio order) gives the LP optimum U_LP and the
 *    dual price π = w_c / d_c; filling greedily past the break gives a lower bound LB.
 * 2. A user whose reduced profit r_j = w_j − π·d_j satisfies U_LP − |r_j| < LB keeps its LP
 *    value in every optimum (weak duality with price π), so only the other users, the core,
 *    are left undecided. Comparisons are cross-multiplied by d_c, in bigint.
 * 3. The core is a small knapsack, solved by dynamic programming over capacity with each
 *    value held exactly as hi·2^shift + lo in two float arrays (both sums stay below 2^53).
 */
import type { Compiled } from './wdp.js';

/** An optimum of the surrogate knapsack. */
export interface SurrogateOptimum {
  /** U, the exact optimum (an upper bound on W*). */
  readonly value: bigint;
  /** An optimal user set, ascending. */
  readonly users: readonly number[];
  /**
   * Whether no solution without user i (one of `users`) reaches `target`: true when the LP
   * bound with i forced out is already below it. False means "not shown", not "reaches".
   */
  readonly provesNeeded: (i: number, target: bigint) => boolean;
}

/** Largest core table (cells) the exact dynamic programme builds; beyond it, no result. */
const MAX_CORE_CELLS = 60_000_000;

/** Largest capacity of the core table: its two value rows are Float64Arrays of this length. */
const MAX_CORE_CAPACITY = 1 << 22;

/**
 * The exact surrogate optimum over the users marked in `active` (each of which fits some
 * provider it accepts), or null when the problem is outside this method (R ≠ 1, weights too
 * large for the split representation, or a core too large to tabulate).
 */
export function surrogateOptimum(c: Compiled, active: Uint8Array): SurrogateOptimum | null {
  if (c.R !== 1) return null;
  const sorted = c.order[0]!.filter((i) => active[i]);
  let capacity = 0;
  for (let s = 0; s < c.m; s++) capacity += c.cap[s]!;

  // Dantzig: the greedy prefix and the break user.
  let room = capacity;
  let prefixWeight = 0n;
  let b = 0;
  for (; b < sorted.length; b++) {
    const i = sorted[b]!;
    if (c.dem[i]! > room) break;
    room -= c.dem[i]!;
    prefixWeight += c.w[i]!;
  }
  if (b === sorted.length) {
    const all = sorted.slice().sort((x, y) => x - y);
    return { value: prefixWeight, users: all, provesNeeded: () => false };
  }

  // LP bound and the greedy lower bound, both scaled by d_c.
  const breakUser = sorted[b]!;
  const wc = c.w[breakUser]!;
  const dc = BigInt(c.dem[breakUser]!);
  const upper = prefixWeight * dc + wc * BigInt(room);
  let lower = prefixWeight;
  let left = room;
  for (let q = b + 1; q < sorted.length; q++) {
    const i = sorted[q]!;
    if (c.dem[i]! > left) continue;
    left -= c.dem[i]!;
    lower += c.w[i]!;
  }
  const gap = upper - lower * dc;

  // Reduced-cost fixing; the rest is the core.
  const reduced = new Map<number, bigint>();
  const fixedIn: number[] = [];
  const core: number[] = [];
  let coreCapacity = capacity;
  sorted.forEach((i, q) => {
    const r = c.w[i]! * dc - wc * BigInt(c.dem[i]!);
    reduced.set(i, r);
    const magnitude = r < 0n ? -r : r;
    if (magnitude <= gap) core.push(i);
    else if (q < b) {
      fixedIn.push(i);
      coreCapacity -= c.dem[i]!;
    }
  });

  const chosen = coreKnapsack(c, core, coreCapacity);
  if (chosen === null) return null;
  const users = [...fixedIn, ...chosen].sort((x, y) => x - y);
  let value = 0n;
  for (const i of users) value += c.w[i]!;

  const provesNeeded = (i: number, target: bigint): boolean => {
    const r = reduced.get(i);
    return r !== undefined && r > 0n && upper - r < target * dc;
  };
  return { value, users, provesNeeded };
}

/**
 * The exact 0/1 knapsack over `items` with the given capacity, by dynamic programming; each
 * table value is hi·2^shift + lo with hi and lo summed separately, compared exactly.
 */
function coreKnapsack(c: Compiled, items: readonly number[], capacity: number): number[] | null {
  let total = 0;
  for (const i of items) total += c.dem[i]!;
  const cap = Math.max(0, Math.min(capacity, total));
  const list = items.filter((i) => c.dem[i]! <= cap);
  if (list.length === 0) return [];
  if (cap + 1 > MAX_CORE_CAPACITY || list.length * (cap + 1) > MAX_CORE_CELLS) return null;

  // Split weights: hi < 2^30 per user, lo < 2^shift; refuse when sums could pass 2^53.
  let maxW = 0n;
  for (const i of list) if (c.w[i]! > maxW) maxW = c.w[i]!;
  const shift = Math.max(0, maxW.toString(2).length - 30);
  const k = list.length;
  if (k * 2 ** 30 >= 2 ** 52 || k * 2 ** shift >= 2 ** 52) return null;
  const mask = (1n << BigInt(shift)) - 1n;
  const unit = 2 ** shift;

  const H = new Float64Array(cap + 1);
  const L = new Float64Array(cap + 1);
  const take = new Uint8Array(k * (cap + 1));
  for (let j = 0; j < k; j++) {
    const i = list[j]!;
    const d = c.dem[i]!;
    const hi = Number(c.w[i]! >> BigInt(shift));
    const lo = Number(c.w[i]! & mask);
    const base = j * (cap + 1);
    for (let x = cap; x >= d; x--) {
      const ch = H[x - d]! + hi;
      const cl = L[x - d]! + lo;
      const dh = ch - H[x]!;
      // |lo sums| < k·2^shift, so a hi difference above k decides; else compute exactly.
      const better = dh > k ? true : dh < -k ? false : dh * unit + (cl - L[x]!) > 0;
      if (better) {
        H[x] = ch;
        L[x] = cl;
        take[base + x] = 1;
      }
    }
  }

  const chosen: number[] = [];
  let x = cap;
  for (let j = k - 1; j >= 0; j--) {
    if (!take[j * (cap + 1) + x]) continue;
    chosen.push(list[j]!);
    x -= c.dem[list[j]!]!;
  }
  return chosen;
}
