/**
 * The round clock of a provider daemon. Round r (r ≥ 1) opens at epoch + (r−1)·period and its
 * bids are due bidDeadlineMs later; the protocol of round r starts at that deadline. A bid for
 * round r is taken while r's deadline has not passed by this provider's clock; which bids count
 * is then decided by the agreement (a majority of the providers' vectors), not by any one clock.
 */

/** When rounds open and close, in milliseconds since the Unix epoch. */
export interface RoundSchedule {
  /** When round 1 opens. */
  readonly epochMs: number;
  /** Time between the opening of one round and the next. */
  readonly periodMs: number;
  /** Time from a round's opening to its bid deadline (≤ periodMs). */
  readonly bidDeadlineMs: number;
}

/** Bids may name the open round or up to this many rounds after it. */
export const MAX_ROUNDS_AHEAD = 1n;

/** When round r opens. */
export function roundOpensAt(s: RoundSchedule, round: bigint): number {
  return s.epochMs + Number(round - 1n) * s.periodMs;
}

/** When round r's bids are due and its protocol starts. */
export function roundDeadline(s: RoundSchedule, round: bigint): number {
  return roundOpensAt(s, round) + s.bidDeadlineMs;
}

/**
 * The round taking bids at `nowMs`: the first round whose deadline is still ahead (round 1
 * before the epoch).
 */
export function openRound(s: RoundSchedule, nowMs: number): bigint {
  const passed = Math.floor((nowMs - s.epochMs - s.bidDeadlineMs) / s.periodMs) + 2;
  return passed < 1 ? 1n : BigInt(passed);
}

/** The schedule as people read it: ISO times and milliseconds. */
export function scheduleJson(s: RoundSchedule): Record<string, unknown> {
  return {
    epoch: new Date(s.epochMs).toISOString(),
    periodMs: s.periodMs,
    bidDeadlineMs: s.bidDeadlineMs,
  };
}
