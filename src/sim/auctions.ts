/**
 * The auctions a simulation can run, behind one face: the double auction (STAR-Padding, rule
 * safe) and the standard auction (PVCG-ε, its payments as a task graph over provider groups),
 * each with the paper's workload for the run and the bid edits the deviation strategies need
 * (another valid bid of a user, a fake user, another own report of a provider).
 */
import { utf8 } from '../core/bytes.js';
import { sha256 } from '../core/hash.js';
import { compareIds } from '../core/units.js';
import { decodeDoubleBid, encodeDoubleBid } from '../mechanisms/double/codec.js';
import { doubleAuctionMechanism } from '../mechanisms/double/mechanism.js';
import type { AuctionMechanism, BidReport } from '../mechanisms/mechanism.js';
import {
  decodeStandardBid,
  encodeStandardBid,
  encodeStandardProvider,
} from '../mechanisms/standard/codec.js';
import { standardAuctionMechanism } from '../mechanisms/standard/mechanism.js';
import { DEFAULT_EPSILON_PPM } from '../mechanisms/standard/types.js';
import type { Drbg } from '../protocol/drbg.js';
import { paperDoubleWorkload } from '../scenarios/paper.js';
import { paperStandardWorkload } from '../scenarios/standard.js';

/** The auctions the simulator runs. */
export const AUCTION_KINDS = ['double', 'standard'] as const;

/** One of AUCTION_KINDS. */
export type AuctionKind = (typeof AUCTION_KINDS)[number];

/** A user of a run: its bid, and the other bid it sends when it is the inconsistent user. */
export interface SimUser {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly alternative: Uint8Array;
}

/** The agents of one run as canonical bid bytes, and the edits strategies make to bids. */
export interface SimScenario {
  readonly kind: AuctionKind;
  readonly mechanism: AuctionMechanism;
  /** Provider ids p0..p{m−1}. */
  readonly providerIds: readonly string[];
  /** Provider i's own bid: its ask (double) or its capacity report (standard). */
  readonly providerBids: readonly Uint8Array[];
  readonly users: readonly SimUser[];
  /** Another valid bid of the same user, with its price or its quantity changed. */
  alterUser(rng: Drbg, bytes: Uint8Array, what: 'price' | 'quantity'): Uint8Array;
  /** A valid bid of a user no provider heard of. */
  fakeUser(rng: Drbg, id: string): Uint8Array;
  /** Another valid own bid of provider i. */
  otherOwnBid(rng: Drbg, i: number): Uint8Array;
  /** Every true bid (providers' and users' first ones), in bidder-id order. */
  trueBids(): BidReport[];
}

const DOUBLE = doubleAuctionMechanism('safe');
const STANDARD = standardAuctionMechanism({
  epsilonPpm: DEFAULT_EPSILON_PPM,
  mode: 'midr',
  resources: 1,
});

/** The mechanism a simulation of `kind` runs. */
export function simMechanism(kind: AuctionKind): AuctionMechanism {
  return kind === 'double' ? DOUBLE : STANDARD;
}

/** The paper workload of one run for `kind`, with `users` users and `providers` providers. */
export function simScenario(
  kind: AuctionKind,
  users: number,
  providers: number,
  seed: string,
): SimScenario {
  return kind === 'double'
    ? doubleScenario(users, providers, seed)
    : standardScenario(users, providers, seed);
}

function doubleScenario(n: number, m: number, seed: string): SimScenario {
  const s = paperDoubleWorkload({ users: n, providers: m, seed });
  const base = {
    kind: 'double' as const,
    mechanism: DOUBLE,
    providerIds: s.providers.map((p) => p.id),
    providerBids: s.providers.map((p) => encodeDoubleBid(p)),
    users: s.users.map((u) => ({
      id: u.id,
      bytes: encodeDoubleBid(u),
      alternative: encodeDoubleBid({ ...u, bid: u.bid + 7919n }),
    })),
  };
  return {
    ...base,
    alterUser(rng, bytes, what) {
      const u = decodeDoubleBid(bytes);
      if (u.kind !== 'user') return bytes;
      return encodeDoubleBid(
        what === 'price'
          ? { ...u, bid: rng.intBetween(0n, 2_000_000n) }
          : { ...u, demand: rng.intBetween(1n, 2000n) },
      );
    },
    fakeUser: (rng, id) =>
      encodeDoubleBid({ kind: 'user', id, bid: rng.intBetween(0n, 2_000_000n), demand: 9n }),
    otherOwnBid(rng, i) {
      const own = s.providers[i]!;
      return encodeDoubleBid({ ...own, ask: own.ask + 1n + rng.intBetween(0n, 500_000n) });
    },
    trueBids: () => sortedBids(base.providerIds, base.providerBids, base.users),
  };
}

function standardScenario(n: number, m: number, seed: string): SimScenario {
  const s = paperStandardWorkload({ users: n, providers: m, seed: sha256(utf8(seed)) });
  const base = {
    kind: 'standard' as const,
    mechanism: STANDARD,
    providerIds: s.providers.map((p) => p.id),
    providerBids: s.providers.map((p) => encodeStandardProvider(p)),
    users: s.users.map((u) => ({
      id: u.id,
      bytes: encodeStandardBid(u),
      alternative: encodeStandardBid({ ...u, bid: u.bid + 7919n }),
    })),
  };
  return {
    ...base,
    alterUser(rng, bytes, what) {
      const r = decodeStandardBid(bytes);
      if (r.kind !== 'user') return bytes;
      const u = r.user;
      return encodeStandardBid(
        what === 'price'
          ? { ...u, bid: rng.intBetween(0n, 2_000_000_000n) }
          : { ...u, demand: u.demand.map(() => rng.intBetween(1n, 1000n)) },
      );
    },
    fakeUser: (rng, id) =>
      encodeStandardBid({ id, demand: [9n], accepts: null, bid: rng.intBetween(0n, 2_000_000n) }),
    otherOwnBid(rng, i) {
      const own = s.providers[i]!;
      const capacity = own.capacity.map((c) => c + 1n + rng.intBetween(0n, 500n));
      return encodeStandardProvider({ ...own, capacity });
    },
    trueBids: () => sortedBids(base.providerIds, base.providerBids, base.users),
  };
}

function sortedBids(
  providerIds: readonly string[],
  providerBids: readonly Uint8Array[],
  users: readonly SimUser[],
): BidReport[] {
  return [
    ...providerIds.map((bidder, i) => ({ bidder, bytes: providerBids[i]! })),
    ...users.map((u) => ({ bidder: u.id, bytes: u.bytes })),
  ].sort((a, b) => compareIds(a.bidder, b.bidder));
}
