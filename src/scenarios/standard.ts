/**
 * The distributed auctioneer paper's standard-auction workload (mechanisms.md Decision 6a;
 * paper §VI-C), generated deterministically from a seed:
 *
 * - user demand U(0, 1] on the integer grid 1..1000 units (per resource type);
 * - user bid U[0.75, 1.25] per unit × demand: a rate drawn uniformly from 750_000..1_250_000
 *   micro-units per unit, times the user's total demand;
 * - provider capacity = (total demand / m) × U[0, 0.25], the factor drawn on a 10^-6 grid and
 *   the product rounded down, so that roughly no more than a quarter of the users can win.
 *
 * Randomness comes only from Drbg streams keyed by sha256("auctioneer/standard-scenario/v1" ‖
 * seed), one stream per quantity, so the draws of one kind do not shift when another changes.
 */
import { Writer, utf8 } from '../core/bytes.js';
import { InvalidInputError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { Drbg } from '../protocol/drbg.js';
import type { StandardProvider, StandardUser } from '../mechanisms/standard/types.js';

/** One standard-auction round's reports, ready to be run. */
export interface StandardScenario {
  /** Short name for reports. */
  readonly name: string;
  /** Where the agents came from, e.g. "paper standard workload, n=125, m=8, seed 1". */
  readonly source: string;
  /** Providers p0..p{m−1}, in configured order. */
  readonly providers: readonly StandardProvider[];
  /** Users u0000.., in id order. */
  readonly users: readonly StandardUser[];
  /** Observations worth telling the user. */
  readonly notes: readonly string[];
}

/** Options of {@link paperStandardWorkload}. */
export interface PaperStandardWorkloadOptions {
  /** n ≥ 1, number of users. */
  readonly users: number;
  /** m ≥ 1, number of providers (8 in the paper). */
  readonly providers: number;
  /** The seed: an integer (encoded as u64 big-endian) or raw bytes. */
  readonly seed: number | bigint | Uint8Array;
  /**
   * R, number of resource types. The paper has 1 (bandwidth); R > 1 is our extension, each
   * type drawn independently the same way and the bid rate applied to the summed demand.
   * @default 1
   */
  readonly resources?: number;
}

const DOMAIN = utf8('auctioneer/standard-scenario/v1');
const MAX_DEMAND = 1000n;
const RATE_LO = 750_000n;
const RATE_HI = 1_250_000n;
const PPM = 1_000_000n;
const CAPACITY_FACTOR_MAX_PPM = 250_000n;

/**
 * Generates the paper's standard workload.
 *
 * @throws InvalidInputError for a non-positive or non-integer count, or a bad seed
 */
export function paperStandardWorkload(options: PaperStandardWorkloadOptions): StandardScenario {
  const n = count('users', options.users, 1_000_000);
  const m = count('providers', options.providers, 65_535);
  const R = count('resources', options.resources ?? 1, 64);
  const seed = sha256(DOMAIN, seedBytes(options.seed));

  // Demands and bids, one stream each, users in id order.
  const demandRng = new Drbg(seed, 'standard-scenario/demand');
  const rateRng = new Drbg(seed, 'standard-scenario/rate');
  const width = Math.max(4, String(n - 1).length);
  const users: StandardUser[] = [];
  const total = new Array<bigint>(R).fill(0n);
  for (let i = 0; i < n; i++) {
    const demand = Array.from({ length: R }, () => demandRng.intBetween(1n, MAX_DEMAND));
    const rate = rateRng.intBetween(RATE_LO, RATE_HI);
    const sum = demand.reduce((a, b) => a + b, 0n);
    demand.forEach((d, r) => (total[r]! += d));
    users.push({
      id: `u${String(i).padStart(width, '0')}`,
      demand,
      accepts: null,
      bid: rate * sum,
    });
  }

  // Capacities: (total demand / m) × U[0, 0.25], rounded down.
  const capRng = new Drbg(seed, 'standard-scenario/capacity');
  const providers: StandardProvider[] = [];
  for (let s = 0; s < m; s++) {
    const capacity = total.map((t) => {
      const f = capRng.intBetween(0n, CAPACITY_FACTOR_MAX_PPM);
      return (t * f) / (BigInt(m) * PPM);
    });
    providers.push({ id: `p${s}`, capacity });
  }

  const label = seedLabel(options.seed);
  return {
    name: 'paper-standard',
    source: `paper standard workload, n=${n}, m=${m}, R=${R}, seed ${label}`,
    providers,
    users,
    notes: [
      'demand U(0,1] on the grid 1..1000 units; bid U[0.75,1.25] per unit × demand (micro-units)',
      'capacity = total demand / m × U[0, 0.25] (10^-6 grid, rounded down)',
    ],
  };
}

function count(field: string, value: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new InvalidInputError(field, value, `an integer in [1, ${max}]`);
  }
  return value;
}

function seedBytes(seed: number | bigint | Uint8Array): Uint8Array {
  if (seed instanceof Uint8Array) return seed;
  const v = typeof seed === 'number' && Number.isSafeInteger(seed) ? BigInt(seed) : seed;
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) {
    throw new InvalidInputError('seed', seed, 'an integer in [0, 2^64) or bytes');
  }
  return new Writer(8).u64(v).finish();
}

function seedLabel(seed: number | bigint | Uint8Array): string {
  if (!(seed instanceof Uint8Array)) return String(seed);
  return Buffer.from(seed).toString('hex');
}
