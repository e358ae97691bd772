/**
 * PVCG-ε (mechanisms.md B.3): per-user multiplicative perturbation λ_i ∈ [1−ε, 1], one exact
 * welfare maximisation, one exact re-solve per winner for its Clarke pivot on perturbed
 * welfare, and in `midr` mode a lottery that serves winner i with probability λ_i.
 *
 * Exact arithmetic throughout: λ_i = (D − e_i)/D with D = 10^6 and e_i uniform in 0..ε_ppm,
 * so w_i = (D − e_i)·b_i, W*, W_-i and P_i are integers scaled by D, and the charge P_i/λ_i is
 * P_i·D/D / (D − e_i) micro-units, rounded down (never above the bid: P_i ≤ w_i).
 *
 * The mechanism is split as the paper's Algorithm 1: drawPerturbation + allocate (task 1),
 * paymentsFor one subset of winners (tasks 2.S, independent), finalize (task 3).
 */
import { InvalidInputError } from '../../core/errors.js';
import { MAX_QUANTITY, checkAgentId, compareIds, toBoundedInteger } from '../../core/units.js';
import { Drbg } from '../../protocol/drbg.js';
import { BNB_SOLVER, WdpInstance, type WdpProblem } from './solver.js';
import {
  LAMBDA_DENOMINATOR as D,
  MAX_EPSILON_PPM,
  type Allocation,
  type Perturbation,
  type StandardAuctionInput,
  type StandardAuctionOutcome,
  type StandardProvider,
  type StandardUser,
} from './types.js';

/** Largest bid of one user for its whole demand, in micro-units (10^15 = 10^9 currency). */
export const MAX_STANDARD_BID = 1_000_000_000_000_000n;

/** Draws λ and the lottery from the coin's seed, per user in id order (never from bids). */
export function drawPerturbation(
  seed: Uint8Array,
  users: readonly Pick<StandardUser, 'id'>[],
  epsilonPpm: number,
): Perturbation {
  const ids = users.map((u) => u.id).sort(compareIds);
  const lambda = new Drbg(seed, 'pvcg/lambda');
  const lottery = new Drbg(seed, 'pvcg/lottery');
  const lambdaNum = ids.map(() => D - lambda.uniformInt(BigInt(epsilonPpm) + 1n));
  return {
    epsilonPpm,
    users: ids,
    lambdaNum,
    lottery: lambdaNum.map((l) => lottery.bernoulli(l, D)),
  };
}

/** Task 1: the exact maximiser x* of perturbed welfare, with the solver's tie rule. */
export function allocate(input: StandardAuctionInput, p: Perturbation): Allocation {
  const { problem } = wdp(input, p);
  const solution = new WdpInstance(problem).solve();
  return {
    users: p.users,
    assignment: solution.assignment,
    welfare: solution.value,
    solver: BNB_SOLVER,
  };
}

/** Tasks 2.S: P_i = W_-i − (W* − w_i) for each winner id given, scaled by D. */
export function paymentsFor(
  input: StandardAuctionInput,
  p: Perturbation,
  allocation: Allocation,
  winnerIds: readonly string[],
): Map<string, bigint> {
  const { problem, index } = wdp(input, p);
  const instance = new WdpInstance(problem);
  const out = new Map<string, bigint>();
  for (const id of winnerIds) {
    const i = index.get(id);
    if (i === undefined || allocation.assignment[i] === null) {
      throw new InvalidInputError('winnerIds', id, 'a winner of the allocation');
    }
    const w = problem.weight[i]!;
    const without = instance.value(new Set([i]), allocation.assignment); // W_-i (B.3 step 4)
    out.set(id, without - (allocation.welfare - w)); // Clarke pivot on perturbed welfare
  }
  return out;
}

/** Task 3: the lottery (midr), charges P_i/λ_i rounded down, placements. */
export function finalize(
  input: StandardAuctionInput,
  p: Perturbation,
  allocation: Allocation,
  pivots: ReadonlyMap<string, bigint>,
): StandardAuctionOutcome {
  const bids = new Map(input.users.map((u) => [u.id, u.bid]));
  const winners: string[] = [];
  const placements: { user: string; provider: string }[] = [];
  const pivotList: { id: string; amount: bigint }[] = [];
  const charges: { id: string; amount: bigint }[] = [];
  let winnersBid = 0n;
  let servedBid = 0n;
  let revenue = 0n;

  p.users.forEach((id, i) => {
    const s = allocation.assignment[i];
    if (s === null || s === undefined) return;
    const pivot = pivots.get(id);
    if (pivot === undefined) throw new InvalidInputError('pivots', id, 'a pivot for every winner');
    winners.push(id);
    pivotList.push({ id, amount: pivot });
    winnersBid += bids.get(id)!;

    // B.3 step 5: served after the lottery (midr) or always (wvcg); charge ⌊P_i / λ_i⌋.
    if (input.mode === 'midr' && !p.lottery[i]) return;
    const charge = pivot / p.lambdaNum[i]!;
    placements.push({ user: id, provider: input.providers[s]!.id });
    charges.push({ id, amount: charge });
    servedBid += bids.get(id)!;
    revenue += charge;
  });

  return {
    mode: input.mode,
    epsilonPpm: input.epsilonPpm,
    solver: allocation.solver,
    winners,
    placements,
    pivots: pivotList,
    charges,
    perturbedWelfare: allocation.welfare,
    winnersBid,
    servedBid,
    revenue,
  };
}

/** The whole mechanism, centrally, with λ drawn from `seed`. */
export function runPvcg(input: StandardAuctionInput, seed: Uint8Array): StandardAuctionOutcome {
  validateStandardAuctionInput(input);
  return runPvcgWithPerturbation(input, drawPerturbation(seed, input.users, input.epsilonPpm));
}

/** The whole mechanism with a given perturbation (test vectors give λ explicitly). */
export function runPvcgWithPerturbation(
  input: StandardAuctionInput,
  p: Perturbation,
): StandardAuctionOutcome {
  const allocation = allocate(input, p);
  const winners = p.users.filter((_, i) => allocation.assignment[i] !== null);
  return finalize(input, p, allocation, paymentsFor(input, p, allocation, winners));
}

/** Splits winners into `groups` subsets round-robin in winner order (the same everywhere). */
export function planPaymentTasks(winners: readonly string[], groups: number): string[][] {
  if (!Number.isInteger(groups) || groups < 1) {
    throw new InvalidInputError('groups', groups, 'an integer ≥ 1');
  }
  const out: string[][] = Array.from({ length: groups }, () => []);
  winners.forEach((id, j) => out[j % groups]!.push(id));
  return out;
}

/** Refuses inputs the mechanism cannot run, naming the field and the value. */
export function validateStandardAuctionInput(input: StandardAuctionInput): void {
  const eps = input.epsilonPpm;
  if (!Number.isInteger(eps) || eps < 0 || eps > MAX_EPSILON_PPM) {
    throw new InvalidInputError('epsilonPpm', eps, `an integer in [0, ${MAX_EPSILON_PPM}]`);
  }
  if (input.mode !== 'midr' && input.mode !== 'wvcg') {
    throw new InvalidInputError('mode', input.mode, '"midr" or "wvcg"');
  }

  const R = input.providers[0]?.capacity.length ?? input.users[0]?.demand.length ?? 1;
  const ids = new Set<string>();
  input.providers.forEach((p, s) => {
    const at = `providers[${s}]`;
    claim(ids, `${at}.id`, p.id);
    checkVector(`${at}.capacity`, p.capacity, R, false);
  });
  const providerIds = new Set(input.providers.map((p) => p.id));
  input.users.forEach((u, i) => {
    const at = `users[${i}]`;
    claim(ids, `${at}.id`, u.id);
    checkVector(`${at}.demand`, u.demand, R, true);
    if (u.bid < 0n || u.bid > MAX_STANDARD_BID) {
      throw new InvalidInputError(`${at}.bid`, u.bid, `an integer in [0, ${MAX_STANDARD_BID}]`);
    }
    u.accepts?.forEach((id, j) => {
      if (!providerIds.has(id)) {
        throw new InvalidInputError(`${at}.accepts[${j}]`, id, 'the id of a provider');
      }
    });
  });
}

/** Parses a user's bid from plain JSON values, naming the field of anything wrong. */
export function parseStandardUser(raw: unknown, field: string, resources: number): StandardUser {
  const r = record(raw, field, ['id', 'bid', 'demand', 'accepts']);
  const demand = r.demand;
  if (!Array.isArray(demand) || demand.length !== resources) {
    throw new InvalidInputError(`${field}.demand`, demand, `a list of ${resources} quantities`);
  }
  const parsed = demand.map((d, k) =>
    toBoundedInteger(`${field}.demand[${k}]`, d, 0n, MAX_QUANTITY),
  );
  if (parsed.every((d) => d === 0n)) {
    throw new InvalidInputError(`${field}.demand`, demand, 'at least one quantity above 0');
  }
  let accepts: string[] | null = null;
  if (r.accepts !== undefined && r.accepts !== null) {
    if (!Array.isArray(r.accepts)) {
      throw new InvalidInputError(`${field}.accepts`, r.accepts, 'a list of provider ids');
    }
    accepts = r.accepts.map((a, k) => checkAgentId(`${field}.accepts[${k}]`, a));
  }
  return {
    id: checkAgentId(`${field}.id`, r.id),
    demand: parsed,
    accepts,
    bid: toBoundedInteger(`${field}.bid`, r.bid, 0n, MAX_STANDARD_BID),
  };
}

/** Parses a provider's capacity report from plain JSON values. */
export function parseStandardProvider(
  raw: unknown,
  field: string,
  resources: number,
): StandardProvider {
  const r = record(raw, field, ['id', 'capacity']);
  const cap = r.capacity;
  if (!Array.isArray(cap) || cap.length !== resources) {
    throw new InvalidInputError(`${field}.capacity`, cap, `a list of ${resources} quantities`);
  }
  return {
    id: checkAgentId(`${field}.id`, r.id),
    capacity: cap.map((c, k) => toBoundedInteger(`${field}.capacity[${k}]`, c, 0n, MAX_QUANTITY)),
  };
}

function wdp(
  input: StandardAuctionInput,
  p: Perturbation,
): { problem: WdpProblem; index: Map<string, number> } {
  const byId = new Map(input.users.map((u) => [u.id, u]));
  const providerIndex = new Map(input.providers.map((x, s) => [x.id, s]));
  const index = new Map(p.users.map((id, i) => [id, i]));
  const users = p.users.map((id) => byId.get(id)!);
  return {
    index,
    problem: {
      capacity: input.providers.map((x) => x.capacity),
      demand: users.map((u) => u.demand),
      accepts: users.map((u) =>
        u.accepts === null ? null : u.accepts.map((id) => providerIndex.get(id)!),
      ),
      weight: users.map((u, i) => p.lambdaNum[i]! * u.bid), // w_i = λ_i·b_i·D
    },
  };
}

function claim(ids: Set<string>, field: string, id: string): void {
  checkAgentId(field, id);
  if (ids.has(id)) throw new InvalidInputError(field, id, 'an id used once');
  ids.add(id);
}

function checkVector(field: string, v: readonly bigint[], R: number, positive: boolean): void {
  if (v.length !== R) throw new InvalidInputError(field, v, `${R} quantities`);
  v.forEach((q, k) => {
    if (q < 0n || q > MAX_QUANTITY) {
      throw new InvalidInputError(`${field}[${k}]`, q, `an integer in [0, ${MAX_QUANTITY}]`);
    }
  });
  if (positive && v.every((q) => q === 0n)) {
    throw new InvalidInputError(field, v, 'at least one quantity above 0');
  }
}

function record(raw: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidInputError(field, raw, `an object with ${keys.join(', ')}`);
  }
  for (const k of Object.keys(raw)) {
    if (!keys.includes(k)) throw new InvalidInputError(`${field}.${k}`, k, 'no such field');
  }
  return raw as Record<string, unknown>;
}
