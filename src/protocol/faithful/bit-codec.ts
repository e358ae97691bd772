/**
 * Fixed-width bit encodings of bids for the faithful bid agreement (protocols.md §3.1, §4).
 *
 * A bid becomes L bits: a leading validity flag, then the mechanism's numeric fields as
 * big-endian unsigned integers of fixed widths. The bidder's id is not encoded: the lane
 * position in the agreed registry names the bidder. The neutral bid is all zeros (flag 0);
 * decoding returns "neutral" for it and "invalid" (which the agreement also treats as neutral)
 * for every other pattern that is not a valid bid.
 *
 * Lanes are one byte per bit (0 or 1) while a provider computes, and packed MSB-first, lane 0
 * first, on the wire.
 *
 * @example
 *   const codec = bitCodecFor(doubleAuctionMechanism('safe'), new Set(['gw-1']));
 *   const lanes = new Uint8Array(codec.bits);
 *   codec.encode('user-7', encodeDoubleBid(bid), lanes, 0); // true: a valid bid
 *   codec.decode('user-7', lanes, 0); // { status: 'bid', bytes } equal to the input
 */
import { ConfigError, InvalidMessageError } from '../../core/errors.js';
import { MAX_PRICE, MAX_QUANTITY } from '../../core/units.js';
import { decodeDoubleBid, encodeDoubleBid } from '../../mechanisms/double/codec.js';
import type { DoubleBid } from '../../mechanisms/double/types.js';
import type { AuctionMechanism } from '../../mechanisms/mechanism.js';
import { bitLength } from '../drbg.js';

/** One numeric field of a bit layout. */
export interface BitField {
  readonly name: string;
  /** Width in bits; every value of the field's range fits. */
  readonly bits: number;
}

/** What L bits decode to. */
export type LaneDecoding =
  | { readonly status: 'neutral' }
  | { readonly status: 'bid'; readonly bytes: Uint8Array }
  | { readonly status: 'invalid'; readonly reason: string };

/** A mechanism's fixed-width bit encoding of its canonical bid bytes. */
export interface BidBitCodec {
  /** The mechanism kind it encodes. */
  readonly kind: string;
  /** L, bits per bid: 1 (validity flag) + the sum of the field widths. */
  readonly bits: number;
  /** The numeric fields after the flag, in order. */
  readonly fields: readonly BitField[];
  /**
   * Writes the L bits of `bidder`'s bid at lanes[offset..offset+L). A missing bid, bytes that
   * do not decode, or a bid of another bidder or kind is written as the neutral bid; returns
   * true when a valid bid was written.
   */
  encode(bidder: string, bytes: Uint8Array | undefined, lanes: Uint8Array, offset: number): boolean;
  /** Decodes lanes[offset..offset+L) into `bidder`'s canonical bid bytes, neutral or invalid. */
  decode(bidder: string, lanes: Uint8Array, offset: number): LaneDecoding;
}

/** Writes `value` as `bits` big-endian bits (one per byte) at lanes[offset..). */
export function writeBits(lanes: Uint8Array, offset: number, value: bigint, bits: number): void {
  const digits = value < 0n ? '' : value.toString(2);
  if (digits === '' || digits.length > bits) {
    throw new RangeError(`writeBits: ${value} does not fit ${bits} bits`);
  }
  const lead = bits - digits.length;
  lanes.fill(0, offset, offset + lead);
  for (let b = 0; b < digits.length; b++) lanes[offset + lead + b] = digits.charCodeAt(b) - 48;
}

/** Reads `bits` big-endian bits (one per byte, each 0 or 1) at lanes[offset..). */
export function readBits(lanes: Uint8Array, offset: number, bits: number): bigint {
  let digits = '0b0';
  for (let b = 0; b < bits; b++) digits += lanes[offset + b] === 0 ? '0' : '1';
  return BigInt(digits);
}

/** Packs lanes (one 0/1 per byte) MSB-first, lane 0 first, zero-padded to whole bytes. */
export function packBits(lanes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(lanes.length / 8));
  for (let l = 0; l < lanes.length; l++) {
    if (lanes[l] !== 0) out[l >> 3]! |= 0x80 >> (l & 7);
  }
  return out;
}

/**
 * Unpacks `count` lanes from packed bytes. Throws InvalidMessageError when the length is not
 * ⌈count/8⌉ or a padding bit is set, so that every lane vector has exactly one encoding.
 */
export function unpackBits(bytes: Uint8Array, count: number): Uint8Array {
  if (bytes.length !== Math.ceil(count / 8)) {
    throw new InvalidMessageError(
      `packed lanes: expected ${Math.ceil(count / 8)} bytes, got ${bytes.length}`,
    );
  }
  const out = new Uint8Array(count);
  for (let l = 0; l < count; l++) out[l] = (bytes[l >> 3]! >> (7 - (l & 7))) & 1;
  const tail = count & 7;
  if (tail !== 0 && (bytes[bytes.length - 1]! & (0xff >> tail)) !== 0) {
    throw new InvalidMessageError('packed lanes: a padding bit is set');
  }
  return out;
}

/** Price field width: MAX_PRICE = 10^12 < 2^40. */
const PRICE_BITS = bitLength(MAX_PRICE);
/** Quantity field width: MAX_QUANTITY = 10^9 < 2^30. */
const QUANTITY_BITS = bitLength(MAX_QUANTITY);

/**
 * The double auction's layout: flag ‖ price (40 bits) ‖ quantity (30 bits), L = 71. Whether
 * the price is an ask or a bid follows from the registry: a provider's id asks (price, capacity),
 * any other id bids (price, demand), exactly as the mechanism's checkBid decides it.
 */
export function doubleBitCodec(providerIds: ReadonlySet<string>): BidBitCodec {
  const fields: BitField[] = [
    { name: 'price', bits: PRICE_BITS },
    { name: 'quantity', bits: QUANTITY_BITS },
  ];
  const bits = 1 + PRICE_BITS + QUANTITY_BITS;

  const encode = (bidder: string, bytes: Uint8Array | undefined, lanes: Uint8Array, at: number) => {
    lanes.fill(0, at, at + bits);
    const bid = bytes === undefined ? null : tryDecode(bytes);
    const isProvider = providerIds.has(bidder);
    if (bid === null || bid.id !== bidder || (bid.kind === 'provider') !== isProvider) return false;

    // flag ‖ price ‖ quantity; the mechanism's bounds guarantee both fit their widths.
    lanes[at] = 1;
    const [price, quantity] =
      bid.kind === 'provider' ? [bid.ask, bid.capacity] : [bid.bid, bid.demand];
    writeBits(lanes, at + 1, price, PRICE_BITS);
    writeBits(lanes, at + 1 + PRICE_BITS, quantity, QUANTITY_BITS);
    return true;
  };

  const decode = (bidder: string, lanes: Uint8Array, at: number): LaneDecoding => {
    const price = readBits(lanes, at + 1, PRICE_BITS);
    const quantity = readBits(lanes, at + 1 + PRICE_BITS, QUANTITY_BITS);
    if (lanes[at] === 0) {
      if (price === 0n && quantity === 0n) return { status: 'neutral' };
      return { status: 'invalid', reason: 'validity flag 0 with non-zero fields' };
    }

    // Rebuild the canonical bytes; the mechanism's own encoder checks the bounds.
    const bid: DoubleBid = providerIds.has(bidder)
      ? { kind: 'provider', id: bidder, ask: price, capacity: quantity }
      : { kind: 'user', id: bidder, bid: price, demand: quantity };
    try {
      return { status: 'bid', bytes: encodeDoubleBid(bid) };
    } catch (err) {
      return { status: 'invalid', reason: err instanceof Error ? err.message : String(err) };
    }
  };

  return { kind: 'double', bits, fields, encode, decode };
}

/**
 * The bit codec of a mechanism, by its kind. Throws ConfigError for a mechanism without a
 * fixed-width layout (the faithful mode cannot run it).
 */
export function bitCodecFor(
  mechanism: Pick<AuctionMechanism, 'kind'>,
  providerIds: ReadonlySet<string>,
): BidBitCodec {
  if (mechanism.kind === 'double') return doubleBitCodec(providerIds);
  throw new ConfigError(
    `agreement faithful: the ${mechanism.kind} auction has no fixed-width bid encoding yet`,
  );
}

function tryDecode(bytes: Uint8Array): DoubleBid | null {
  try {
    return decodeDoubleBid(bytes);
  } catch {
    return null;
  }
}
