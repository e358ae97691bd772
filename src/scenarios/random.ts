/**
 * Seeded, exact randomness for scenario generators, and the integer grid on which the paper's
 * continuous distributions (mechanisms.md Decision 6a) are drawn.
 *
 * The grid (one paper unit of bandwidth = 1 Mbit/s = 1000 units; one paper unit of money per
 * unit of bandwidth = 1 currency unit per unit = 1_000_000 micro-units per unit):
 *
 * | paper draw              | integer range                  | meaning                          |
 * | ----------------------- | ------------------------------ | -------------------------------- |
 * | demand U(0, 1]          | [1, 1000] units                | 1 kbit/s .. 1 Mbit/s             |
 * | user bid U[0.75, 1.25]  | [750_000, 1_250_000] µ/unit    | 750 .. 1250 currency per Mbit/s  |
 * | provider ask U(0, 1]    | [1, 1_000_000] µ/unit          | 0.001 .. 1000 currency per Mbit/s|
 * | capacity factor U[0.5,1.5] | [500_000, 1_500_000] / 10^6 | multiplies total demand / m      |
 *
 * Prices are micro-units (µ) per unit (1 kbit/s), so a price p is p × 1000 µ = p / 1000
 * currency units per Mbit/s. The money grid has 10^6 steps per paper unit so that ties between
 * prices stay as rare as in the paper's continuous model; every price is ≤ 1_250_000 µ/unit,
 * far inside MAX_PRICE, and price × quantity ≤ 1.25·10^6 × 10^9 < 2^63.
 *
 * Capacities are floor(totalDemand × factor / (m × 10^6)), raised to 1 and lowered to
 * MAX_QUANTITY, so they are integers in [1, MAX_QUANTITY].
 */
import { utf8 } from '../core/bytes.js';
import { InvalidInputError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { MAX_QUANTITY } from '../core/units.js';
import { Drbg } from '../protocol/drbg.js';

/** Domain separator of the scenario seed derivation. */
export const SCENARIO_DOMAIN = 'auctioneer/scenario/v1';

/** Bandwidth units (1 kbit/s each) in one paper unit of bandwidth (1 Mbit/s). */
export const UNITS_PER_MBIT = 1000n;

/** Micro-units per unit that stand for a paper price of 1.0. */
export const PRICE_SCALE = 1_000_000n;

/** An inclusive integer range [lo, hi]. */
export interface IntRange {
  readonly lo: bigint;
  readonly hi: bigint;
}

/** Demand U(0, 1] Mbit/s as units: [1, 1000]. */
export const DEMAND_RANGE: IntRange = { lo: 1n, hi: UNITS_PER_MBIT };

/** User bid U[0.75, 1.25] as micro-units per unit: [750_000, 1_250_000]. */
export const BID_RANGE: IntRange = { lo: (PRICE_SCALE * 3n) / 4n, hi: (PRICE_SCALE * 5n) / 4n };

/** Provider ask (unit cost) U(0, 1] as micro-units per unit: [1, 1_000_000]. */
export const ASK_RANGE: IntRange = { lo: 1n, hi: PRICE_SCALE };

/** Denominator of the capacity factor: a factor f stands for f / 10^6. */
export const FACTOR_SCALE = 1_000_000n;

/** Capacity factor U[0.5, 1.5] as a numerator over FACTOR_SCALE: [500_000, 1_500_000]. */
export const CAPACITY_FACTOR_RANGE: IntRange = {
  lo: FACTOR_SCALE / 2n,
  hi: (FACTOR_SCALE * 3n) / 2n,
};

/** Longest accepted string seed, in characters. */
const MAX_SEED_LENGTH = 1024;

/**
 * Checks a scenario seed: a safe integer or a string of 1–1024 characters. The number 7 and
 * the string "7" are the same seed (the derivation uses String(seed)).
 */
export function checkSeed(seed: unknown): string | number {
  if (typeof seed === 'number' && Number.isSafeInteger(seed)) return seed;

  if (typeof seed === 'string' && seed.length >= 1 && seed.length <= MAX_SEED_LENGTH) return seed;

  throw new InvalidInputError('seed', seed, 'a safe integer or a string of 1–1024 characters');
}

/**
 * The random stream of one scenario purpose: a Drbg keyed with
 * sha256(utf8("auctioneer/scenario/v1") ‖ utf8(String(seed))) and labelled `label`, so that
 * streams with different labels are independent and each is reproducible from the seed alone.
 */
export function scenarioRng(seed: string | number, label: string): Drbg {
  const key = sha256(utf8(SCENARIO_DOMAIN), utf8(String(checkSeed(seed))));

  return new Drbg(key, label);
}

/** A uniform integer in the inclusive range, exact (rejection sampling, no modulo bias). */
export function uniformIn(rng: Drbg, range: IntRange): bigint {
  return rng.intBetween(range.lo, range.hi);
}

/** A demand drawn from U(0, 1] Mbit/s on the grid: [1, 1000] units. */
export function drawDemand(rng: Drbg): bigint {
  return uniformIn(rng, DEMAND_RANGE);
}

/** A per-unit bid drawn from U[0.75, 1.25] on the grid: [750_000, 1_250_000] µ/unit. */
export function drawBid(rng: Drbg): bigint {
  return uniformIn(rng, BID_RANGE);
}

/** A per-unit ask drawn from U(0, 1] on the grid: [1, 1_000_000] µ/unit. */
export function drawAsk(rng: Drbg): bigint {
  return uniformIn(rng, ASK_RANGE);
}

/** A capacity factor drawn from U[0.5, 1.5], as a numerator over FACTOR_SCALE. */
export function drawCapacityFactor(rng: Drbg): bigint {
  return uniformIn(rng, CAPACITY_FACTOR_RANGE);
}

/**
 * The capacity rule: floor(totalDemand × factor / (providers × FACTOR_SCALE)), at least 1.
 * The result is not capped; use clampQuantity before putting it into a scenario.
 */
export function capacityFromFactor(totalDemand: bigint, providers: bigint, factor: bigint): bigint {
  if (providers < 1n) throw new RangeError(`capacityFromFactor: providers must be ≥ 1`);

  const c = (totalDemand * factor) / (providers * FACTOR_SCALE);

  return c < 1n ? 1n : c;
}

/** Lowers a quantity to MAX_QUANTITY; reports whether it had to. */
export function clampQuantity(q: bigint): { value: bigint; clamped: boolean } {
  return q > MAX_QUANTITY ? { value: MAX_QUANTITY, clamped: true } : { value: q, clamped: false };
}

/**
 * Checks a count option (users, providers, truncation size): a safe integer in [min, max].
 * Throws InvalidInputError naming `field`.
 */
export function checkCount(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidInputError(field, value, `an integer in [${min}, ${max}]`);
  }

  return value;
}
