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
 *
 * The faithful agreement (#4) agrees on bits, so there the reference is lane by lane, from the
 * bids each honest provider held when it fixed its lane inputs (`honestVectors` then holds
 * those, encoded with the mechanism's bit codec as the engine does). Under MAJORITY every lane
 * on which all honest providers agree must keep their bit (so a consistent bidder keeps its
 * bid, and an inconsistent one gets a bid whose every bit some honest provider holds, or a
 * pattern that is no valid bid and leaves it out). Under LEADER each bidder's lanes must be
 * exactly its leader's input when the leader is honest, and are anything when a deviator
 * leads. Only registry bidders may be agreed, H_b must hash the agreed bids, and the mechanism
 * run centrally on the agreed bids with the output's seed must give the output's bytes.
 */
import { compareIds } from '../core/units.js';
import { equalBytes, toHex } from '../core/bytes.js';
import type { AuctionMechanism, BidReport } from '../mechanisms/mechanism.js';
import { AbortCode, abortCodeName } from '../protocol/abort.js';
import { bidVectorHash } from '../protocol/bid-vector.js';
import type { RoundOutcome, RoundResult } from '../protocol/fast-round.js';
import type { BidBitCodec } from '../protocol/faithful/bit-codec.js';
import type { DecisionRule } from '../protocol/faithful/params.js';
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

/** What the judge needs to check a faithful run's agreed vector. */
export interface FaithfulJudging {
  readonly rule: DecisionRule;
  /** The bidder registry, sorted (lane block t is bidder t's). */
  readonly registry: readonly string[];
  /** The mechanism's bit codec, as the engine encodes lanes. */
  readonly codec: BidBitCodec;
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
  /**
   * The vector each honest provider committed to (from its BA_REVEAL), when it revealed; in
   * faithful mode the bids it held when it fixed its lane inputs, once it had every START.
   */
  readonly honestVectors: ReadonlyMap<number, readonly BidReport[]>;
  /** The users' bids the simulator handed to each honest provider. */
  readonly submitted: ReadonlyMap<number, ReadonlyMap<string, Uint8Array>>;
  readonly expected: Expectation;
  /** Faithful mode: the rule, registry and codec the lanes are judged by. */
  readonly faithful?: FaithfulJudging;
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
    const found =
      judged.get(key) ??
      (input.faithful ? checkFaithfulOutput(o, input, input.faithful) : checkOutput(o, input));
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

/** Everything wrong with one honest output of a faithful run, judged lane by lane. */
function checkFaithfulOutput(o: RoundOutcome, input: JudgeInput, f: FaithfulJudging): string[] {
  const problems: string[] = [];
  const vectors = input.honest.map((h) => input.honestVectors.get(h));
  if (vectors.some((v) => v === undefined)) {
    return ['an honest provider output although another honest one never had every START'];
  }
  const held = vectors.map((v) => new Map(v!.map((b) => [b.bidder, b.bytes])));
  const coalition = new Set(input.coalition);
  const leaders = o.faithful?.leaders ?? null;
  if (f.rule === 'leader' && leaders?.length !== f.registry.length) {
    return ['a LEADER output does not name a leader for every bidder'];
  }

  // What the output agreed: only registry bidders, hashed into H_b.
  const agreed = new Map(o.agreedBids.map((b) => [b.bidder, b.bytes]));
  const invalid = new Set(o.invalidBids.map((b) => b.bidder));
  const registry = new Set(f.registry);
  for (const id of [...agreed.keys(), ...invalid]) {
    if (!registry.has(id)) problems.push(`bidder ${id} was agreed although it is not registered`);
  }
  if (!equalBytes(bidVectorHash(o.agreedBids), o.bidsHash)) {
    problems.push('H_b is not the hash of the agreed bids');
  }

  // Bidder by bidder: the honest inputs as lanes, and the agreed entry (null lanes: invalid).
  const L = f.codec.bits;
  f.registry.forEach((bidder, t) => {
    const inputs = held.map((m) => lanesOf(f.codec, bidder, m.get(bidder)));
    const bytes = agreed.get(bidder);
    const got = bytes ? lanesOf(f.codec, bidder, bytes) : invalid.has(bidder) ? null : zeros(L);
    if (bytes && got!.every((x) => x === 0)) {
      problems.push(`bidder ${bidder} was agreed with a bid that has no bit encoding`);
      return;
    }

    if (f.rule === 'leader') {
      // A deviating leader's input is adopted whatever it is; an honest one's exactly.
      const leader = leaders![t]!;
      if (coalition.has(leader)) return;
      const want = entryOf(f.codec, input, bidder, inputs[input.honest.indexOf(leader)]!);
      if (!sameEntry(want, bytes, invalid.has(bidder))) {
        problems.push(`bidder ${bidder} was not agreed with the input of its honest leader`);
      }
      return;
    }

    // MAJORITY: every lane the honest providers agree on keeps their bit.
    const unanimous = (l: number) => inputs.every((x) => x[l] === inputs[0]![l]);
    if (got === null) {
      const want = entryOf(f.codec, input, bidder, inputs[0]!);
      if (inputs.every((x) => equalBytes(x, inputs[0]!)) && want !== 'invalid') {
        problems.push(`consistent bidder ${bidder} was left out as invalid`);
      }
      return;
    }
    for (let l = 0; l < L; l++) {
      if (unanimous(l) && got[l] !== inputs[0]![l]) {
        problems.push(`bidder ${bidder}: bit ${l} differs from the one every honest provider held`);
        return;
      }
    }
  });

  // The trusted auctioneer: the mechanism on the agreed bids, with the output's seed.
  const valid = o.agreedBids
    .filter((b) => input.mechanism.checkBid(b.bidder, b.bytes, input.providerIds) === null)
    .sort((a, b) => compareIds(a.bidder, b.bidder));
  if (valid.length !== o.agreedBids.length) problems.push('an agreed bid is not valid');
  const central = input.mechanism.run(valid, o.seed);
  if (!equalBytes(central.outcomeBytes, o.outcomeBytes)) {
    problems.push('the output differs from the mechanism run centrally on the agreed bids');
  }
  return problems;
}

/** A bidder's L lanes as the engine encodes them (neutral for no bid or one that is not valid). */
function lanesOf(codec: BidBitCodec, bidder: string, bytes: Uint8Array | undefined): Uint8Array {
  const lanes = zeros(codec.bits);
  codec.encode(bidder, bytes, lanes, 0);
  return lanes;
}

function zeros(n: number): Uint8Array {
  return new Uint8Array(n);
}

/** What the engine agrees for lanes: a valid bid's bytes, 'neutral' or 'invalid'. */
function entryOf(
  codec: BidBitCodec,
  input: JudgeInput,
  bidder: string,
  lanes: Uint8Array,
): Uint8Array | 'neutral' | 'invalid' {
  const d = codec.decode(bidder, lanes, 0);
  if (d.status !== 'bid') return d.status;
  return input.mechanism.checkBid(bidder, d.bytes, input.providerIds) === null
    ? d.bytes
    : 'invalid';
}

/** The output's entry of a bidder (its bytes, invalid, or neither: neutral) is `want`. */
function sameEntry(
  want: Uint8Array | 'neutral' | 'invalid',
  bytes: Uint8Array | undefined,
  isInvalid: boolean,
): boolean {
  if (want === 'neutral') return !bytes && !isInvalid;
  if (want === 'invalid') return !bytes && isInvalid;
  return bytes !== undefined && equalBytes(bytes, want);
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : equalBytes(a, b);
}
