/**
 * Canonical binary encodings of double-auction bids and outcomes (core/bytes.ts conventions:
 * big-endian integers, u32 length prefixes). These bytes are hashed and signed, so each value
 * has exactly one encoding: every byte string that decodes re-encodes to itself, and decoding
 * fails closed (InvalidMessageError) on anything else.
 *
 * Money amounts (payments, charges, Φ, welfare) are u128 (two u64, high word first): a price
 * times a quantity can reach MAX_PRICE·MAX_QUANTITY = 10^21, beyond u64.
 */
import { AuctioneerError, InvalidInputError, InvalidMessageError } from '../../core/errors.js';
import { Reader, Writer } from '../../core/bytes.js';
import { MAX_PRICE, MAX_QUANTITY, checkAgentId } from '../../core/units.js';
import { validateDoubleAuctionInput } from './star.js';
import type {
  AllocationEntry,
  DoubleAuctionOutcome,
  DoubleBid,
  Transfer,
  WinnerRule,
} from './types.js';

/** Kind tag of a provider's ask in encodeDoubleBid. */
export const DOUBLE_BID_TAG_PROVIDER = 1;

/** Kind tag of a user's bid in encodeDoubleBid. */
export const DOUBLE_BID_TAG_USER = 2;

/** Version byte that opens every encoded DoubleAuctionOutcome. */
export const DOUBLE_OUTCOME_VERSION = 1;

const RULE_CODES: Readonly<Record<WinnerRule, number>> = { safe: 1, paper: 2 };
const MAX_ID_BYTES = 128;
const U64_MASK = (1n << 64n) - 1n;
const U128_MAX = (1n << 128n) - 1n;

/**
 * Encodes one bid: u8 kind tag (1 provider, 2 user), the id as a u32-length-prefixed string,
 * then the price and the quantity as u64. Throws InvalidInputError on an invalid bid.
 */
export function encodeDoubleBid(b: DoubleBid): Uint8Array {
  checkBid(b);

  const w = new Writer(32);
  if (b.kind === 'provider') {
    w.u8(DOUBLE_BID_TAG_PROVIDER).string(b.id).u64(b.ask).u64(b.capacity);
  } else {
    w.u8(DOUBLE_BID_TAG_USER).string(b.id).u64(b.bid).u64(b.demand);
  }
  return w.finish().slice();
}

/**
 * Decodes untrusted bytes into a bid. Throws InvalidMessageError when the bytes are truncated,
 * have trailing bytes, carry an unknown tag, an invalid id or a value out of range.
 */
export function decodeDoubleBid(bytes: Uint8Array): DoubleBid {
  return failClosed('double bid', () => {
    const r = new Reader(bytes, 'double bid');

    const tag = r.u8();
    if (tag !== DOUBLE_BID_TAG_PROVIDER && tag !== DOUBLE_BID_TAG_USER) {
      throw new InvalidMessageError(`double bid: unknown kind tag ${tag}`);
    }
    const id = r.string(MAX_ID_BYTES);
    const price = r.u64();
    const quantity = r.u64();
    r.end();

    const bid: DoubleBid =
      tag === DOUBLE_BID_TAG_PROVIDER
        ? { kind: 'provider', id, ask: price, capacity: quantity }
        : { kind: 'user', id, bid: price, demand: quantity };
    checkBid(bid);
    return bid;
  });
}

/**
 * Encodes an outcome: version byte, rule byte (1 safe, 2 paper), the winner id lists, the
 * allocation (provider, user, u64 units), padding (id, u64 units), payments and charges
 * (id, u128), clearing ask and bid (u8 presence flag, then u64 when present), Φ and welfare
 * (u128). Lists are a u32 count followed by the entries, in the outcome's order.
 * Throws InvalidInputError when a field cannot be encoded (bad id, negative or oversized value).
 */
export function encodeDoubleOutcome(o: DoubleAuctionOutcome): Uint8Array {
  checkOutcome(o);

  const w = new Writer(256);
  w.u8(DOUBLE_OUTCOME_VERSION).u8(RULE_CODES[o.rule]);

  writeList(w, o.winningProviders, (id) => w.string(id));
  writeList(w, o.winningUsers, (id) => w.string(id));
  writeList(w, o.allocation, (e) => w.string(e.provider).string(e.user).u64(e.units));
  writeList(w, o.padding, (e) => w.string(e.id).u64(e.amount));
  writeList(w, o.providerPayments, (e) => writeU128(w.string(e.id), e.amount));
  writeList(w, o.userCharges, (e) => writeU128(w.string(e.id), e.amount));

  writeOptionalU64(w, o.clearingAsk);
  writeOptionalU64(w, o.clearingBid);
  writeU128(w, o.surplus);
  writeU128(w, o.welfare);
  return w.finish().slice();
}

/**
 * Decodes untrusted bytes into an outcome; the exact inverse of encodeDoubleOutcome. Throws
 * InvalidMessageError on a wrong version or rule, truncation, trailing bytes, an invalid id,
 * a flag other than 0/1 or a value out of range.
 */
export function decodeDoubleOutcome(bytes: Uint8Array): DoubleAuctionOutcome {
  return failClosed('double outcome', () => {
    const r = new Reader(bytes, 'double outcome');

    const version = r.u8();
    if (version !== DOUBLE_OUTCOME_VERSION) {
      throw new InvalidMessageError(`double outcome: unknown version ${version}`);
    }
    const ruleCode = r.u8();
    const rule = (Object.keys(RULE_CODES) as WinnerRule[]).find((k) => RULE_CODES[k] === ruleCode);
    if (rule === undefined)
      throw new InvalidMessageError(`double outcome: unknown rule ${ruleCode}`);

    const winningProviders = readList(r, () => r.string(MAX_ID_BYTES));
    const winningUsers = readList(r, () => r.string(MAX_ID_BYTES));
    const allocation = readList(r, (): AllocationEntry => ({
      provider: r.string(MAX_ID_BYTES),
      user: r.string(MAX_ID_BYTES),
      units: r.u64(),
    }));
    const padding = readList(r, (): Transfer => ({ id: r.string(MAX_ID_BYTES), amount: r.u64() }));
    const providerPayments = readList(r, () => readTransfer128(r));
    const userCharges = readList(r, () => readTransfer128(r));

    const clearingAsk = readOptionalU64(r);
    const clearingBid = readOptionalU64(r);
    const surplus = readU128(r);
    const welfare = readU128(r);
    r.end();

    const outcome: DoubleAuctionOutcome = {
      rule,
      winningProviders,
      winningUsers,
      allocation,
      padding,
      providerPayments,
      userCharges,
      clearingAsk,
      clearingBid,
      surplus,
      welfare,
    };
    checkOutcome(outcome);
    return outcome;
  });
}

/**
 * A plain JSON-safe copy of an outcome for printing and logs: bigints become decimal strings,
 * null clearing prices stay null, lists keep their order.
 */
export function doubleOutcomeToJson(o: DoubleAuctionOutcome): Record<string, unknown> {
  const transfer = (e: Transfer) => ({ id: e.id, amount: e.amount.toString() });

  return {
    rule: o.rule,
    winningProviders: [...o.winningProviders],
    winningUsers: [...o.winningUsers],
    allocation: o.allocation.map((e) => ({
      provider: e.provider,
      user: e.user,
      units: e.units.toString(),
    })),
    padding: o.padding.map(transfer),
    providerPayments: o.providerPayments.map(transfer),
    userCharges: o.userCharges.map(transfer),
    clearingAsk: o.clearingAsk === null ? null : o.clearingAsk.toString(),
    clearingBid: o.clearingBid === null ? null : o.clearingBid.toString(),
    surplus: o.surplus.toString(),
    welfare: o.welfare.toString(),
  };
}

/** Runs a decoder and turns every failure into InvalidMessageError (fail closed). */
function failClosed<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof InvalidMessageError) throw err;
    if (err instanceof AuctioneerError) throw new InvalidMessageError(`${what}: ${err.message}`);
    throw new InvalidMessageError(`${what}: malformed (${String(err)})`);
  }
}

/** The same bounds as validateDoubleAuctionInput, on one bid. */
function checkBid(b: DoubleBid): void {
  if (typeof b !== 'object' || b === null) throw new InvalidInputError('bid', b, 'a double bid');
  if (b.kind === 'provider') {
    validateDoubleAuctionInput({ providers: [b], users: [], rule: 'safe' });
  } else if (b.kind === 'user') {
    validateDoubleAuctionInput({ providers: [], users: [b], rule: 'safe' });
  } else {
    throw new InvalidInputError('bid.kind', (b as { kind: unknown }).kind, '"provider" or "user"');
  }
}

/** Field-level checks shared by encode and decode, so that both accept exactly the same set. */
function checkOutcome(o: DoubleAuctionOutcome): void {
  if (!(o.rule in RULE_CODES)) throw new InvalidInputError('outcome.rule', o.rule, 'safe or paper');

  o.winningProviders.forEach((id, k) => checkAgentId(`outcome.winningProviders[${k}]`, id));
  o.winningUsers.forEach((id, i) => checkAgentId(`outcome.winningUsers[${i}]`, id));
  o.allocation.forEach((e, j) => {
    checkAgentId(`outcome.allocation[${j}].provider`, e.provider);
    checkAgentId(`outcome.allocation[${j}].user`, e.user);
    checkRange(`outcome.allocation[${j}].units`, e.units, 1n, MAX_QUANTITY);
  });
  o.padding.forEach((e, j) => {
    checkAgentId(`outcome.padding[${j}].id`, e.id);
    checkRange(`outcome.padding[${j}].amount`, e.amount, 1n, MAX_QUANTITY);
  });
  o.providerPayments.forEach((e, k) => {
    checkAgentId(`outcome.providerPayments[${k}].id`, e.id);
    checkRange(`outcome.providerPayments[${k}].amount`, e.amount, 0n, U128_MAX);
  });
  o.userCharges.forEach((e, i) => {
    checkAgentId(`outcome.userCharges[${i}].id`, e.id);
    checkRange(`outcome.userCharges[${i}].amount`, e.amount, 0n, U128_MAX);
  });

  if (o.clearingAsk !== null) checkRange('outcome.clearingAsk', o.clearingAsk, 0n, MAX_PRICE);
  if (o.clearingBid !== null) checkRange('outcome.clearingBid', o.clearingBid, 0n, MAX_PRICE);
  checkRange('outcome.surplus', o.surplus, 0n, U128_MAX);
  checkRange('outcome.welfare', o.welfare, 0n, U128_MAX);
}

function checkRange(field: string, value: unknown, min: bigint, max: bigint): void {
  if (typeof value !== 'bigint' || value < min || value > max) {
    throw new InvalidInputError(field, value, `a bigint in [${min}, ${max}]`);
  }
}

function writeList<T>(w: Writer, items: readonly T[], put: (item: T) => unknown): void {
  w.u32(items.length);
  for (const item of items) put(item);
}

function readList<T>(r: Reader, get: () => T): T[] {
  const count = r.u32();
  if (count > r.remaining) {
    throw new InvalidMessageError(`double outcome: list of ${count} exceeds the message`);
  }
  const out: T[] = [];
  for (let j = 0; j < count; j++) out.push(get());
  return out;
}

function writeU128(w: Writer, v: bigint): Writer {
  return w.u64(v >> 64n).u64(v & U64_MASK);
}

function readU128(r: Reader): bigint {
  const hi = r.u64();
  return (hi << 64n) | r.u64();
}

function readTransfer128(r: Reader): Transfer {
  const id = r.string(MAX_ID_BYTES);
  return { id, amount: readU128(r) };
}

function writeOptionalU64(w: Writer, v: bigint | null): void {
  if (v === null) w.u8(0);
  else w.u8(1).u64(v);
}

function readOptionalU64(r: Reader): bigint | null {
  const flag = r.u8();
  if (flag === 0) return null;
  if (flag !== 1) throw new InvalidMessageError(`double outcome: presence flag ${flag} not 0/1`);
  return r.u64();
}
