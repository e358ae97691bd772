/**
 * The double auction as the framework drives it: canonical bid bytes in, STAR-Padding on the
 * agreed bids, canonical outcome bytes out. The double auction uses no randomness, so the
 * common coin's seed is ignored.
 */
import { Writer } from '../../core/bytes.js';
import type { AuctionMechanism, BidReport, MechanismResult } from '../mechanism.js';
import { decodeDoubleBid, doubleOutcomeToJson, encodeDoubleOutcome } from './codec.js';
import { runStarPadding } from './star.js';
import type { DoubleAuctionOutcome, ProviderAsk, UserBid, WinnerRule } from './types.js';

/** The double auction under one winner rule. */
export function doubleAuctionMechanism(rule: WinnerRule): AuctionMechanism {
  return {
    kind: 'double',
    paramsBytes: () => new Writer().string('double/star-padding/v1').string(rule).finish(),
    checkBid: checkDoubleBid,
    run: (bids, _seed) => runDouble(bids, rule),
  };
}

/** Splits agreed reports into the STAR input (providers' asks and users' bids). */
export function splitDoubleBids(bids: readonly BidReport[]): {
  providers: ProviderAsk[];
  users: UserBid[];
} {
  const providers: ProviderAsk[] = [];
  const users: UserBid[] = [];
  for (const b of bids) {
    const bid = decodeDoubleBid(b.bytes);
    if (bid.kind === 'provider') providers.push(bid);
    else users.push(bid);
  }
  return { providers, users };
}

/** Runs STAR-Padding on agreed reports and returns the outcome itself. */
export function runDoubleOutcome(
  bids: readonly BidReport[],
  rule: WinnerRule,
): DoubleAuctionOutcome {
  return runStarPadding({ ...splitDoubleBids(bids), rule });
}

function runDouble(bids: readonly BidReport[], rule: WinnerRule): MechanismResult {
  const outcome = runDoubleOutcome(bids, rule);
  return { outcomeBytes: encodeDoubleOutcome(outcome), summary: doubleOutcomeToJson(outcome) };
}

function checkDoubleBid(
  bidder: string,
  bytes: Uint8Array,
  providerIds: ReadonlySet<string>,
): string | null {
  let bid;
  try {
    bid = decodeDoubleBid(bytes);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  if (bid.id !== bidder) return `the bid names ${bid.id}, not ${bidder}`;
  if (bid.kind === 'provider' && !providerIds.has(bidder)) {
    return `${bidder} is not a configured provider, so it cannot ask`;
  }
  if (bid.kind === 'user' && providerIds.has(bidder)) {
    return `${bidder} is a provider, so it cannot bid as a user`;
  }
  return null;
}
