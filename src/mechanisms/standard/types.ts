/**
 * Inputs and outputs of the standard auction PVCG-ε (mechanisms.md Decision 2, Part B.3).
 *
 * Units: quantities are integer resource units (bandwidth in kbit/s when R = 1), bids and
 * charges integer micro-units (core/units.ts). Perturbed quantities (w_i, W*, W_-i, P_i) are
 * integers scaled by {@link LAMBDA_DENOMINATOR}: w_i = λ_i·b_i·D = (D − e_i)·b_i.
 */

/** D = 10^6: every λ_i is (D − e_i)/D, a multiple of 10^-6 in [1 − ε, 1]. */
export const LAMBDA_DENOMINATOR = 1_000_000n;

/** Default ε, in parts per million: 100_000 = 0.1. */
export const DEFAULT_EPSILON_PPM = 100_000;

/** Largest accepted ε in ppm; keeps λ_i ≥ 10^-6 > 0 so that P_i / λ_i is defined. */
export const MAX_EPSILON_PPM = 999_999;

/**
 * `midr` (default): winners are served after a lottery with probability λ_i, truthful in
 * expectation. `wvcg`: every winner is served, weighted VCG, universally truthful.
 */
export type StandardMode = 'midr' | 'wvcg';

/** A provider ("data center") with a capacity vector over the R resource types. */
export interface StandardProvider {
  readonly id: string;
  /** C[s][r], integer units ≥ 0, one entry per resource type. */
  readonly capacity: readonly bigint[];
}

/** A single-minded user: one demand vector, the providers it accepts, one bid. */
export interface StandardUser {
  readonly id: string;
  /** d_i[r], integer units ≥ 0, not all zero; served in full by one provider or not at all. */
  readonly demand: readonly bigint[];
  /** A_i as provider ids; null means every provider. */
  readonly accepts: readonly string[] | null;
  /** b_i, micro-units, for being served (the whole demand vector). */
  readonly bid: bigint;
}

/** The input of one standard-auction run (the agreed bid vector and the parameters). */
export interface StandardAuctionInput {
  /** Providers in configured order; their index is the provider index of the tie rule. */
  readonly providers: readonly StandardProvider[];
  /** Users in any order; the mechanism works in id order. */
  readonly users: readonly StandardUser[];
  /** ε in parts per million, 0..MAX_EPSILON_PPM. */
  readonly epsilonPpm: number;
  readonly mode: StandardMode;
}

/**
 * The random part of one run, drawn from the common coin after the bids are fixed: per user,
 * in id order, λ_i = lambdaNum_i / D and the lottery bit [μ_i < λ_i].
 */
export interface Perturbation {
  readonly epsilonPpm: number;
  /** User ids in canonical (id) order; the arrays below are aligned with it. */
  readonly users: readonly string[];
  /** D − e_i, with e_i uniform in 0..ε_ppm. */
  readonly lambdaNum: readonly bigint[];
  /** The MIDR lottery: true iff μ_i < λ_i (drawn as bernoulli(D − e_i, D)). */
  readonly lottery: readonly boolean[];
}

/** Task 1's result: the exact perturbed-welfare maximiser x* and W*. */
export interface Allocation {
  /** User ids in id order, aligned with `assignment`. */
  readonly users: readonly string[];
  /** x*_i: provider index, or null for none. */
  readonly assignment: readonly (number | null)[];
  /** W* = Σ w_i over winners, scaled by D (D·micro-units). */
  readonly welfare: bigint;
  /** The solver that computed it (recorded in the outcome). */
  readonly solver: string;
}

/** A served user and the provider (by id) that serves it. */
export interface StandardPlacement {
  readonly user: string;
  readonly provider: string;
}

/** An amount attached to one agent id. */
export interface StandardAmount {
  readonly id: string;
  readonly amount: bigint;
}

/** The result of one run. Every list is in user-id order. */
export interface StandardAuctionOutcome {
  readonly mode: StandardMode;
  readonly epsilonPpm: number;
  /** The exact solver that ran (solver.ts BNB_SOLVER or ORACLE_SOLVER). */
  readonly solver: string;
  /** Users with x*_i ≠ none, before the lottery. */
  readonly winners: readonly string[];
  /** Served users only: winners (midr: that won the lottery). */
  readonly placements: readonly StandardPlacement[];
  /** P_i = W_-i − (W* − w_i) for every winner, scaled by D. */
  readonly pivots: readonly StandardAmount[];
  /** charge_i = ⌊P_i / (D − e_i)⌋ micro-units, for every served user (possibly 0). */
  readonly charges: readonly StandardAmount[];
  /** W*, the perturbed welfare, scaled by D; W* / D is the MIDR expected welfare Σ λ_i·b_i. */
  readonly perturbedWelfare: bigint;
  /** Σ b_i over winners, micro-units (the reported welfare of x*). */
  readonly winnersBid: bigint;
  /** Σ b_i over served users, micro-units (the realised reported welfare). */
  readonly servedBid: bigint;
  /** Σ charges, micro-units. */
  readonly revenue: bigint;
}
