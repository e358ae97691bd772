/**
 * A scenario is the full set of reports for one double-auction round: every provider's ask
 * and capacity and every user's bid and demand, with where they came from. Scenarios are
 * generated from a seed (the paper's workload) or imported from a real network map.
 */
import type { ProviderAsk, UserBid } from '../mechanisms/double/types.js';

/** One double-auction round's reports, ready to be submitted. */
export interface DoubleScenario {
  /** Short name for reports, e.g. "paper" or "bremen". */
  readonly name: string;
  /** Where the agents came from: "paper workload, seed 1" or a file path. */
  readonly source: string;
  /** Providers, in the order they are configured (index 0..m-1). */
  readonly providers: readonly ProviderAsk[];
  /** Users, in id order. */
  readonly users: readonly UserBid[];
  /** Observations worth telling the user: oddities skipped, defaults applied. */
  readonly notes: readonly string[];
}
