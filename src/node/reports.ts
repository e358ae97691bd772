/**
 * What bidders report, per auction kind, between plain JSON (flags, client requests) and the
 * canonical bytes the providers agree on: a provider's own report (its ask and capacity in the
 * double auction, its capacities in the standard one) and a user's bid.
 */
import { InvalidInputError } from '../core/errors.js';
import { encodeDoubleBid } from '../mechanisms/double/codec.js';
import { parseProviderAsk, parseUserBid } from '../mechanisms/double/star.js';
import type { UserBid } from '../mechanisms/double/types.js';
import { encodeStandardBid, encodeStandardProvider } from '../mechanisms/standard/codec.js';
import { parseStandardProvider, parseStandardUser } from '../mechanisms/standard/pvcg.js';
import type { StandardUser } from '../mechanisms/standard/types.js';
import { compareIds } from '../core/units.js';
import type { BidReport } from '../mechanisms/mechanism.js';
import type { DoubleScenario } from '../scenarios/scenario.js';
import type { StandardScenario } from '../scenarios/standard.js';
import type { Cluster } from './cluster.js';

/** A provider's own report: an ask (double auction only) and one capacity per resource. */
export interface ProviderReport {
  readonly ask?: bigint;
  readonly capacity: readonly bigint[];
}

/** Canonical bytes of provider `id`'s own report, checked against the cluster's auction. */
export function ownReportBytes(cluster: Cluster, id: string, r: ProviderReport): Uint8Array {
  const a = cluster.file.auction;
  if (a.kind === 'double') {
    if (r.ask === undefined) throw new InvalidInputError('ask', undefined, 'an ask (--ask)');
    if (r.capacity.length !== 1) {
      throw new InvalidInputError('capacity', r.capacity.join(','), 'one capacity');
    }
    return encodeDoubleBid(parseProviderAsk({ id, ask: r.ask, capacity: r.capacity[0] }, 'ask'));
  }
  if (r.ask !== undefined) {
    throw new InvalidInputError(
      'ask',
      r.ask,
      'no ask: providers do not bid in the standard auction',
    );
  }
  const capacity = r.capacity.map(String);
  return encodeStandardProvider(parseStandardProvider({ id, capacity }, 'report', a.resources));
}

/** Parses a user's bid from a client request into its id and canonical bytes. */
export function userBidBytes(
  cluster: Cluster,
  raw: unknown,
  field: string,
): { id: string; bytes: Uint8Array } {
  const a = cluster.file.auction;
  if (a.kind === 'double') {
    const bid = parseUserBid(raw, field);
    return { id: bid.id, bytes: encodeDoubleBid(bid) };
  }
  const bid = parseStandardUser(raw, field, a.resources);
  return { id: bid.id, bytes: encodeStandardBid(bid) };
}

/** The JSON a client sends for a user's bid of either auction (numbers as strings). */
export function userBidJson(bid: UserBid | StandardUser): Record<string, unknown> {
  if ('kind' in bid) return { id: bid.id, bid: String(bid.bid), demand: String(bid.demand) };
  return {
    id: bid.id,
    bid: String(bid.bid),
    demand: bid.demand.map(String),
    ...(bid.accepts !== null && { accepts: [...bid.accepts] }),
  };
}

/**
 * Every report of a scenario as the providers hold them, in bidder-id order: the input of a
 * centralised run to compare a distributed round with.
 */
export function scenarioReports(
  cluster: Cluster,
  scenario: DoubleScenario | StandardScenario,
): BidReport[] {
  const providers = scenario.providers.map((p) => ({
    bidder: p.id,
    bytes: ownReportBytes(
      cluster,
      p.id,
      'ask' in p ? { ask: p.ask, capacity: [p.capacity] } : { capacity: p.capacity },
    ),
  }));
  const users = scenario.users.map((u) => {
    const b = userBidBytes(cluster, userBidJson(u), 'bid');
    return { bidder: b.id, bytes: b.bytes };
  });
  return [...providers, ...users].sort((a, b) => compareIds(a.bidder, b.bidder));
}
