/**
 * Packing a given user set into the providers (R = 1): the second half of the surrogate
 * method (surrogate.ts). Two questions are asked:
 * - **split**: is there any assignment of the set that respects every capacity and accept
 *   list? First constructively, provider by provider, each filled by an exact subset-sum over
 *   the users still unplaced; when that fails, by an exhaustive search with a step budget,
 *   which answers yes (with a packing), no, or, past its budget, "unknown". The caller falls
 *   back to the branch-and-bound on anything but yes.
 * - **lexicographically smallest packing**: the canonical tie rule (solver.ts) once the optimal
 *   user set is known to be the only one. Users in id order take the lowest provider index
 *   from which the rest of the set can still be packed, each question answered as above
 *   (after a cheap local repair of the current packing is tried). When one is left unknown
 *   the answer is null and the caller falls back.
 */
import { NONE, type Compiled } from './wdp.js';

/**
 * Largest subset-sum table (users × capacity cells) a constructive step builds; beyond it the
 * step is skipped (large capacities in small units), which only means "not shown here".
 */
const MAX_PACK_CELLS = 20_000_000;

/**
 * An assignment of `users` (each to a provider it accepts, within the residual capacities
 * `room`): first by filling the providers one at a time (fast, usually enough), then by the
 * exhaustive {@link packExactly}.
 *
 * @param room residual capacity per provider (not modified)
 * @returns a packing, 'no' when none exists, or null when the search ran out of budget
 */
export function splitIntoProviders(
  c: Compiled,
  users: readonly number[],
  room: readonly number[],
): Int32Array | 'no' | null {
  const byRoom = Array.from({ length: c.m }, (_, s) => s).sort(
    (a, b) => room[a]! - room[b]! || a - b,
  );
  for (const order of [byRoom, byRoom.slice().reverse()]) {
    const assign = splitInOrder(c, users, room, order);
    if (assign) return assign;
  }
  return packExactly(c, users, room);
}

/**
 * Fills the providers one at a time, in `order`, each with a largest subset (by total
 * demand) of the users still unplaced; fails once the capacity left unused exceeds the slack
 * Σ room − Σ demand.
 */
function splitInOrder(
  c: Compiled,
  users: readonly number[],
  room: readonly number[],
  order: readonly number[],
): Int32Array | null {
  const assign = new Int32Array(c.n).fill(NONE);
  let slack = 0;
  for (const s of order) slack += room[s]!;
  for (const i of users) slack -= c.dem[i]!;
  if (slack < 0) return null;

  const placed = new Uint8Array(c.n);
  let unplaced = users.length;
  for (const s of order) {
    if (unplaced === 0) break;
    const candidates = users.filter((i) => !placed[i] && c.acc[i * c.m + s]);
    const subset = largestSubset(c, candidates, room[s]!);
    if (!subset) return null;
    let filled = 0;
    for (const i of subset) {
      placed[i] = 1;
      assign[i] = s;
      filled += c.dem[i]!;
    }
    unplaced -= subset.length;
    slack -= room[s]! - filled;
    if (slack < 0) return null;
  }
  return unplaced === 0 ? assign : null;
}

/**
 * A subset of `users` with the largest total demand not above `cap` (exact subset-sum;
 * larger users considered first, so they are the ones used when there is a choice; users of
 * demand 0 always in), or null when the table would pass {@link MAX_PACK_CELLS}.
 */
function largestSubset(c: Compiled, users: readonly number[], cap: number): number[] | null {
  const list = users.filter((i) => c.dem[i]! > 0 && c.dem[i]! <= cap);
  if (list.length * (cap + 1) > MAX_PACK_CELLS) return null;
  list.sort((a, b) => c.dem[b]! - c.dem[a]! || a - b);
  const from = new Int32Array(cap + 1).fill(-1);
  from[0] = -2;
  let best = 0;
  for (let j = 0; j < list.length && best < cap; j++) {
    const d = c.dem[list[j]!]!;
    for (let x = cap; x >= d; x--) {
      if (from[x] !== -1 || from[x - d] === -1) continue;
      from[x] = j;
      if (x > best) best = x;
    }
  }

  const out = users.filter((i) => c.dem[i] === 0);
  for (let x = best; x > 0;) {
    const j = from[x]!;
    out.push(list[j]!);
    x -= c.dem[list[j]!]!;
  }
  return out;
}

/**
 * The lexicographically smallest packing of `users` (code order: provider index ascending,
 * users in id order), given a packing `witness` of them; null when some step could be
 * neither shown possible nor shown impossible. Users outside the set are left unserved.
 */
export function lexMinPacking(
  c: Compiled,
  users: readonly number[],
  witness: Int32Array,
): Int32Array | null {
  const inSet = users.slice().sort((a, b) => a - b);
  let x: Int32Array = witness.slice();
  const room = c.cap.slice();

  for (let q = 0; q < inSet.length; q++) {
    const k = inSet[q]!;
    const rest = inSet.slice(q + 1);
    const current = x[k]!;
    for (const t of c.accList[k]!) {
      if (t >= current) break;
      if (c.dem[k]! > room[t]!) continue;
      const found = packWith(c, k, t, rest, room, x);
      if (found === 'no') continue;
      if (found === null) return null;
      x = found;
      break;
    }
    room[x[k]!]! -= c.dem[k]!;
  }
  return x;
}

/**
 * A packing of `rest` after placing k in provider t (the users before k fixed as in x, whose
 * demands are already out of `room`): a witness, 'no' when provably none exists, or null.
 */
function packWith(
  c: Compiled,
  k: number,
  t: number,
  rest: readonly number[],
  room: readonly number[],
  x: Int32Array,
): Int32Array | 'no' | null {
  const after = room.slice();
  after[t]! -= c.dem[k]!;

  // A local repair of x: move k to t and enough of t's later users to k's old provider.
  const repaired = moveInto(c, k, t, rest, after, x);
  if (repaired) return repaired;

  // Otherwise a fresh split of the rest, constructive, then exhaustive.
  const split = splitIntoProviders(c, rest, after);
  if (!(split instanceof Int32Array)) return split;
  const y = x.slice();
  for (const i of rest) y[i] = split[i]!;
  y[k] = t;
  return y;
}

/**
 * x with k moved from its provider u to t, and a subset of the later users in t, of total
 * demand between the overflow of t and the room freed in u, moved to u; null if none.
 */
function moveInto(
  c: Compiled,
  k: number,
  t: number,
  rest: readonly number[],
  after: readonly number[],
  x: Int32Array,
): Int32Array | null {
  const u = x[k]!;
  let loadT = 0;
  let loadU = 0;
  for (const i of rest) {
    if (x[i] === t) loadT += c.dem[i]!;
    else if (x[i] === u) loadU += c.dem[i]!;
  }
  const over = loadT - after[t]!;
  const free = after[u]! - loadU;
  const y = x.slice();
  y[k] = t;
  if (over <= 0) return y;
  if (free < over) return null;

  // t's later users that accept u, as many (by demand) as fit in u: enough if ≥ the overflow.
  const movable = rest.filter((i) => x[i] === t && c.acc[i * c.m + u]);
  const moved = largestSubset(c, movable, free);
  if (!moved) return null;
  let total = 0;
  for (const i of moved) total += c.dem[i]!;
  if (total < over) return null;
  for (const i of moved) y[i] = u;
  return y;
}

/** Search steps {@link packExactly} may take before it answers "unknown". */
export const PACK_BUDGET = 200_000;

/**
 * Whether `users` can be packed into the providers within the residual capacities `room`,
 * by an exhaustive search: providers in ascending room, each given, in turn, every subset of
 * the users left (larger demands first, interchangeable users enumerated once) that leaves no
 * more unused room than the slack Σ room − Σ demand allows. A state (next provider, users
 * left) that failed once is not searched again.
 *
 * @returns a packing, 'no' when none exists, or null when the search passed `budget` steps
 */
export function packExactly(
  c: Compiled,
  users: readonly number[],
  room: readonly number[],
  budget = PACK_BUDGET,
): Int32Array | 'no' | null {
  const assign = new Int32Array(c.n).fill(NONE);
  const items: number[] = [];
  let slack = 0;
  for (let s = 0; s < c.m; s++) slack += room[s]!;
  for (const i of users) {
    if (c.dem[i]! > 0) items.push(i);
    else if (c.accList[i]!.length > 0) assign[i] = c.accList[i]![0]!;
    else return 'no';
    slack -= c.dem[i]!;
  }
  if (slack < 0) return 'no';
  items.sort((a, b) => c.dem[b]! - c.dem[a]! || a - b);
  const bins = Array.from({ length: c.m }, (_, s) => s)
    .filter((s) => room[s]! > 0)
    .sort((a, b) => room[a]! - room[b]! || a - b);

  const search = new ExactPacking(c, items, bins, room, assign, budget);
  const found = search.fill(0, slack);
  return found === true ? assign : found === false ? 'no' : null;
}

/** The search state of {@link packExactly}. */
class ExactPacking {
  private readonly left: Uint8Array;
  private readonly failed = new Set<string>();
  /** Items j and j + 1 are interchangeable (same demand and accept list). */
  private readonly twin: Uint8Array;
  private steps = 0;

  constructor(
    private readonly c: Compiled,
    private readonly items: readonly number[],
    private readonly bins: readonly number[],
    private readonly room: readonly number[],
    private readonly assign: Int32Array,
    private readonly budget: number,
  ) {
    this.left = new Uint8Array(items.length).fill(1);
    this.twin = new Uint8Array(items.length);
    for (let j = 0; j + 1 < items.length; j++) {
      const a = items[j]!;
      const b = items[j + 1]!;
      let same = c.dem[a] === c.dem[b];
      for (let s = 0; same && s < c.m; s++) same = c.acc[a * c.m + s] === c.acc[b * c.m + s];
      this.twin[j] = same ? 1 : 0;
    }
  }

  /** Packs the items left into bins[b..]: true (assign holds it), false, or null (budget). */
  fill(b: number, slack: number): boolean | null {
    const open = this.itemsLeft();
    if (open.length === 0) return true;
    if (b === this.bins.length || !this.everyItemFits(open, b)) return false;
    const key = `${b}:${open.join(',')}`;
    if (this.failed.has(key)) return false;

    const s = this.bins[b]!;
    const cap = this.room[s]!;
    const candidates = open.filter((j) => this.c.acc[this.items[j]! * this.c.m + s]);
    const suffix = new Array<number>(candidates.length + 1).fill(0);
    for (let q = candidates.length - 1; q >= 0; q--) {
      suffix[q] = suffix[q + 1]! + this.c.dem[this.items[candidates[q]!]!]!;
    }
    const lo = cap - slack;

    // Every subset of the candidates with a total in [lo, cap], by include/exclude.
    const chosen: number[] = [];
    const choose = (q: number, sum: number): boolean | null => {
      if (++this.steps > this.budget) return null;
      if (sum >= lo) {
        for (const j of chosen) this.left[j] = 0;
        const done = this.fill(b + 1, slack - (cap - sum));
        for (const j of chosen) this.left[j] = 1;
        if (done !== false) {
          if (done) for (const j of chosen) this.assign[this.items[j]!] = s;
          return done;
        }
      }
      for (let r = q; r < candidates.length; r++) {
        if (sum + suffix[r]! < lo) return false;
        const j = candidates[r]!;
        const d = this.c.dem[this.items[j]!]!;
        if (r > q && this.twin[candidates[r - 1]!] && candidates[r - 1] === j - 1) continue;
        if (sum + d > cap) continue;
        chosen.push(j);
        const done = choose(r + 1, sum + d);
        chosen.pop();
        if (done !== false) return done;
      }
      return false;
    };
    const done = choose(0, 0);
    if (done === false) this.failed.add(key);
    return done;
  }

  private itemsLeft(): number[] {
    const out: number[] = [];
    for (let j = 0; j < this.items.length; j++) if (this.left[j]) out.push(j);
    return out;
  }

  /** Each item left fits, alone, in some bin from b on that it accepts. */
  private everyItemFits(open: readonly number[], b: number): boolean {
    for (const j of open) {
      const i = this.items[j]!;
      let fits = false;
      for (let q = b; q < this.bins.length && !fits; q++) {
        const s = this.bins[q]!;
        fits = this.c.acc[i * this.c.m + s] === 1 && this.c.dem[i]! <= this.room[s]!;
      }
      if (!fits) return false;
    }
    return true;
  }
}
