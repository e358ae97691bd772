/**
 * Signed user bids (#6). A user is an Ed25519 key and its id is that key in base64url; it signs
 *
 *   "DA/user-bid/v1" ‖ string(cluster id) ‖ u64(round) ‖ bytes(canonical bid)
 *
 * and the signed bid — u8 version ‖ bytes(bid) ‖ 64-byte signature — is what a provider puts in
 * its bid vector, so every provider checks every user's signature before the majority decides
 * (screenSignedBids) and no provider can invent a user's bid. A user's two different signed
 * bids for one round, found in the revealed vectors, leave the user out (docs/decisions.md D13).
 */
import { Reader, Writer, toHex, utf8 } from '../core/bytes.js';
import { InvalidMessageError } from '../core/errors.js';
import type { AuctionMechanism, BidReport, TaskPlan } from '../mechanisms/mechanism.js';
import type { Cluster } from '../node/cluster.js';
import type { BidScreen } from '../protocol/fast-round.js';
import {
  Verifier,
  formatPublicKey,
  signBytes,
  type SigningIdentity,
} from '../protocol/identity.js';

const USER_BID_DOMAIN = utf8('DA/user-bid/v1');
const PARAMS_TAG = 'DA/signed-user-bids/v1';

/** Version byte that opens every signed bid. */
export const SIGNED_BID_VERSION = 1;

/** Length of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;

/** The bytes a user signs for a bid in one round of one cluster. */
export function userBidMessage(clusterId: string, round: bigint, bid: Uint8Array): Uint8Array {
  return new Writer(64 + bid.length)
    .raw(USER_BID_DOMAIN)
    .string(clusterId)
    .u64(round)
    .bytes(bid)
    .finish()
    .slice();
}

/** A user's id: its Ed25519 public key in base64url (43 characters). */
export function userIdOf(identity: SigningIdentity): string {
  return formatPublicKey(identity.publicKey);
}

/** The public key a user id stands for, or null when the id is not a base64url key. */
export function userKey(id: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
  const key = new Uint8Array(Buffer.from(id, 'base64url'));
  return key.length === 32 && formatPublicKey(key) === id ? key : null;
}

/** Signs a canonical bid for a round; returns the 64-byte signature. */
export function signUserBid(
  identity: SigningIdentity,
  clusterId: string,
  round: bigint,
  bid: Uint8Array,
): Uint8Array {
  return signBytes(identity, userBidMessage(clusterId, round, bid));
}

/** The signed bid as it travels in a bid vector. */
export function encodeSignedBid(bid: Uint8Array, signature: Uint8Array): Uint8Array {
  if (signature.length !== SIGNATURE_BYTES) throw new RangeError('signature: expected 64 bytes');
  return new Writer(8 + bid.length + SIGNATURE_BYTES)
    .u8(SIGNED_BID_VERSION)
    .bytes(bid)
    .raw(signature)
    .finish()
    .slice();
}

/** Splits a signed bid from untrusted bytes (throws InvalidMessageError). */
export function decodeSignedBid(bytes: Uint8Array): { bid: Uint8Array; signature: Uint8Array } {
  const r = new Reader(bytes, 'signed bid');
  const version = r.u8();
  if (version !== SIGNED_BID_VERSION) {
    throw new InvalidMessageError(`signed bid: unknown version ${version}`);
  }
  const bid = r.bytes();
  const signature = r.raw(SIGNATURE_BYTES);
  r.end();
  return { bid, signature };
}

/**
 * Checks a user's signed bid for a round: well formed and signed by the key its id names.
 * Returns null when it is, else the reason.
 */
export function checkSignedBid(
  clusterId: string,
  round: bigint,
  bidder: string,
  bytes: Uint8Array,
): string | null {
  const key = userKey(bidder);
  if (!key) return `${bidder} is not a user id (a base64url Ed25519 public key)`;
  let parts;
  try {
    parts = decodeSignedBid(bytes);
  } catch (err) {
    return (err as Error).message;
  }

  const ok = new Verifier(key).verify(userBidMessage(clusterId, round, parts.bid), parts.signature);
  return ok ? null : `the signature of ${bidder} does not verify for round ${round}`;
}

/**
 * The decision rule for users' signed bids, applied by every provider to the m revealed
 * vectors before the majority (D13):
 * - an entry whose signature does not verify is dropped (a provider cannot invent a bid);
 * - a user with two different validly signed bids anywhere in the vectors is left out.
 * The majority then decides on what remains. Entries of providers (their asks, which come
 * signed in START) pass unchanged. Two signatures of the same bid (Ed25519 in node:crypto is
 * deterministic, so only a user's own crafted signer makes them) are not two bids: the
 * majority over the bytes decides, and only that user can lose by it.
 */
export function screenSignedBids(clusterId: string, providerIds: ReadonlySet<string>): BidScreen {
  return (round, vectors) => {
    const valid = new Map<string, boolean>();
    const isValid = (b: BidReport): boolean => {
      const key = `${b.bidder} ${toHex(b.bytes)}`;
      let ok = valid.get(key);
      if (ok === undefined) {
        ok = checkSignedBid(clusterId, round, b.bidder, b.bytes) === null;
        valid.set(key, ok);
      }
      return ok;
    };

    // Every distinct bid of every user, with the first provider that revealed it.
    const byUser = new Map<string, Map<string, number>>();
    const seen = new Set<readonly BidReport[]>();
    vectors.forEach((v, holder) => {
      if (seen.has(v)) return;
      seen.add(v);
      for (const b of v) {
        if (providerIds.has(b.bidder) || !isValid(b)) continue;
        const bids = byUser.get(b.bidder) ?? new Map<string, number>();
        byUser.set(b.bidder, bids);
        const bid = toHex(decodeSignedBid(b.bytes).bid);
        if (!bids.has(bid)) bids.set(bid, holder);
      }
    });

    // Two different bids of one user for this round: the user is left out everywhere.
    const excluded: { bidder: string; reason: string }[] = [];
    for (const [bidder, bids] of byUser) {
      if (bids.size === 1) continue;
      const where = [...bids.values()].map((h) => `provider ${h}`).join(' and ');
      const reason = `${bids.size} different signed bids for round ${round} (${where})`;
      excluded.push({ bidder, reason: `equivocation: ${reason}` });
    }
    const out = new Set(excluded.map((e) => e.bidder));

    // Rebuild only the vectors that change; an unchanged one stays the same object.
    const keep = (b: BidReport) => providerIds.has(b.bidder) || (isValid(b) && !out.has(b.bidder));
    const rebuilt = new Map<readonly BidReport[], readonly BidReport[]>();
    const screened = vectors.map((v) => {
      let r = rebuilt.get(v);
      if (!r) {
        r = v.every(keep) ? v : v.filter(keep);
        rebuilt.set(v, r);
      }
      return r;
    });
    return { vectors: screened, excluded };
  };
}

/**
 * The cluster's mechanism over signed user bids: a user's entry is unwrapped to the bid it
 * signed before the mechanism sees it; providers' asks pass as they are. Its parameter bytes
 * extend the mechanism's, so a daemon never runs a round with a provider taking unsigned bids
 * (START would fail with PARAMS_MISMATCH). Signatures are checked by screenSignedBids.
 */
export function signedBidMechanism(
  inner: AuctionMechanism,
  providerIds: ReadonlySet<string>,
): AuctionMechanism {
  const unwrap = (bids: readonly BidReport[]): BidReport[] =>
    bids.map((b) =>
      providerIds.has(b.bidder) ? b : { bidder: b.bidder, bytes: decodeSignedBid(b.bytes).bid },
    );
  const mechanism: AuctionMechanism = {
    kind: inner.kind,
    paramsBytes: () => new Writer().bytes(inner.paramsBytes()).string(PARAMS_TAG).finish(),
    checkBid(bidder, bytes, providerIds) {
      if (providerIds.has(bidder)) return inner.checkBid(bidder, bytes, providerIds);
      if (!userKey(bidder)) return `${bidder} is not a user id (a base64url Ed25519 public key)`;
      let bid: Uint8Array;
      try {
        bid = decodeSignedBid(bytes).bid;
      } catch (err) {
        return (err as Error).message;
      }
      return inner.checkBid(bidder, bid, providerIds);
    },
    run: (bids, seed) => inner.run(unwrap(bids), seed),
  };
  if (inner.plan) {
    const plan = inner.plan.bind(inner);
    mechanism.plan = (bids, seed, groups): TaskPlan => plan(unwrap(bids), seed, groups);
  }
  return mechanism;
}

/**
 * The cluster as a daemon runs it: the same providers and keys, with signed user bids. Clients
 * that fetch a daemon's results use this too (its session ids differ from the plain cluster's).
 */
export function daemonCluster(cluster: Cluster): Cluster {
  const providerIds = new Set(cluster.params.providers.map((p) => p.id));
  const mechanism = signedBidMechanism(cluster.mechanism, providerIds);
  return {
    ...cluster,
    params: { ...cluster.params, mechanismParams: mechanism.paramsBytes() },
    mechanism,
  };
}
