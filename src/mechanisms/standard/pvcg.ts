/**
 * PVCG-ε, the standard auction (mechanisms.md Decision 2 and Part B.3), split into the
 * paper's task graph (Algorithm 1, §V-B2) so that the distributed framework can spread it:
 *
 *   drawPerturbation → allocate (task 1, run by all) → paymentsFor (task 2.S, one call per
 *   subset S of winners, independent, run by a group of providers) → finalize (task 3, all).
 *
 * `runPvcg` is the same composition run centrally. Everything that decides an outcome is an
 * integer: λ_i = (D − e_i)/D with D = 10^6, w_i = (D − e_i)·b_i, W*, W_-i and P_i scaled by D,
 * and the one division, charge_i = ⌊P_i / (D − e_i)⌋, rounded down (see {@link finalize}).
 *
 * @example
 *   const outcome = runPvcg(input, seed); // seed: 32 bytes from the common coin
 *   // or, distributed:
 *   const pert = drawPerturbation(seed, input.users, input.epsilonPpm);
 *   const alloc = allocate(input, pert);
 *   const tasks = planPaymentTasks(winnersOf(alloc), groups);
 *   const parts = tasks.map((S) => paymentsFor(input, pert, alloc, S)); // in parallel
 *   const outcome2 = finalize(input, pert, alloc, mergePayments(parts));
 */
import { InvalidInputError } from '../../core/errors.js';
import { compareIds } from '../../core/units.js';
import { Drbg } from '../../protocol/drbg.js';
import { BNB_SOLVER, ORACLE_SOLVER, WdpInstance, exactMaxOracle } from './solver.js';
import {
  LAMBDA_DENOMINATOR,
  type Allocation,
  type Perturbation,
  type StandardAmount,
  type StandardAuctionInput,
  type StandardAuctionOutcome,
  type StandardPlacement,
  type StandardUser,
} from './types.js';
import { epsilon, validateStandardAuctionInput } from './validate.js';
import type { WdpProblem } from './wdp.js';

export {
  MAX_STANDARD_BID,
  parseStandardProvider,
  parseStandardUser,
  validateStandardAuctionInput,
} from './validate.js';

/** Drbg label of the perturbation weights λ_i (one draw per user, id order). */
export const LAMBDA_LABEL = 'pvcg/lambda';

/** Drbg label of the MIDR lottery coins μ_i (one draw per user, id order). */
export const LOTTERY_LABEL = 'pvcg/lottery';

/** Which exact solver runs: the branch-and-bound (default) or the DP oracle (small inputs). */
export interface PvcgOptions {
  /** @default 'bnb' */
  readonly solver?: 'bnb' | 'oracle';
}

const D = LAMBDA_DENOMINATOR;

/**
 * Draws the perturbation from the common coin's seed, after the bids are fixed. For each user
 * in id order: e_i = uniformInt(ε_ppm + 1) from stream "pvcg/lambda", so λ_i = (D − e_i)/D is
 * uniform on the 10^-6 grid of [1 − ε, 1]; and the lottery bit [μ_i < λ_i] =
 * bernoulli(D − e_i, D) from stream "pvcg/lottery". Only ids are read, never bids, and every
 * user draws the same number of times whatever the allocation.
 *
 * @param seed the 32-byte seed
 * @throws InvalidInputError for a seed that is not 32 bytes, repeated ids, or a bad ε
 */
export function drawPerturbation(
  seed: Uint8Array,
  users: readonly Pick<StandardUser, 'id'>[],
  epsilonPpm: number,
): Perturbation {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new InvalidInputError('seed', seed, '32 bytes');
  }
  const eps = epsilon(epsilonPpm, 'epsilonPpm');
  const ids = canonicalIds(users);

  // One λ draw and one lottery draw per user, in id order.
  const lambdaRng = new Drbg(seed, LAMBDA_LABEL);
  const lotteryRng = new Drbg(seed, LOTTERY_LABEL);
  const lambdaNum: bigint[] = [];
  const lottery: boolean[] = [];
  for (let i = 0; i < ids.length; i++) {
    const num = D - lambdaRng.uniformInt(BigInt(eps) + 1n);
    lambdaNum.push(num);
    lottery.push(lotteryRng.bernoulli(num, D));
  }
  return { epsilonPpm: eps, users: ids, lambdaNum, lottery };
}

/**
 * Task 1: the exact maximiser x* of the perturbed welfare Σ w_i·[x_i ≠ none] and W*, with
 * the solver's canonical tie rule (solver.ts).
 *
 * @throws InvalidInputError for an invalid input or a perturbation that does not match it
 */
export function allocate(
  input: StandardAuctionInput,
  perturbation: Perturbation,
  options: PvcgOptions = {},
): Allocation {
  const p = prepare(input, perturbation);
  return allocateWith(p, new Solver(p, options));
}

/**
 * Task 2.S: the Clarke pivots P_i = W_-i − (W* − w_i) of the winners in `winnerIds`, scaled by
 * D, each from an exact re-solve with user i excluded and the same λ. Pure: each call depends
 * only on its arguments, so groups of providers can run the subsets in parallel.
 *
 * @returns P_i per winner id, in the order given
 * @throws InvalidInputError for an invalid input, perturbation or allocation, or an id that
 *   is not a winner of the allocation
 */
export function paymentsFor(
  input: StandardAuctionInput,
  perturbation: Perturbation,
  allocation: Allocation,
  winnerIds: readonly string[],
  options: PvcgOptions = {},
): Map<string, bigint> {
  const p = prepare(input, perturbation);
  checkAllocation(p, allocation);
  return paymentsWith(p, new Solver(p, options), allocation, winnerIds);
}

/**
 * Task 3: gathers the pivots of all winners and produces the outcome. In `midr` mode a winner
 * is served iff its lottery bit is set, in `wvcg` mode always. A served user pays
 *
 *   charge_i = ⌊P_i / (D − e_i)⌋ micro-units   (P_i / λ_i, rounded down),
 *
 * and since 0 ≤ P_i ≤ w_i = (D − e_i)·b_i, 0 ≤ charge_i ≤ b_i exactly. Rounding down favours
 * the user by less than one micro-unit, so E[charge_i] = λ_i·charge_i ≤ P_i / D; nobody else
 * pays anything.
 *
 * @param payments P_i for exactly the winners (the union of the task-2 results)
 * @throws InvalidInputError for a missing, extra or out-of-range pivot, or an invalid input,
 *   perturbation or allocation
 */
export function finalize(
  input: StandardAuctionInput,
  perturbation: Perturbation,
  allocation: Allocation,
  payments: ReadonlyMap<string, bigint>,
): StandardAuctionOutcome {
  const p = prepare(input, perturbation);
  checkAllocation(p, allocation);
  return finalizeWith(p, allocation, payments);
}

/**
 * The whole mechanism, centrally: perturbation from `seed`, task 1, the pivots of all winners,
 * task 3. Same result as the distributed composition for any split of the winners.
 *
 * @param seed the 32-byte common-coin seed
 * @throws InvalidInputError for an invalid input or seed
 */
export function runPvcg(
  input: StandardAuctionInput,
  seed: Uint8Array,
  options: PvcgOptions = {},
): StandardAuctionOutcome {
  const valid = validateStandardAuctionInput(input);
  const perturbation = drawPerturbation(seed, valid.users, valid.epsilonPpm);
  return runPvcgWithPerturbation(valid, perturbation, options);
}

/**
 * The mechanism with λ and the lottery given explicitly (spec vector B.4, deviation tests).
 *
 * @throws InvalidInputError for an invalid input or a perturbation that does not match it
 */
export function runPvcgWithPerturbation(
  input: StandardAuctionInput,
  perturbation: Perturbation,
  options: PvcgOptions = {},
): StandardAuctionOutcome {
  const p = prepare(input, perturbation);
  const solver = new Solver(p, options);
  const allocation = allocateWith(p, solver);
  const payments = paymentsWith(p, solver, allocation, winnersOf(allocation));
  return finalizeWith(p, allocation, payments);
}

/**
 * Splits the winners into at most `groups` subsets for task 2, round-robin in the given
 * order (winner j goes to subset j mod g, g = min(groups, #winners)): every provider computes
 * the same split, and subset sizes differ by at most one.
 *
 * @throws InvalidInputError when `groups` is not an integer ≥ 1
 */
export function planPaymentTasks(winners: readonly string[], groups: number): string[][] {
  if (!Number.isSafeInteger(groups) || groups < 1) {
    throw new InvalidInputError('groups', groups, 'an integer ≥ 1');
  }
  const g = Math.min(groups, winners.length);
  const out: string[][] = Array.from({ length: g }, () => []);
  winners.forEach((w, j) => out[j % g]!.push(w));
  return out;
}

/** The winners of an allocation (x*_i ≠ none), in id order. */
export function winnersOf(allocation: Allocation): string[] {
  return allocation.users.filter((_, i) => allocation.assignment[i] !== null);
}

/**
 * Merges task-2 results into one map.
 *
 * @throws InvalidInputError when two results disagree on a user's pivot
 */
export function mergePayments(parts: readonly ReadonlyMap<string, bigint>[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const part of parts) {
    for (const [id, amount] of part) {
      const seen = out.get(id);
      if (seen !== undefined && seen !== amount) {
        throw new InvalidInputError(
          `payments[${id}]`,
          amount,
          `the same pivot as before (${seen})`,
        );
      }
      out.set(id, amount);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Internals: the validated problem in id order, and the solver shared by tasks 1 and 2.

interface Prepared {
  readonly input: StandardAuctionInput;
  /** Users in id order, with λ numerators, lottery bits and w_i aligned. */
  readonly users: readonly StandardUser[];
  readonly ids: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly lambdaNum: readonly bigint[];
  readonly lottery: readonly boolean[];
  readonly w: readonly bigint[];
  readonly problem: WdpProblem;
}

function prepare(raw: StandardAuctionInput, perturbation: Perturbation): Prepared {
  const input = validateStandardAuctionInput(raw);
  const users = [...input.users].sort((a, b) => compareIds(a.id, b.id));
  const ids = users.map((u) => u.id);
  checkPerturbation(perturbation, ids, input.epsilonPpm);

  // The welfare problem: users in id order, providers in configured order, w_i = (D − e_i)·b_i.
  const providerIndex = new Map(input.providers.map((p, s) => [p.id, s]));
  const w = users.map((u, i) => perturbation.lambdaNum[i]! * u.bid);
  const problem: WdpProblem = {
    capacity: input.providers.map((p) => p.capacity),
    demand: users.map((u) => u.demand),
    accepts: users.map((u) => (u.accepts ? u.accepts.map((a) => providerIndex.get(a)!) : null)),
    weight: w,
  };
  return {
    input,
    users,
    ids,
    index: new Map(ids.map((id, i) => [id, i])),
    lambdaNum: perturbation.lambdaNum,
    lottery: perturbation.lottery,
    w,
    problem,
  };
}

function checkPerturbation(p: Perturbation, ids: readonly string[], eps: number): void {
  if (p.epsilonPpm !== eps) {
    throw new InvalidInputError('perturbation.epsilonPpm', p.epsilonPpm, `the input's ε (${eps})`);
  }
  const n = ids.length;
  if (p.users.length !== n || p.users.some((id, i) => id !== ids[i])) {
    throw new InvalidInputError('perturbation.users', p.users, 'the user ids in id order');
  }
  if (p.lambdaNum.length !== n || p.lottery.length !== n) {
    throw new InvalidInputError('perturbation', p.lambdaNum.length, `${n} λ and lottery entries`);
  }
  const lo = D - BigInt(eps);
  p.lambdaNum.forEach((x, i) => {
    if (typeof x !== 'bigint' || x < lo || x > D || x < 1n) {
      throw new InvalidInputError(`perturbation.lambdaNum[${i}]`, x, `an integer in [${lo}, ${D}]`);
    }
  });
  p.lottery.forEach((x, i) => {
    if (typeof x !== 'boolean')
      throw new InvalidInputError(`perturbation.lottery[${i}]`, x, 'a boolean');
  });
}

function checkAllocation(p: Prepared, a: Allocation): void {
  const { ids, problem } = p;
  if (a.users.length !== ids.length || a.users.some((id, i) => id !== ids[i])) {
    throw new InvalidInputError('allocation.users', a.users, 'the user ids in id order');
  }
  if (a.assignment.length !== ids.length) {
    throw new InvalidInputError(
      'allocation.assignment',
      a.assignment.length,
      `${ids.length} entries`,
    );
  }

  // Every placement accepted and within capacity; W* = Σ w over the winners.
  const m = problem.capacity.length;
  const left = problem.capacity.map((row) => row.slice());
  let welfare = 0n;
  a.assignment.forEach((s, i) => {
    if (s === null) return;
    const field = `allocation.assignment[${i}]`;
    const accepts = problem.accepts[i];
    if (!Number.isInteger(s) || s < 0 || s >= m || (accepts && !accepts.includes(s))) {
      throw new InvalidInputError(field, s, 'null or an accepted provider index');
    }
    problem.demand[i]!.forEach((d, r) => (left[s]![r]! -= d));
    welfare += p.w[i]!;
  });
  left.forEach((row, s) => {
    if (row.some((x) => x < 0n)) {
      throw new InvalidInputError(
        `allocation.assignment`,
        s,
        `placements within provider ${s}'s capacity`,
      );
    }
  });
  if (welfare !== a.welfare) {
    throw new InvalidInputError(
      'allocation.welfare',
      a.welfare,
      `Σ w over the winners (${welfare})`,
    );
  }
}

/** The exact solver of one prepared problem, shared by task 1 and the re-solves. */
class Solver {
  private readonly instance: WdpInstance | null;
  readonly name: string;

  constructor(
    private readonly p: Prepared,
    options: PvcgOptions,
  ) {
    const oracle = options.solver === 'oracle';
    this.instance = oracle ? null : new WdpInstance(p.problem);
    this.name = oracle ? ORACLE_SOLVER : BNB_SOLVER;
  }

  solve(): { value: bigint; assignment: readonly (number | null)[] } {
    return this.instance ? this.instance.solve() : exactMaxOracle(this.p.problem);
  }

  /** W_-i. */
  without(i: number, hint: readonly (number | null)[]): bigint {
    const excluded = new Set([i]);
    if (this.instance) return this.instance.value(excluded, hint);
    return exactMaxOracle(this.p.problem, excluded).value;
  }
}

function allocateWith(p: Prepared, solver: Solver): Allocation {
  const { value, assignment } = solver.solve();
  return { users: p.ids, assignment, welfare: value, solver: solver.name };
}

function paymentsWith(
  p: Prepared,
  solver: Solver,
  a: Allocation,
  winnerIds: readonly string[],
): Map<string, bigint> {
  const out = new Map<string, bigint>();
  winnerIds.forEach((id, j) => {
    const i = p.index.get(id);
    if (i === undefined || a.assignment[i] === null) {
      throw new InvalidInputError(`winnerIds[${j}]`, id, 'a winner of the allocation');
    }

    // P_i = W_-i − (W* − w_i): 0 ≤ P_i ≤ w_i since x* without i is feasible and W_-i ≤ W*.
    const Wi = solver.without(i, a.assignment);
    const P = Wi - (a.welfare - p.w[i]!);
    if (P < 0n || P > p.w[i]!) throw new Error(`PVCG: pivot of ${id} out of range (bug)`);
    out.set(id, P);
  });
  return out;
}

function finalizeWith(
  p: Prepared,
  a: Allocation,
  payments: ReadonlyMap<string, bigint>,
): StandardAuctionOutcome {
  const { input } = p;
  for (const [id, amount] of payments) {
    const i = p.index.get(id);
    if (i === undefined || a.assignment[i] === null) {
      throw new InvalidInputError(`payments[${id}]`, amount, 'no entry (not a winner)');
    }
  }

  // Winners in id order: lottery (midr), pivot, charge ⌊P_i / (D − e_i)⌋.
  const winners: string[] = [];
  const placements: StandardPlacement[] = [];
  const pivots: StandardAmount[] = [];
  const charges: StandardAmount[] = [];
  let winnersBid = 0n;
  let servedBid = 0n;
  let revenue = 0n;
  p.ids.forEach((id, i) => {
    const s = a.assignment[i];
    if (s === null || s === undefined) return;
    const P = payments.get(id);
    if (typeof P !== 'bigint' || P < 0n || P > p.w[i]!) {
      throw new InvalidInputError(`payments[${id}]`, P, `an integer in [0, ${p.w[i]}]`);
    }
    winners.push(id);
    pivots.push({ id, amount: P });
    winnersBid += p.users[i]!.bid;
    if (input.mode === 'midr' && !p.lottery[i]) return;

    const charge = P / p.lambdaNum[i]!;
    placements.push({ user: id, provider: input.providers[s]!.id });
    charges.push({ id, amount: charge });
    servedBid += p.users[i]!.bid;
    revenue += charge;
  });

  return {
    mode: input.mode,
    epsilonPpm: input.epsilonPpm,
    solver: a.solver,
    winners,
    placements,
    pivots,
    charges,
    perturbedWelfare: a.welfare,
    winnersBid,
    servedBid,
    revenue,
  };
}

function canonicalIds(users: readonly Pick<StandardUser, 'id'>[]): string[] {
  const ids = users.map((u) => u.id).sort(compareIds);
  ids.forEach((id, i) => {
    if (i > 0 && ids[i - 1] === id) throw new InvalidInputError('users', id, 'distinct user ids');
  });
  return ids;
}
