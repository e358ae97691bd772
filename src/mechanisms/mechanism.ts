/**
 * What the framework needs from an auction mechanism, whatever the mechanism. The protocol
 * agrees on opaque, canonical bid bytes per bidder; the mechanism says which bytes are a valid
 * bid, and computes the outcome from the agreed bids and the common coin's seed.
 */

/** One bidder's agreed report: its id and the canonical bytes of its bid. */
export interface BidReport {
  readonly bidder: string;
  readonly bytes: Uint8Array;
}

/** A mechanism's result: canonical bytes (hashed and signed) and a JSON-safe summary. */
export interface MechanismResult {
  readonly outcomeBytes: Uint8Array;
  readonly summary: Record<string, unknown>;
}

/** An auction mechanism as the framework drives it. Implementations are pure. */
export interface AuctionMechanism {
  /** "double" or "standard". */
  readonly kind: string;
  /** Canonical bytes of the mechanism's parameters; part of the session id. */
  paramsBytes(): Uint8Array;
  /**
   * Checks one agreed bid. Returns null when `bytes` is a valid bid for `bidder`, else a reason
   * (the bid then becomes the neutral bid: the bidder is left out). `providerIds` lets a
   * mechanism tell the providers' own bids from the users'.
   */
  checkBid(bidder: string, bytes: Uint8Array, providerIds: ReadonlySet<string>): string | null;
  /** Computes the outcome on valid bids in bidder-id order, with the common coin's seed. */
  run(bids: readonly BidReport[], seed: Uint8Array): MechanismResult;
}
