/**
 * The standard auction as the framework drives it (paper IV-B, Algorithm 1): users' bids and
 * the providers' capacity reports as canonical bytes, and PVCG-ε split into a task graph —
 * task 1 (the perturbation from the common coin and the exact allocation, run by every
 * provider), tasks 2.g (the Clarke pivots of one subset of the winners, run by group g) and
 * task 3 (gathering the pivots into charges and placements, run by every provider).
 */
import { Writer } from '../../core/bytes.js';
import type { AuctionMechanism, BidReport, MechanismResult, TaskPlan } from '../mechanism.js';
import {
  decodePayments,
  decodeStandardBid,
  encodePayments,
  encodeStandardOutcome,
  standardOutcomeToJson,
} from './codec.js';
import { allocate, drawPerturbation, finalize, paymentsFor, planPaymentTasks } from './pvcg.js';
import type {
  StandardAuctionInput,
  StandardMode,
  StandardProvider,
  StandardUser,
} from './types.js';

/** Parameters of the standard auction in a cluster. */
export interface StandardParams {
  /** ε in parts per million. */
  readonly epsilonPpm: number;
  readonly mode: StandardMode;
  /** Number of resource types R. */
  readonly resources: number;
}

/** The standard auction with fixed parameters. */
export function standardAuctionMechanism(p: StandardParams): AuctionMechanism {
  const paramsBytes = new Writer()
    .string('standard/pvcg-eps/v1')
    .u32(p.epsilonPpm)
    .string(p.mode)
    .u16(p.resources)
    .finish();
  return {
    kind: 'standard',
    paramsBytes: () => paramsBytes,
    checkBid: (bidder, bytes, providerIds) => checkStandardBid(p, bidder, bytes, providerIds),
    run: (bids, seed) => {
      const plan = planStandard(p, bids, seed, 1);
      return plan.finish([plan.runTask(0)]);
    },
    plan: (bids, seed, groups) => planStandard(p, bids, seed, groups),
  };
}

/** Builds the auction input from agreed reports: providers and users in bidder-id order. */
export function standardInput(p: StandardParams, bids: readonly BidReport[]): StandardAuctionInput {
  const providers: StandardProvider[] = [];
  const users: StandardUser[] = [];
  for (const b of bids) {
    const bid = decodeStandardBid(b.bytes);
    if (bid.kind === 'provider') providers.push(bid.provider);
    else users.push(bid.user);
  }

  // A user may only name providers that are in this round; others are dropped from its set.
  const known = new Set(providers.map((x) => x.id));
  const reachable = users.map((u) =>
    u.accepts === null ? u : { ...u, accepts: u.accepts.filter((id) => known.has(id)) },
  );
  return { providers, users: reachable, epsilonPpm: p.epsilonPpm, mode: p.mode };
}

function planStandard(
  p: StandardParams,
  bids: readonly BidReport[],
  seed: Uint8Array,
  groups: number,
): TaskPlan {
  // Task 1, at every provider: λ and the lottery from the coin, then the exact allocation.
  const input = standardInput(p, bids);
  const perturbation = drawPerturbation(seed, input.users, p.epsilonPpm);
  const allocation = allocate(input, perturbation);
  const winners = allocation.users.filter((_, i) => allocation.assignment[i] !== null);
  const subsets = padTo(planPaymentTasks(winners, groups), groups);

  return {
    tasks: groups,
    runTask: (g) => encodePayments(paymentsFor(input, perturbation, allocation, subsets[g]!)),
    checkTaskResult: (g, bytes) => checkPayments(bytes, subsets[g]!),
    finish: (results): MechanismResult => {
      const payments = new Map<string, bigint>();
      for (const r of results) for (const [id, v] of decodePayments(r)) payments.set(id, v);
      const outcome = finalize(input, perturbation, allocation, payments);
      return {
        outcomeBytes: encodeStandardOutcome(outcome),
        summary: standardOutcomeToJson(outcome),
      };
    },
  };
}

function padTo(subsets: string[][], groups: number): string[][] {
  const out = subsets.slice(0, groups);
  while (out.length < groups) out.push([]);
  return out;
}

function checkPayments(bytes: Uint8Array, expected: readonly string[]): string | null {
  let got: Map<string, bigint>;
  try {
    got = decodePayments(bytes);
  } catch (err) {
    return (err as Error).message;
  }
  const ids = [...got.keys()];
  if (ids.length !== expected.length || ids.some((id, i) => id !== expected[i])) {
    return `the result covers ${ids.length} winners, not the ${expected.length} of the task`;
  }
  return null;
}

function checkStandardBid(
  p: StandardParams,
  bidder: string,
  bytes: Uint8Array,
  providerIds: ReadonlySet<string>,
): string | null {
  let bid;
  try {
    bid = decodeStandardBid(bytes);
  } catch (err) {
    return (err as Error).message;
  }
  const id = bid.kind === 'provider' ? bid.provider.id : bid.user.id;
  if (id !== bidder) return `the bid names ${id}, not ${bidder}`;
  if (bid.kind === 'provider' && !providerIds.has(bidder)) {
    return `${bidder} is not a configured provider, so it cannot report a capacity`;
  }
  if (bid.kind === 'user' && providerIds.has(bidder)) {
    return `${bidder} is a provider, so it cannot bid as a user`;
  }
  const vector = bid.kind === 'provider' ? bid.provider.capacity : bid.user.demand;
  if (vector.length !== p.resources) {
    return `${vector.length} resource types, the cluster has ${p.resources}`;
  }
  return null;
}
