/**
 * The distributed-auctioneer paper's double-auction workload (mechanisms.md Decision 6a), drawn
 * on the integer grid of random.ts: user demand U(0, 1], user bid U[0.75, 1.25] per unit,
 * provider ask (unit cost) U(0, 1], provider capacity = total demand / m × U[0.5, 1.5].
 *
 * Each quantity has its own stream (label `paper/<who>/<what>`) drawn in index order, so the
 * first n users of a scenario with N ≥ n users are the scenario with n users, and the providers'
 * asks do not depend on the number of users.
 */
import { InvalidInputError } from '../core/errors.js';
import type { ProviderAsk, UserBid } from '../mechanisms/double/types.js';
import {
  capacityFromFactor,
  checkCount,
  checkSeed,
  clampQuantity,
  drawAsk,
  drawBid,
  drawCapacityFactor,
  drawDemand,
  scenarioRng,
} from './random.js';
import type { DoubleScenario } from './scenario.js';

/** Largest number of users or providers the generator accepts. */
export const MAX_AGENTS = 1_000_000;

/** Options of paperDoubleWorkload. */
export interface PaperWorkloadOptions {
  /** Number of users n, an integer in [1, 10^6]. */
  readonly users: number;
  /** Number of providers m, an integer in [1, 10^6]. */
  readonly providers: number;
  /** The seed; the same seed always gives the same scenario. */
  readonly seed: string | number;
}

/** The id of user i among n: "u" and i zero-padded to at least 4 digits, so id order = i order. */
export function paperUserId(i: number, n: number): string {
  const width = Math.max(4, String(n - 1).length);

  return 'u' + String(i).padStart(width, '0');
}

/**
 * Generates the paper's double-auction workload: providers p0..p{m-1} and users u0000..,
 * deterministic in the seed. Throws InvalidInputError (field `users`, `providers` or `seed`)
 * on invalid options.
 */
export function paperDoubleWorkload(opts: PaperWorkloadOptions): DoubleScenario {
  if (typeof opts !== 'object' || opts === null) {
    throw new InvalidInputError('opts', opts, 'an object { users, providers, seed }');
  }

  const n = checkCount('users', opts.users, 1, MAX_AGENTS);
  const m = checkCount('providers', opts.providers, 1, MAX_AGENTS);
  const seed = checkSeed(opts.seed);

  const demandRng = scenarioRng(seed, 'paper/user/demand');
  const bidRng = scenarioRng(seed, 'paper/user/bid');
  const users: UserBid[] = [];
  let totalDemand = 0n;
  for (let i = 0; i < n; i++) {
    const demand = drawDemand(demandRng);
    totalDemand += demand;
    users.push({ kind: 'user', id: paperUserId(i, n), bid: drawBid(bidRng), demand });
  }

  const askRng = scenarioRng(seed, 'paper/provider/ask');
  const factorRng = scenarioRng(seed, 'paper/provider/capacity');
  const providers: ProviderAsk[] = [];
  let clamped = 0;
  for (let k = 0; k < m; k++) {
    const ask = drawAsk(askRng);
    const raw = capacityFromFactor(totalDemand, BigInt(m), drawCapacityFactor(factorRng));
    const capacity = clampQuantity(raw);
    if (capacity.clamped) clamped++;
    providers.push({ kind: 'provider', id: `p${k}`, ask, capacity: capacity.value });
  }

  const notes: string[] = [];
  if (clamped > 0) {
    notes.push(`${clamped} provider capacities lowered to MAX_QUANTITY (the rule gave more)`);
  }

  return {
    name: 'paper',
    source: `paper workload, seed ${String(seed)}, ${n} users, ${m} providers`,
    providers,
    users,
    notes,
  };
}
