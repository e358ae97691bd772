/**
 * Canonical encodings of the standard auction: a user's bid and a provider's capacity report
 * (the bytes agreed per bidder), a payment task's result, and the outcome. Decoders take
 * untrusted bytes and fail closed with InvalidMessageError.
 */
import { Reader, Writer } from '../../core/bytes.js';
import { InvalidMessageError } from '../../core/errors.js';
import { AGENT_ID_PATTERN, MAX_QUANTITY } from '../../core/units.js';
import { MAX_STANDARD_BID } from './pvcg.js';
import type {
  StandardAuctionOutcome,
  StandardMode,
  StandardProvider,
  StandardUser,
} from './types.js';

const TAG_PROVIDER = 1;
const TAG_USER = 2;
const OUTCOME_VERSION = 1;
const MAX_RESOURCES = 64;
const MAX_ACCEPTS = 65_535;
const U64 = (1n << 64n) - 1n;

/** A decoded report: a provider's capacities or a user's bid. */
export type StandardReport =
  | { readonly kind: 'provider'; readonly provider: StandardProvider }
  | { readonly kind: 'user'; readonly user: StandardUser };

/** Canonical bytes of a provider's capacity report. */
export function encodeStandardProvider(p: StandardProvider): Uint8Array {
  const w = new Writer().u8(TAG_PROVIDER).string(p.id).u16(p.capacity.length);
  for (const c of p.capacity) w.u64(c);
  return w.finish().slice();
}

/** Canonical bytes of a user's bid. */
export function encodeStandardBid(u: StandardUser): Uint8Array {
  const w = new Writer().u8(TAG_USER).string(u.id).u16(u.demand.length);
  for (const d of u.demand) w.u64(d);
  if (u.accepts === null) w.u8(0);
  else {
    w.u8(1).u16(u.accepts.length);
    for (const a of [...u.accepts].sort()) w.string(a);
  }
  return w.u64(u.bid).finish().slice();
}

/** Decodes a report from untrusted bytes. */
export function decodeStandardBid(bytes: Uint8Array): StandardReport {
  const r = new Reader(bytes, 'standard bid');
  const tag = r.u8();
  const id = agentId(r);
  const R = r.u16();
  if (R < 1 || R > MAX_RESOURCES) throw new InvalidMessageError(`standard bid: ${R} resources`);
  const vector = Array.from({ length: R }, () => quantity(r));

  if (tag === TAG_PROVIDER) {
    r.end();
    return { kind: 'provider', provider: { id, capacity: vector } };
  }
  if (tag !== TAG_USER) throw new InvalidMessageError(`standard bid: unknown tag ${tag}`);
  if (vector.every((d) => d === 0n)) throw new InvalidMessageError('standard bid: zero demand');
  let accepts: string[] | null = null;
  const has = r.u8();
  if (has === 1) {
    const n = r.u16();
    if (n > MAX_ACCEPTS) throw new InvalidMessageError('standard bid: too many accepted ids');
    accepts = Array.from({ length: n }, () => agentId(r));
    if (accepts.some((a, i) => i > 0 && accepts![i - 1]! >= a)) {
      throw new InvalidMessageError('standard bid: accepted ids not sorted and unique');
    }
  } else if (has !== 0) throw new InvalidMessageError(`standard bid: bad accepts flag ${has}`);
  const bid = r.u64();
  if (bid > MAX_STANDARD_BID) throw new InvalidMessageError(`standard bid: bid ${bid} too large`);
  r.end();
  return { kind: 'user', user: { id, demand: vector, accepts, bid } };
}

/** Canonical bytes of a payment task's result: (user id, P_i scaled by D) in winner order. */
export function encodePayments(pivots: ReadonlyMap<string, bigint>): Uint8Array {
  const w = new Writer().u32(pivots.size);
  for (const [id, p] of pivots) u128(w.string(id), p);
  return w.finish().slice();
}

/** Decodes a payment task's result from untrusted bytes. */
export function decodePayments(bytes: Uint8Array): Map<string, bigint> {
  const r = new Reader(bytes, 'payments');
  const n = r.u32();
  if (n > r.remaining) throw new InvalidMessageError(`payments: ${n} entries cannot fit`);
  const out = new Map<string, bigint>();
  for (let i = 0; i < n; i++) {
    const id = agentId(r);
    if (out.has(id)) throw new InvalidMessageError(`payments: ${id} twice`);
    out.set(id, readU128(r));
  }
  r.end();
  return out;
}

/** Canonical bytes of an outcome. */
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

/** Decodes an outcome from untrusted bytes (the inverse of encodeStandardOutcome). */
export function decodeStandardOutcome(bytes: Uint8Array): StandardAuctionOutcome {
  const r = new Reader(bytes, 'standard outcome');
  const version = r.u8();
  if (version !== OUTCOME_VERSION) throw new InvalidMessageError(`outcome version ${version}`);
  const mode = r.string(8);
  if (mode !== 'midr' && mode !== 'wvcg') throw new InvalidMessageError(`outcome mode ${mode}`);
  const epsilonPpm = r.u32();
  const solver = r.string(128);
  const list = <T>(f: () => T): T[] => {
    const n = r.u32();
    if (n > r.remaining) throw new InvalidMessageError(`standard outcome: ${n} entries`);
    return Array.from({ length: n }, f);
  };
  const winners = list(() => agentId(r));
  const placements = list(() => ({ user: agentId(r), provider: agentId(r) }));
  const pivots = list(() => ({ id: agentId(r), amount: readU128(r) }));
  const charges = list(() => ({ id: agentId(r), amount: readU128(r) }));
  const [perturbedWelfare, winnersBid, servedBid, revenue] = [0, 1, 2, 3].map(() => readU128(r));
  r.end();
  return {
    mode: mode as StandardMode,
    epsilonPpm,
    solver,
    winners,
    placements,
    pivots,
    charges,
    perturbedWelfare: perturbedWelfare!,
    winnersBid: winnersBid!,
    servedBid: servedBid!,
    revenue: revenue!,
  };
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
    charges: o.charges.map((c) => ({ id: c.id, amount: String(c.amount) })),
    perturbedWelfare: String(o.perturbedWelfare),
    winnersBid: String(o.winnersBid),
    servedBid: String(o.servedBid),
    revenue: String(o.revenue),
  };
}

function agentId(r: Reader): string {
  const id = r.string(128);
  if (!AGENT_ID_PATTERN.test(id))
    throw new InvalidMessageError(`bad agent id ${JSON.stringify(id)}`);
  return id;
}

function quantity(r: Reader): bigint {
  const q = r.u64();
  if (q > MAX_QUANTITY) throw new InvalidMessageError(`quantity ${q} above ${MAX_QUANTITY}`);
  return q;
}

function u128(w: Writer, v: bigint): Writer {
  if (v < 0n || v >> 128n !== 0n) throw new RangeError(`u128 out of range: ${v}`);
  return w.u64(v >> 64n).u64(v & U64);
}

function readU128(r: Reader): bigint {
  return (r.u64() << 64n) | r.u64();
}
