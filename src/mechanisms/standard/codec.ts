/**
 * Canonical encodings of the standard auction: a user's bid and a provider's capacity report
 * (the bytes agreed per bidder), a payment task's result (task 2.S) and the outcome (task 3).
 * Big-endian integers and length-prefixed strings (core/bytes.ts); every list in id order,
 * so one value has exactly one encoding and decode(encode(x)) = x.
 *
 * Decoders take untrusted bytes and fail closed: anything truncated, trailing, out of range,
 * out of order or inconsistent throws InvalidMessageError, never another error.
 *
 * Layouts:
 * - provider report: u8 1 ‖ id ‖ u16 R ‖ R × u64 capacity
 * - user bid: u8 2 ‖ id ‖ u16 R ‖ R × u64 demand ‖ u8 0 (all providers) | u8 1 ‖ u16 n ‖
 *   n × id (strictly ascending) ‖ u64 bid
 * - payments: u32 n ‖ n × (id ‖ u128 P_i), ids strictly ascending
 * - outcome: u8 version 1 ‖ mode ‖ u32 ε_ppm ‖ solver ‖ winners ‖ placements ‖ pivots ‖
 *   charges ‖ u128 W* ‖ u128 Σ b (winners) ‖ u128 Σ b (served) ‖ u128 revenue
 */
import { Reader, Writer } from '../../core/bytes.js';
import { AuctioneerError, InvalidMessageError } from '../../core/errors.js';
import { AGENT_ID_PATTERN, MAX_QUANTITY, compareIds } from '../../core/units.js';
import {
  LAMBDA_DENOMINATOR,
  MAX_EPSILON_PPM,
  type StandardAmount,
  type StandardAuctionOutcome,
  type StandardMode,
  type StandardProvider,
  type StandardUser,
} from './types.js';
import {
  MAX_RESOURCES,
  MAX_STANDARD_BID,
  MAX_STANDARD_PROVIDERS,
  parseStandardProvider,
  parseStandardUser,
} from './validate.js';

const TAG_PROVIDER = 1;
const TAG_USER = 2;
const OUTCOME_VERSION = 1;
const U64 = (1n << 64n) - 1n;
/** Largest pivot P_i: w_i = (D − e_i)·b_i ≤ D·MAX_STANDARD_BID. */
const MAX_PIVOT = LAMBDA_DENOMINATOR * MAX_STANDARD_BID;
/** Smallest encoded list entry: a u32 length prefix and a 1-byte id. */
const MIN_ENTRY = 5;

/** A decoded report: a provider's capacities or a user's bid. */
export type StandardReport =
  | { readonly kind: 'provider'; readonly provider: StandardProvider }
  | { readonly kind: 'user'; readonly user: StandardUser };

/**
 * Canonical bytes of a provider's capacity report.
 *
 * @throws InvalidInputError when the report is not valid (parseStandardProvider)
 */
export function encodeStandardProvider(p: StandardProvider): Uint8Array {
  const valid = parseStandardProvider(p, 'provider');
  const w = new Writer().u8(TAG_PROVIDER).string(valid.id).u16(valid.capacity.length);
  for (const c of valid.capacity) w.u64(c);
  return w.finish().slice();
}

/**
 * Canonical bytes of a user's bid; the accepted ids are written sorted.
 *
 * @throws InvalidInputError when the bid is not valid (parseStandardUser)
 */
export function encodeStandardBid(u: StandardUser): Uint8Array {
  const valid = parseStandardUser(u, 'bid');
  const w = new Writer().u8(TAG_USER).string(valid.id).u16(valid.demand.length);
  for (const d of valid.demand) w.u64(d);
  if (valid.accepts === null) w.u8(0);
  else {
    w.u8(1).u16(valid.accepts.length);
    for (const a of [...valid.accepts].sort(compareIds)) w.string(a);
  }
  return w.u64(valid.bid).finish().slice();
}

/**
 * Decodes a report (provider capacities or user bid) from untrusted bytes.
 *
 * @throws InvalidMessageError for anything but the canonical encoding of a valid report
 */
export function decodeStandardBid(bytes: Uint8Array): StandardReport {
  return closed('standard bid', () => {
    const r = new Reader(bytes, 'standard bid');
    const tag = r.u8();
    if (tag !== TAG_PROVIDER && tag !== TAG_USER) {
      throw new InvalidMessageError(`standard bid: unknown tag ${tag}`);
    }
    const id = agentId(r);
    const R = r.u16();
    if (R < 1 || R > MAX_RESOURCES) throw new InvalidMessageError(`standard bid: ${R} resources`);
    const vector = Array.from({ length: R }, () => quantity(r));

    if (tag === TAG_PROVIDER) {
      r.end();
      return { kind: 'provider', provider: { id, capacity: vector } };
    }
    if (vector.every((d) => d === 0n)) throw new InvalidMessageError('standard bid: zero demand');

    // Accepted ids: a flag, then a strictly ascending list.
    let accepts: string[] | null = null;
    const has = r.u8();
    if (has === 1) {
      const n = r.u16();
      if (n > MAX_STANDARD_PROVIDERS) {
        throw new InvalidMessageError('standard bid: too many accepted ids');
      }
      accepts = Array.from({ length: n }, () => agentId(r));
      ascending(accepts, 'standard bid: accepted ids');
    } else if (has !== 0) {
      throw new InvalidMessageError(`standard bid: bad accepts flag ${has}`);
    }
    const bid = r.u64();
    if (bid > MAX_STANDARD_BID) throw new InvalidMessageError(`standard bid: bid ${bid} too large`);
    r.end();
    return { kind: 'user', user: { id, demand: vector, accepts, bid } };
  });
}

/**
 * Canonical bytes of a payment task's result: (user id, P_i scaled by D), ids ascending.
 *
 * @throws RangeError for a pivot outside [0, D·MAX_STANDARD_BID] or a bad id
 */
export function encodePayments(pivots: ReadonlyMap<string, bigint>): Uint8Array {
  const ids = [...pivots.keys()].sort(compareIds);
  const w = new Writer().u32(ids.length);
  for (const id of ids) {
    const p = pivots.get(id)!;
    if (!AGENT_ID_PATTERN.test(id)) throw new RangeError(`payments: bad id ${id}`);
    if (p < 0n || p > MAX_PIVOT) throw new RangeError(`payments: pivot ${p} out of range`);
    u128(w.string(id), p);
  }
  return w.finish().slice();
}

/**
 * Decodes a payment task's result from untrusted bytes.
 *
 * @returns P_i per user id, in ascending id order
 * @throws InvalidMessageError for anything but a canonical encoding
 */
export function decodePayments(bytes: Uint8Array): Map<string, bigint> {
  return closed('payments', () => {
    const r = new Reader(bytes, 'payments');
    const entries = list(r, 'payments', () => {
      const id = agentId(r);
      return { id, amount: amount(r, MAX_PIVOT, 'payments: pivot') };
    });
    ascending(
      entries.map((e) => e.id),
      'payments: ids',
    );
    r.end();
    return new Map(entries.map((e) => [e.id, e.amount]));
  });
}

/**
 * Canonical bytes of an outcome.
 *
 * @throws RangeError for negative or oversized amounts
 */
export function encodeStandardOutcome(o: StandardAuctionOutcome): Uint8Array {
  const w = new Writer().u8(OUTCOME_VERSION).string(o.mode).u32(o.epsilonPpm).string(o.solver);
  w.u32(o.winners.length);
  for (const id of o.winners) w.string(id);
  w.u32(o.placements.length);
  for (const p of o.placements) w.string(p.user).string(p.provider);
  w.u32(o.pivots.length);
  for (const p of o.pivots) u128(w.string(p.id), p.amount);
  w.u32(o.charges.length);
  for (const c of o.charges) u128(w.string(c.id), c.amount);
  for (const v of [o.perturbedWelfare, o.winnersBid, o.servedBid, o.revenue]) u128(w, v);
  return w.finish().slice();
}

/**
 * Decodes an outcome from untrusted bytes (the inverse of encodeStandardOutcome), checking
 * what an outcome must satisfy: lists in strictly ascending user order, placements only for
 * winners, one pivot per winner, one charge per served user, revenue = Σ charges, served
 * bids ≤ winners' bids.
 *
 * @throws InvalidMessageError otherwise
 */
export function decodeStandardOutcome(bytes: Uint8Array): StandardAuctionOutcome {
  return closed('standard outcome', () => {
    const r = new Reader(bytes, 'standard outcome');
    const version = r.u8();
    if (version !== OUTCOME_VERSION) throw new InvalidMessageError(`outcome version ${version}`);
    const mode = r.string(8);
    if (mode !== 'midr' && mode !== 'wvcg') throw new InvalidMessageError(`outcome mode ${mode}`);
    const epsilonPpm = r.u32();
    if (epsilonPpm > MAX_EPSILON_PPM) throw new InvalidMessageError(`outcome ε ${epsilonPpm}`);
    const solver = r.string(128);
    if (!/^[a-z0-9./-]{1,128}$/.test(solver)) throw new InvalidMessageError('outcome solver name');

    // The four lists, then the four totals.
    const winners = list(r, 'outcome winners', () => agentId(r));
    const placements = list(r, 'outcome placements', () => ({
      user: agentId(r),
      provider: agentId(r),
    }));
    const pivots = list(r, 'outcome pivots', () => entry(r, MAX_PIVOT));
    const charges = list(r, 'outcome charges', () => entry(r, MAX_STANDARD_BID));
    const [perturbedWelfare, winnersBid, servedBid, revenue] = [0, 1, 2, 3].map(() =>
      amount(r, (1n << 128n) - 1n, 'outcome total'),
    ) as [bigint, bigint, bigint, bigint];
    r.end();

    // Consistency between the lists.
    ascending(winners, 'outcome winners');
    const served = placements.map((p) => p.user);
    ascending(served, 'outcome placements');
    const winnerSet = new Set(winners);
    if (served.some((u) => !winnerSet.has(u))) {
      throw new InvalidMessageError('outcome: a placement for a user that did not win');
    }
    same(
      pivots.map((p) => p.id),
      winners,
      'outcome: pivots are not one per winner',
    );
    same(
      charges.map((c) => c.id),
      served,
      'outcome: charges are not one per served user',
    );
    if (charges.reduce((t, c) => t + c.amount, 0n) !== revenue) {
      throw new InvalidMessageError('outcome: revenue is not the sum of the charges');
    }
    if (servedBid > winnersBid) throw new InvalidMessageError('outcome: served bids above winners');

    return {
      mode: mode as StandardMode,
      epsilonPpm,
      solver,
      winners,
      placements,
      pivots,
      charges,
      perturbedWelfare,
      winnersBid,
      servedBid,
      revenue,
    };
  });
}

/** A JSON-safe summary of an outcome (amounts as decimal strings). */
export function standardOutcomeToJson(o: StandardAuctionOutcome): Record<string, unknown> {
  return {
    mode: o.mode,
    epsilonPpm: o.epsilonPpm,
    solver: o.solver,
    winners: o.winners.length,
    served: o.placements.length,
    placements: o.placements,
    pivots: o.pivots.map((p) => ({ id: p.id, amount: String(p.amount) })),
    charges: o.charges.map((c) => ({ id: c.id, amount: String(c.amount) })),
    perturbedWelfare: String(o.perturbedWelfare),
    winnersBid: String(o.winnersBid),
    servedBid: String(o.servedBid),
    revenue: String(o.revenue),
  };
}

/** Runs a decoder, turning any non-InvalidMessageError failure into one (fail closed). */
function closed<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof InvalidMessageError) throw err;
    const why = err instanceof AuctioneerError || err instanceof Error ? err.message : String(err);
    throw new InvalidMessageError(`${what}: ${why}`);
  }
}

function list<T>(r: Reader, what: string, f: () => T): T[] {
  const n = r.u32();
  if (n > r.remaining / MIN_ENTRY)
    throw new InvalidMessageError(`${what}: ${n} entries cannot fit`);
  return Array.from({ length: n }, f);
}

function entry(r: Reader, max: bigint): StandardAmount {
  const id = agentId(r);
  return { id, amount: amount(r, max, 'outcome amount') };
}

function agentId(r: Reader): string {
  const id = r.string(128);
  if (!AGENT_ID_PATTERN.test(id)) {
    throw new InvalidMessageError(`bad agent id ${JSON.stringify(id)}`);
  }
  return id;
}

function quantity(r: Reader): bigint {
  const q = r.u64();
  if (q > MAX_QUANTITY) throw new InvalidMessageError(`quantity ${q} above ${MAX_QUANTITY}`);
  return q;
}

function amount(r: Reader, max: bigint, what: string): bigint {
  const v = (r.u64() << 64n) | r.u64();
  if (v > max) throw new InvalidMessageError(`${what} ${v} above ${max}`);
  return v;
}

function ascending(ids: readonly string[], what: string): void {
  for (let i = 1; i < ids.length; i++) {
    if (compareIds(ids[i - 1]!, ids[i]!) >= 0) {
      throw new InvalidMessageError(`${what} not strictly ascending at ${ids[i]}`);
    }
  }
}

function same(a: readonly string[], b: readonly string[], message: string): void {
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) throw new InvalidMessageError(message);
}

function u128(w: Writer, v: bigint): Writer {
  if (v < 0n || v >> 128n !== 0n) throw new RangeError(`u128 out of range: ${v}`);
  return w.u64(v >> 64n).u64(v & U64);
}
