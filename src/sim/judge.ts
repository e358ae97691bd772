/**
 * Judges one simulated run from the honest providers' side: did any of them output ⊥, did an
 * output differ from what a trusted auctioneer would compute, did two of them output different
 * outcomes, and did every ⊥ name only deviators.
 *
 * The reference is computed from the honest providers' own committed vectors (their BA_REVEAL),
 * not from the strategy's intentions: a bidder held identically by every honest provider (a
 * consistent bidder) must be agreed with exactly that bid, since the m − k ≥ k + 1 honest
 * votes are a majority; a bidder the honest providers disagree on may be agreed with any value
 * one of them holds, or left out; nobody else may be agreed. The mechanism then runs centrally
 * on that input with the output's seed and must give the output's bytes.
 */
import { compareIds } from '../core/units.js';
import { equalBytes, toHex } from '../core/bytes.js';
import type { AuctionMechanism, BidReport } from '../mechanisms/mechanism.js';
import { AbortCode, abortCodeName } from '../protocol/abort.js';
import type { RoundOutcome, RoundResult } from '../protocol/fast-round.js';
import type { Expectation } from './strategies.js';

/** How the ⊥s of a run named providers. */
export type BlameClass =
  /** Some honest ⊥ named a deviator, and none named an honest provider. */
  | 'correct'
  /** An honest provider's own finding named an honest provider. */
  | 'wrong-own'
  /** Only relayed claims (PEER_ABORT) named an honest provider. */
  | 'wrong-relayed'
  /** No honest ⊥ named anyone (claims that could not be checked name nobody). */
  | 'unattributed';

/** The judgement of one run. */
export interface Verdict {
  /** Some honest provider output ⊥. */
  readonly aborted: boolean;
  /** Every honest provider output an outcome. */
  readonly outcome: boolean;
  /** Some honest providers output an outcome and others ⊥. */
  readonly mixed: boolean;
  /** An honest output differs from the trusted auctioneer's outcome. */
  readonly wrongOutcome: boolean;
  /** Two honest providers output different outcomes. */
  readonly split: boolean;
  /** Some provider never finished (impossible with deadlines; a bug if it happens). */
  readonly hang: boolean;
  /** An honest provider's round failed with an exception (LOCAL_FAILURE). */
  readonly localFailure: boolean;
  /** How the ⊥s named providers; null without ⊥. */
  readonly blame: BlameClass | null;
  /** Honest ⊥s (one per honest provider that output ⊥) by whom they named. */
  readonly honestAborts: {
    readonly namingDeviators: number;
    readonly namingNobody: number;
    readonly namingHonest: number;
  };
  /** What the strategy's variant should give, and whether the run did something else. */
  readonly expected: Expectation;
  readonly unexpected: boolean;
  /** Abort codes seen at honest providers, sorted. */
  readonly codes: readonly string[];
  /** Readable reasons for every violation found. */
  readonly problems: readonly string[];
}

/** What the judge looks at. */
export interface JudgeInput {
  readonly coalition: readonly number[];
  readonly honest: readonly number[];
  readonly mechanism: AuctionMechanism;
  /** Ids of the cluster's providers (the mechanism tells their asks from users' bids). */
  readonly providerIds: ReadonlySet<string>;
  /** The strategy round's result per provider (null: it never finished). */
  readonly results: readonly (RoundResult | null)[];
  /** The vector each honest provider committed to (from its BA_REVEAL), when it revealed. */
  readonly honestVectors: ReadonlyMap<number, readonly BidReport[]>;
  /** The users' bids the simulator handed to each honest provider. */
  readonly submitted: ReadonlyMap<number, ReadonlyMap<string, Uint8Array>>;
  readonly expected: Expectation;
}

/** Judges a run. */
export function judge(input: JudgeInput): Verdict {
  const problems: string[] = [];
  const honestResults = input.honest.map((i) => input.results[i] ?? null);
  const hang = input.results.some((r) => r === null);
  const outputs = honestResults.filter((r): r is RoundOutcome => r !== null && r.ok);
  const failures = input.honest.flatMap((i) => {
    const r = input.results[i];
    return r && !r.ok ? [{ i, reason: r.reason }] : [];
  });

  // Outputs: each equal to the trusted auctioneer's, and all equal to each other.
  let wrongOutcome = false;
  const judged = new Map<string, string[]>();
  for (const o of outputs) {
    // Identical outputs (the common case) are judged once.
    const key = toHex(o.outcomeHash) + toHex(o.bidsHash) + toHex(o.seed);
    const found = judged.get(key) ?? checkOutput(o, input);
    judged.set(key, found);
    if (found.length > 0) wrongOutcome = true;
    problems.push(...found);
  }
  const first = outputs[0];
  const split = outputs.some(
    (o) =>
      !equalBytes(o.outcomeHash, first!.outcomeHash) ||
      !equalBytes(o.bidsHash, first!.bidsHash) ||
      !equalBytes(o.seed, first!.seed),
  );
  if (split) problems.push('honest providers output different outcomes');

  // Blame: an honest ⊥ may name deviators only (or nobody, for a claim it cannot check).
  const coalition = new Set(input.coalition);
  let wrongOwn = false;
  let wrongRelayed = false;
  const honestAborts = { namingDeviators: 0, namingNobody: 0, namingHonest: 0 };
  for (const { i, reason } of failures) {
    const honestNamed = reason.blamed.filter((b) => !coalition.has(b));
    if (honestNamed.length > 0) {
      honestAborts.namingHonest++;
      if (reason.code === AbortCode.PEER_ABORT) wrongRelayed = true;
      else wrongOwn = true;
      problems.push(
        `honest provider ${i} output ⊥ ${abortCodeName(reason.code)} naming honest ` +
          `${honestNamed.join(', ')}: ${reason.message}`,
      );
    } else if (reason.blamed.length === 0) honestAborts.namingNobody++;
    else honestAborts.namingDeviators++;
  }
  const localFailure = failures.some((f) => f.reason.code === AbortCode.LOCAL_FAILURE);
  if (localFailure) problems.push('an honest provider failed with a local error');
  if (hang) problems.push('a provider never finished its round');

  const aborted = failures.length > 0;
  const blame: BlameClass | null = !aborted
    ? null
    : wrongOwn
      ? 'wrong-own'
      : wrongRelayed
        ? 'wrong-relayed'
        : honestAborts.namingDeviators > 0
          ? 'correct'
          : 'unattributed';
  const outcome = !aborted && !hang;
  return {
    aborted,
    outcome,
    mixed: aborted && outputs.length > 0,
    wrongOutcome,
    split,
    hang,
    localFailure,
    blame,
    honestAborts,
    expected: input.expected,
    unexpected:
      input.expected === 'either' ? false : input.expected === 'abort' ? !aborted : aborted,
    codes: [...new Set(failures.map((f) => abortCodeName(f.reason.code)))].sort(),
    problems,
  };
}

/** Everything wrong with one honest output, judged against the honest vectors. */
function checkOutput(o: RoundOutcome, input: JudgeInput): string[] {
  const problems: string[] = [];
  const vectors = input.honest.map((h) => input.honestVectors.get(h));
  if (vectors.some((v) => v === undefined)) {
    return ['an honest provider output although another honest one never revealed'];
  }

  // Every honest provider committed to the bids it was handed.
  input.honest.forEach((h, n) => {
    const held = new Map(vectors[n]!.map((b) => [b.bidder, b.bytes]));
    for (const [id, bytes] of input.submitted.get(h) ?? []) {
      const got = held.get(id);
      if (!got || !equalBytes(got, bytes)) problems.push(`honest ${h} did not commit ${id}'s bid`);
    }
  });

  // What the output agreed, valid or not.
  const agreed = new Map(o.agreedBids.map((b) => [b.bidder, b.bytes]));
  const invalid = new Set(o.invalidBids.map((b) => b.bidder));

  // Allowed values per bidder, from the honest vectors.
  const held = new Map<string, (Uint8Array | undefined)[]>();
  vectors.forEach((v, n) => {
    for (const b of v!) {
      // Filled with undefined, not holes: every() skips holes.
      const list = held.get(b.bidder) ?? vectors.map((): Uint8Array | undefined => undefined);
      list[n] = b.bytes;
      held.set(b.bidder, list);
    }
  });
  const reference: BidReport[] = [];
  for (const [bidder, values] of held) {
    const consistent = values.every((x) => sameBytes(x, values[0]));
    const got = agreed.get(bidder);
    if (consistent && values[0] !== undefined) {
      const v = values[0];
      if (got ? !equalBytes(got, v) : !invalid.has(bidder)) {
        problems.push(`consistent bidder ${bidder} was not agreed with its bid`);
      }
      reference.push({ bidder, bytes: v });
    } else if (got) {
      if (!values.some((x) => x !== undefined && equalBytes(x, got))) {
        problems.push(`bidder ${bidder} was agreed with a bid no honest provider held`);
      }
      reference.push({ bidder, bytes: got });
    }
  }
  for (const id of [...agreed.keys(), ...invalid]) {
    if (!held.has(id)) problems.push(`bidder ${id} was agreed although no honest provider held it`);
  }

  // The trusted auctioneer: the mechanism on the reference input, with the output's seed.
  const valid = reference
    .filter((b) => input.mechanism.checkBid(b.bidder, b.bytes, input.providerIds) === null)
    .sort((a, b) => compareIds(a.bidder, b.bidder));
  const central = input.mechanism.run(valid, o.seed);
  if (!equalBytes(central.outcomeBytes, o.outcomeBytes)) {
    problems.push('the output differs from the mechanism run centrally on the honest input');
  }
  return problems;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : equalBytes(a, b);
}
