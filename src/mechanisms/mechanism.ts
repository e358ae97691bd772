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
  /**
   * For mechanisms that split into a task graph (paper IV-B): runs task 1 and returns the plan
   * of the parallel tasks 2.0 … 2.(groups−1) and the gathering task 3. Absent when the
   * mechanism is one cheap task (the double auction).
   */
  plan?(bids: readonly BidReport[], seed: Uint8Array, groups: number): TaskPlan;
}

/**
 * The parallel part of a mechanism once task 1 has run: `groups` independent tasks whose
 * results are canonical bytes, and the final gathering task. run(bids, seed) must equal
 * finish(tasks 0 … groups−1 run in order) for every number of groups.
 */
export interface TaskPlan {
  /** Number of parallel tasks (equal to the number of groups). */
  readonly tasks: number;
  /** Runs task 2.index and returns its canonical result. */
  runTask(index: number): Uint8Array;
  /**
   * Checks that bytes received for task 2.index are well formed for this plan (right ids, in
   * range); returns null when they are, else the reason. Values are checked by the group.
   */
  checkTaskResult(index: number, bytes: Uint8Array): string | null;
  /** Task 3: the outcome from every task's result. */
  finish(results: readonly Uint8Array[]): MechanismResult;
}
