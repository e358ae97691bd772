/**
 * A standard-auction scenario derived from a double-auction one, typically a Freifunk map:
 * the same users with the same demand, each bidding its per-unit value times its demand for
 * being served whole by one gateway (any gateway: the mesh reaches all of them), and the
 * gateways' capacities drawn as in the paper's standard workload, (total demand / m) ×
 * U[0, 0.25], so that roughly a quarter of the users can win.
 */
import { Writer, utf8 } from '../core/bytes.js';
import { sha256 } from '../core/hash.js';
import type { StandardProvider, StandardUser } from '../mechanisms/standard/types.js';
import { Drbg } from '../protocol/drbg.js';
import type { DoubleScenario } from './scenario.js';
import type { StandardScenario } from './standard.js';

const DOMAIN = utf8('auctioneer/standard-from-map/v1');
const PPM = 1_000_000n;
const CAPACITY_FACTOR_MAX_PPM = 250_000n;

/** The standard-auction version of a double-auction scenario (one resource: bandwidth). */
export function standardFromDouble(s: DoubleScenario, seed: string): StandardScenario {
  const users: StandardUser[] = s.users.map((u) => ({
    id: u.id,
    demand: [u.demand],
    accepts: null,
    bid: u.bid * u.demand,
  }));

  // Capacities from the seed, independent of the double auction's own capacities.
  const total = s.users.reduce((t, u) => t + u.demand, 0n);
  const m = BigInt(s.providers.length);
  const rng = new Drbg(sha256(DOMAIN, new Writer().string(seed).finish()), 'capacity');
  const providers: StandardProvider[] = s.providers.map((p) => ({
    id: p.id,
    capacity: [(total * rng.intBetween(0n, CAPACITY_FACTOR_MAX_PPM)) / (m * PPM)],
  }));

  return {
    name: `${s.name}-standard`,
    source: `${s.source}, standard auction`,
    providers,
    users,
    notes: [
      ...s.notes,
      'standard auction: bid = per-unit value × demand; any gateway may serve a user',
      'gateway capacity = total demand / m × U[0, 0.25] (10^-6 grid, rounded down)',
    ],
  };
}
