/**
 * Inputs and outputs of the double auction (STAR-Padding, mechanisms.md Part A.4).
 * Quantities are bandwidth units and prices micro-units per unit (see core/units.ts).
 */

/** Which winner-selection rule STAR-Padding uses (mechanisms.md Decision 1). */
export type WinnerRule = 'safe' | 'paper';

/** A provider's reported ask: per-unit price s_k and capacity B_k. */
export interface ProviderAsk {
  readonly kind: 'provider';
  readonly id: string;
  /** s_k, micro-units per unit. */
  readonly ask: bigint;
  /** B_k, units. */
  readonly capacity: bigint;
}

/** A user's (tenant's) reported bid: per-unit price b_i and strict demand d_i. */
export interface UserBid {
  readonly kind: 'user';
  readonly id: string;
  /** b_i, micro-units per unit. */
  readonly bid: bigint;
  /** d_i, units; served in full or not at all. */
  readonly demand: bigint;
}

/** Any bidder of the double auction. */
export type DoubleBid = ProviderAsk | UserBid;

/** The input of one double-auction run. */
export interface DoubleAuctionInput {
  readonly providers: readonly ProviderAsk[];
  readonly users: readonly UserBid[];
  readonly rule: WinnerRule;
}

/** Units of one user served by one provider (a_ki > 0). */
export interface AllocationEntry {
  readonly provider: string;
  readonly user: string;
  readonly units: bigint;
}

/** An amount of money owed to or by one agent. */
export interface Transfer {
  readonly id: string;
  readonly amount: bigint;
}

/** The result of one double-auction run. Every list is in a canonical order. */
export interface DoubleAuctionOutcome {
  readonly rule: WinnerRule;
  /** Winning providers in ask order (L1), ties by id. */
  readonly winningProviders: readonly string[];
  /** Winning users in bid order (L2), ties by id. */
  readonly winningUsers: readonly string[];
  /** Water-filling allocation, in the order it was filled. */
  readonly allocation: readonly AllocationEntry[];
  /** Capacity of winning providers reserved for the auctioneer's padding tenant. */
  readonly padding: readonly Transfer[];
  /** p_k for every winning provider, in L1 order (losers receive 0 and are not listed). */
  readonly providerPayments: readonly Transfer[];
  /** q_i for every winning user, in L2 order (losers pay 0 and are not listed). */
  readonly userCharges: readonly Transfer[];
  /** s'_{t+1}, the first losing ask; null when nobody trades. */
  readonly clearingAsk: bigint | null;
  /** b'_{f+1}, the first losing bid; null when nobody trades. */
  readonly clearingBid: bigint | null;
  /** Φ = Σ q_i − Σ p_k ≥ 0. */
  readonly surplus: bigint;
  /** SW = Σ_i Σ_k (b_i − s_k)·a_ki on reported values; padding is not counted. */
  readonly welfare: bigint;
}
