/**
 * Bid vectors: what each provider received, in canonical form, and the bid-level majority
 * decision that turns m of them into the agreed vector (protocols.md §6.1).
 */
import { Reader, Writer, compareBytes, equalBytes, utf8 } from '../core/bytes.js';
import { InvalidMessageError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { AGENT_ID_PATTERN, compareIds } from '../core/units.js';
import type { BidReport } from '../mechanisms/mechanism.js';

/** Largest canonical bid accepted in a vector, in bytes. */
export const MAX_BID_BYTES = 4096;

/** Largest number of bidders in one vector. */
export const MAX_BIDDERS = 2_000_000;

/** Canonical bytes of a bid vector: u32 count, then (id, bid bytes) in id order. */
export function encodeBidVector(bids: readonly BidReport[]): Uint8Array {
  const sorted = [...bids].sort((a, b) => compareIds(a.bidder, b.bidder));
  const w = new Writer(64 + sorted.length * 48).u32(sorted.length);
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i - 1]!.bidder === sorted[i]!.bidder) {
      throw new RangeError(`bid vector: bidder ${sorted[i]!.bidder} twice`);
    }
    w.string(sorted[i]!.bidder).bytes(sorted[i]!.bytes);
  }
  return w.finish().slice();
}

/**
 * Decodes a bid vector from untrusted bytes: ids must be valid, strictly increasing (so each
 * bidder appears once) and every bid at most MAX_BID_BYTES.
 */
export function decodeBidVector(bytes: Uint8Array): BidReport[] {
  const r = new Reader(bytes, 'bid vector');
  const n = r.u32();
  if (n > MAX_BIDDERS) throw new InvalidMessageError(`bid vector: ${n} bidders exceeds the limit`);
  const out: BidReport[] = [];
  for (let i = 0; i < n; i++) {
    const bidder = r.string(128);
    if (!AGENT_ID_PATTERN.test(bidder)) {
      throw new InvalidMessageError(`bid vector: bad bidder id ${JSON.stringify(bidder)}`);
    }
    if (i > 0 && compareIds(out[i - 1]!.bidder, bidder) >= 0) {
      throw new InvalidMessageError(`bid vector: bidders out of order at ${bidder}`);
    }
    out.push({ bidder, bytes: r.bytes(MAX_BID_BYTES) });
  }
  r.end();
  return out;
}

/** SHA-256 of the canonical agreed vector, H_b. */
export function bidVectorHash(bids: readonly BidReport[]): Uint8Array {
  return sha256(utf8('DA/bids/v1'), encodeBidVector(bids));
}

/**
 * The bid-level decision: for every bidder named in any vector, the bid held by more than
 * m/2 providers, if there is one; bidders without a majority are left out (neutral bid).
 * Vectors are indexed by provider; the result is in bidder-id order.
 */
export function decideMajority(vectors: readonly (readonly BidReport[])[]): {
  agreed: BidReport[];
  noMajority: string[];
} {
  const m = vectors.length;

  // When every provider holds the same vector object, it is the agreed one.
  if (m > 0 && vectors.every((v) => v === vectors[0])) {
    return { agreed: [...vectors[0]!], noMajority: [] };
  }
  const byBidder = new Map<string, Uint8Array[]>();
  for (const v of vectors) {
    for (const b of v) {
      const list = byBidder.get(b.bidder);
      if (list) list.push(b.bytes);
      else byBidder.set(b.bidder, [b.bytes]);
    }
  }

  const agreed: BidReport[] = [];
  const noMajority: string[] = [];
  const ids = [...byBidder.keys()].sort(compareIds);
  for (const bidder of ids) {
    const winner = majorityValue(byBidder.get(bidder)!, m);
    if (winner) agreed.push({ bidder, bytes: winner });
    else noMajority.push(bidder);
  }
  return { agreed, noMajority };
}

function majorityValue(values: Uint8Array[], m: number): Uint8Array | null {
  if (values.length * 2 <= m) return null;
  if (values.every((v) => equalBytes(v, values[0]!))) return values[0]!;

  const sorted = [...values].sort(compareBytes);
  let runStart = 0;
  for (let i = 1; i <= sorted.length; i++) {
    if (i === sorted.length || !equalBytes(sorted[i]!, sorted[runStart]!)) {
      if ((i - runStart) * 2 > m) return sorted[runStart]!;
      runStart = i;
    }
  }
  return null;
}
