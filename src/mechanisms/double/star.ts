/**
 * STAR-Padding double auction (mechanisms.md Part A.4), pure, deterministic and exact.
 *
 * Providers are sorted by ask ascending (L1) and users by bid descending (L2), ties by agent id.
 * One pass with two pointers picks the last feasible number of users f and its provider cover t,
 * users are water-filled into providers, and every winner trades at one clearing price per side:
 * providers are paid s'_{t+1} per unit of full capacity, users pay b'_{f+1} per unit of demand.
 *
 * Two winner rules (Decision 1): `safe` covers D_g with the price-independent count T(g) of A.4.7
 * (truthful for both sides), `paper` with t(g) = fewest providers in ask order (A.4.2).
 *
 * All arithmetic is bigint; nothing here reads a clock, a random source or a float.
 */
import { InvalidInputError } from '../../core/errors.js';
import {
  MAX_PRICE,
  MAX_QUANTITY,
  checkAgentId,
  compareIds,
  toBoundedInteger,
} from '../../core/units.js';
import type {
  AllocationEntry,
  DoubleAuctionInput,
  DoubleAuctionOutcome,
  ProviderAsk,
  Transfer,
  UserBid,
  WinnerRule,
} from './types.js';

/** The winner rules runStarPadding accepts, `safe` (the default of Decision 1) first. */
export const WINNER_RULES: readonly WinnerRule[] = ['safe', 'paper'];

/** The rule to use when a caller does not choose one (mechanisms.md Decision 1). */
export const DEFAULT_WINNER_RULE: WinnerRule = 'safe';

/**
 * Runs STAR-Padding on validated reports and returns the outcome, every list in canonical order.
 * Throws InvalidInputError (via validateDoubleAuctionInput) when the input is malformed.
 * Runs in O(n log n + m log m) time and O(n + m) memory.
 */
export function runStarPadding(input: DoubleAuctionInput): DoubleAuctionOutcome {
  validateDoubleAuctionInput(input);

  const L1 = [...input.providers].sort(compareAsks); // A.4.1: s'_1 ≤ … ≤ s'_m, ties by id
  const L2 = [...input.users].sort(compareBids); // A.4.1: b'_1 ≥ … ≥ b'_n, ties by id
  const m = L1.length;
  const n = L2.length;

  const S = prefixSums(L1.map((p) => p.capacity)); // A.4.1: S_h = Σ_{k≤h} B'_k
  const D = prefixSums(L2.map((u) => u.demand)); // A.4.1: D_g = Σ_{i≤g} d'_i
  const cover = input.rule === 'safe' ? smallestCapacitySums(L1) : S; // A.4.7 Q_h / A.4.2 S_h

  const { f, t } = chooseWinners(L1, L2, S, D, cover, m, n); // A.4.2 / A.4.7
  if (f === 0) return noTrade(input.rule);

  const sNext = L1[t]!.ask; // s'_{t+1}, the first losing ask (A.4.4)
  const bNext = L2[f]!.bid; // b'_{f+1}, the first losing bid (A.4.4)
  const { allocation, padding, welfare } = waterFill(L1, L2, f, t); // A.4.3

  const providerPayments: Transfer[] = [];
  let paid = 0n;
  for (let k = 0; k < t; k++) {
    const amount = sNext * L1[k]!.capacity; // A.4.4: p_k = s'_{t+1}·B_k
    providerPayments.push({ id: L1[k]!.id, amount });
    paid += amount;
  }

  const userCharges: Transfer[] = [];
  let charged = 0n;
  for (let i = 0; i < f; i++) {
    const amount = bNext * L2[i]!.demand; // A.4.4: q_i = b'_{f+1}·d_i
    userCharges.push({ id: L2[i]!.id, amount });
    charged += amount;
  }

  return {
    rule: input.rule,
    winningProviders: L1.slice(0, t).map((p) => p.id),
    winningUsers: L2.slice(0, f).map((u) => u.id),
    allocation,
    padding,
    providerPayments,
    userCharges,
    clearingAsk: sNext,
    clearingBid: bNext,
    surplus: charged - paid, // A.4.4: Φ = Σq − Σp = b'_{f+1}·D_f − s'_{t+1}·S_t ≥ 0
    welfare,
  };
}

/**
 * Scans every g = 1..n−1 with a provider pointer that only moves forward, and returns the last
 * feasible g as f with its cover t (f = 0 means no trade). The sentinels s'_{m+1} = +∞ and
 * b'_{n+1} = 0 are applied as index bounds t ≤ m−1 and f ≤ n−1, so both clearing prices are
 * always real reports, even when some reported price is 0.
 */
function chooseWinners(
  L1: readonly ProviderAsk[],
  L2: readonly UserBid[],
  S: readonly bigint[],
  D: readonly bigint[],
  cover: readonly bigint[],
  m: number,
  n: number,
): { f: number; t: number } {
  let f = 0;
  let t = 0;
  let h = 0;
  for (let g = 1; g <= n - 1; g++) {
    while (h <= m && cover[h]! < D[g]!) h++; // A.4.2 t(g) = min{h : S_h ≥ D_g}; A.4.7 T(g)

    if (h > m - 1) break; // A.4.2: s'_{m+1} = +∞; D_g only grows, so no later g fits either

    const bNext = L2[g]!.bid; // b'_{g+1}
    const sNext = L1[h]!.ask; // s'_{h+1}
    const budget = bNext * D[g]! >= sNext * S[h]!; // A.4.2 (5): b'_{g+1}·D_g ≥ s'_{h+1}·S_h
    if (budget) {
      f = g; // A.4.2: keep the LAST feasible g; the feasible set need not be contiguous
      t = h;
    }
  }
  return { f, t };
}

/**
 * Water-fills the first f users (L2 order) into the first t providers (L1 order) and reserves
 * what is left of those providers for the padding tenant. Also sums the reported welfare.
 */
function waterFill(
  L1: readonly ProviderAsk[],
  L2: readonly UserBid[],
  f: number,
  t: number,
): { allocation: AllocationEntry[]; padding: Transfer[]; welfare: bigint } {
  const allocation: AllocationEntry[] = [];
  let welfare = 0n;
  let k = 0;
  let rem = L1[0]!.capacity; // rem_k ← B'_1

  for (let i = 0; i < f; i++) {
    const user = L2[i]!;
    let need = user.demand; // need_i ← d'_i
    while (need > 0n) {
      if (k >= t) throw new Error('STAR-Padding: cover does not hold D_f (internal error)');
      const provider = L1[k]!;
      const a = rem < need ? rem : need; // A.4.3: a ← min(rem_k, need_i)
      allocation.push({ provider: provider.id, user: user.id, units: a }); // A.4.3: A[k][i] += a
      welfare += (user.bid - provider.ask) * a; // A.2: SW += (b_i − s_k)·a_ki
      rem -= a;
      need -= a;
      if (rem === 0n) {
        k++; // A.4.3: next provider
        rem = k < t ? L1[k]!.capacity : 0n;
      }
    }
  }

  const padding: Transfer[] = [];
  for (; k < t; k++) {
    const left = rem > 0n ? rem : L1[k]!.capacity; // A.4.3/A.4.7: S_t − D_f to the padding tenant
    if (left > 0n) padding.push({ id: L1[k]!.id, amount: left });
    rem = 0n;
  }
  return { allocation, padding, welfare };
}

/** The outcome when no g is feasible: nobody trades. */
function noTrade(rule: WinnerRule): DoubleAuctionOutcome {
  return {
    rule,
    winningProviders: [],
    winningUsers: [],
    allocation: [],
    padding: [],
    providerPayments: [],
    userCharges: [],
    clearingAsk: null,
    clearingBid: null,
    surplus: 0n,
    welfare: 0n,
  };
}

/** L1 order: ask ascending, ties by id (never by capacity). */
function compareAsks(a: ProviderAsk, b: ProviderAsk): number {
  return a.ask < b.ask ? -1 : a.ask > b.ask ? 1 : compareIds(a.id, b.id);
}

/** L2 order: bid descending, ties by id (never by demand). */
function compareBids(a: UserBid, b: UserBid): number {
  return a.bid > b.bid ? -1 : a.bid < b.bid ? 1 : compareIds(a.id, b.id);
}

/** [0, x_1, x_1+x_2, …]: index h holds the sum of the first h values. */
function prefixSums(values: readonly bigint[]): bigint[] {
  const out: bigint[] = [0n];
  let sum = 0n;
  for (const v of values) {
    sum += v;
    out.push(sum);
  }
  return out;
}

/** Q_h of A.4.7: the sum of the h smallest capacities of the whole multiset {B_k}. */
function smallestCapacitySums(providers: readonly ProviderAsk[]): bigint[] {
  const caps = providers.map((p) => p.capacity);
  caps.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return prefixSums(caps);
}

/**
 * Checks a double-auction input and throws InvalidInputError naming the first bad field by its
 * path (`rule`, `providers[1].id`, `users[3].demand`) and its value. Refused: a rule other than
 * `safe` or `paper`; a wrong `kind`; a bad id; an id used twice (across providers and users
 * too); a price that is not a bigint in [0, MAX_PRICE]; a capacity or demand that is not a
 * bigint in [1, MAX_QUANTITY].
 */
export function validateDoubleAuctionInput(input: DoubleAuctionInput): void {
  if (!isRecord(input)) throw new InvalidInputError('input', input, 'a double-auction input');

  if (!WINNER_RULES.includes(input.rule)) {
    throw new InvalidInputError('rule', input.rule, `one of ${WINNER_RULES.join(', ')}`);
  }

  if (!Array.isArray(input.providers)) {
    throw new InvalidInputError('providers', input.providers, 'an array of provider asks');
  }
  if (!Array.isArray(input.users)) {
    throw new InvalidInputError('users', input.users, 'an array of user bids');
  }

  const seen = new Map<string, string>();
  const claimId = (field: string, id: unknown): void => {
    checkAgentId(field, id);
    const first = seen.get(id as string);
    if (first !== undefined) throw new InvalidInputError(field, id, `an id not used by ${first}`);
    seen.set(id as string, field.slice(0, field.lastIndexOf('.')));
  };

  for (let k = 0; k < input.providers.length; k++) {
    const p: unknown = input.providers[k]; // a hole in a sparse array reads as undefined
    const at = `providers[${k}]`;
    if (!isRecord(p)) throw new InvalidInputError(at, p, 'a provider ask');
    if (p.kind !== 'provider') throw new InvalidInputError(`${at}.kind`, p.kind, '"provider"');
    claimId(`${at}.id`, p.id);
    checkBigint(`${at}.ask`, p.ask, 0n, MAX_PRICE);
    checkBigint(`${at}.capacity`, p.capacity, 1n, MAX_QUANTITY);
  }

  for (let i = 0; i < input.users.length; i++) {
    const u: unknown = input.users[i];
    const at = `users[${i}]`;
    if (!isRecord(u)) throw new InvalidInputError(at, u, 'a user bid');
    if (u.kind !== 'user') throw new InvalidInputError(`${at}.kind`, u.kind, '"user"');
    claimId(`${at}.id`, u.id);
    checkBigint(`${at}.bid`, u.bid, 0n, MAX_PRICE);
    checkBigint(`${at}.demand`, u.demand, 1n, MAX_QUANTITY);
  }
}

/**
 * Parses a provider's ask from a plain object such as `{ id: 'p1', ask: 500000, capacity: 40 }`
 * (numbers, numeric strings or bigints; `kind: 'provider'` is optional). Throws
 * InvalidInputError naming `${field}.ask` etc. and the value for NaN, Infinity, non-integers,
 * non-numeric strings, negatives, zero capacity, values above the bounds and unknown keys.
 */
export function parseProviderAsk(raw: unknown, field: string): ProviderAsk {
  const r = checkRecord(raw, field, 'provider', ['id', 'ask', 'capacity']);

  return {
    kind: 'provider',
    id: checkAgentId(`${field}.id`, r.id),
    ask: toBoundedInteger(`${field}.ask`, r.ask, 0n, MAX_PRICE),
    capacity: toBoundedInteger(`${field}.capacity`, r.capacity, 1n, MAX_QUANTITY),
  };
}

/**
 * Parses a user's bid from a plain object such as `{ id: 'u1', bid: 750000, demand: 12 }`
 * (numbers, numeric strings or bigints; `kind: 'user'` is optional). Throws InvalidInputError
 * naming `${field}.demand` etc. and the value for NaN, Infinity, non-integers, non-numeric
 * strings, negatives, zero demand, values above the bounds and unknown keys.
 */
export function parseUserBid(raw: unknown, field: string): UserBid {
  const r = checkRecord(raw, field, 'user', ['id', 'bid', 'demand']);

  return {
    kind: 'user',
    id: checkAgentId(`${field}.id`, r.id),
    bid: toBoundedInteger(`${field}.bid`, r.bid, 0n, MAX_PRICE),
    demand: toBoundedInteger(`${field}.demand`, r.demand, 1n, MAX_QUANTITY),
  };
}

/** Checks that `raw` is a plain object with only `keys` (and an optional matching `kind`). */
function checkRecord(
  raw: unknown,
  field: string,
  kind: 'provider' | 'user',
  keys: readonly string[],
): Record<string, unknown> {
  if (!isRecord(raw) || Array.isArray(raw)) {
    throw new InvalidInputError(field, raw, `an object with ${keys.join(', ')}`);
  }

  for (const key of Object.keys(raw)) {
    if (key === 'kind' || keys.includes(key)) continue;
    throw new InvalidInputError(`${field}.${key}`, raw[key], `no such field (${keys.join(', ')})`);
  }
  if (raw.kind !== undefined && raw.kind !== kind) {
    throw new InvalidInputError(`${field}.kind`, raw.kind, `"${kind}"`);
  }
  return raw;
}

/** Requires a bigint in [min, max]; numbers are refused here (runStarPadding is exact). */
function checkBigint(field: string, value: unknown, min: bigint, max: bigint): void {
  if (typeof value !== 'bigint' || value < min || value > max) {
    throw new InvalidInputError(field, value, `a bigint in [${min}, ${max}]`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
