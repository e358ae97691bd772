/**
 * Payload layouts of the faithful mode's phases (protocols.md §4.1, §4.2, §7.2), all canonical
 * (big-endian, length-prefixed, no trailing bytes). Every decoder takes untrusted bytes and
 * throws InvalidMessageError on anything else.
 *
 *   KS_SHARE   u16[W]                         W = N lanes (+ n leader lanes under `leader`)
 *   KS_READY   empty
 *   KS_REVEAL  echo of the m signed KS_SHARE envelopes this provider received (origin order)
 *   BA_COMMIT  C_j (32 B)
 *   BA_REVEAL  bytes(X_j packed) ‖ R_j (32) ‖ nonce_j (32) ‖ echo of the m BA_COMMIT envelopes
 *   CC_COMMIT  H_b (32) ‖ K_j (32)
 *   CC_REVEAL  ρ_j (32) ‖ nonce_j (32) ‖ echo of the m CC_COMMIT envelopes
 *
 * An echo is u16 count ‖ count × bytes(envelope).
 */
import { endianness } from 'node:os';
import { Reader, Writer, utf8 } from '../../core/bytes.js';
import { InvalidMessageError } from '../../core/errors.js';
import { sha256 } from '../../core/hash.js';
import { FIELD_PRIME } from './shamir.js';

const LITTLE_ENDIAN = endianness() === 'LE';

/** Field elements as u16 big-endian, no prefix (the width is fixed by the session). */
export function encodeShares(values: Uint16Array): Uint8Array {
  const copy = Uint16Array.from(values);
  const bytes = Buffer.from(copy.buffer, 0, copy.byteLength);
  if (LITTLE_ENDIAN) bytes.swap16();
  return new Uint8Array(copy.buffer);
}

/**
 * Field elements from a KS_SHARE payload of exactly `width` u16 values, each below p.
 * Throws InvalidMessageError naming the first value out of range.
 */
export function decodeShares(payload: Uint8Array, width: number): Uint16Array {
  if (payload.length !== 2 * width) {
    throw new InvalidMessageError(`shares: expected ${2 * width} bytes, got ${payload.length}`);
  }
  const out = new Uint16Array(width);
  const bytes = Buffer.from(out.buffer, 0, out.byteLength);
  bytes.set(payload);
  if (LITTLE_ENDIAN) bytes.swap16();
  for (let l = 0; l < width; l++) {
    if (out[l]! >= FIELD_PRIME) {
      throw new InvalidMessageError(
        `shares: value ${out[l]} at lane ${l} is not below ${FIELD_PRIME}`,
      );
    }
  }
  return out;
}

/** Appends an echo of signed envelopes. */
export function writeEcho(w: Writer, envelopes: readonly Uint8Array[]): Writer {
  w.u16(envelopes.length);
  for (const e of envelopes) w.bytes(e);
  return w;
}

/** Reads an echo of exactly m envelopes, each at most maxBytes. */
export function readEcho(r: Reader, m: number, maxBytes: number): Uint8Array[] {
  const count = r.u16();
  if (count !== m) throw new InvalidMessageError(`echo of ${count} envelopes, expected ${m}`);
  const out: Uint8Array[] = [];
  for (let s = 0; s < count; s++) out.push(r.bytes(maxBytes));
  return out;
}

/** KS_REVEAL: the echo of the KS_SHARE envelopes from origins 0..m-1. */
export function encodeKsReveal(shareEnvelopes: readonly Uint8Array[]): Uint8Array {
  const size = shareEnvelopes.reduce((s, e) => s + e.length + 4, 2);
  return writeEcho(new Writer(size), shareEnvelopes).finish();
}

/** Decodes a KS_REVEAL into its m echoed envelopes. */
export function decodeKsReveal(payload: Uint8Array, m: number, maxBytes: number): Uint8Array[] {
  const r = new Reader(payload, 'KS_REVEAL');
  const echo = readEcho(r, m, maxBytes);
  r.end();
  return echo;
}

/** The `crypto` KS commitment C_j = SHA256("DA/ks/v1" ‖ sid ‖ u16be(j) ‖ X_j ‖ R_j ‖ nonce_j). */
export function ksCommitment(
  sid: Uint8Array,
  j: number,
  packed: Uint8Array,
  seed: Uint8Array,
  nonce: Uint8Array,
): Uint8Array {
  const head = new Writer(64).raw(utf8('DA/ks/v1')).raw(sid).u16(j).finish();
  return sha256(head, packed, seed, nonce);
}

/** An opened `crypto` KS reveal. */
export interface KsOpening {
  readonly packed: Uint8Array;
  readonly seed: Uint8Array;
  readonly nonce: Uint8Array;
  readonly echo: Uint8Array[];
}

/** BA_REVEAL of the faithful `crypto` flavour. */
export function encodeKsOpening(o: KsOpening): Uint8Array {
  const w = new Writer(o.packed.length + 80 + o.echo.length * 200).bytes(o.packed);
  return writeEcho(w.raw(o.seed).raw(o.nonce), o.echo).finish();
}

/** Decodes a faithful BA_REVEAL; the packed lanes must be exactly packedBytes long. */
export function decodeKsOpening(payload: Uint8Array, m: number, packedBytes: number): KsOpening {
  const r = new Reader(payload, 'BA_REVEAL');
  const packed = r.bytes(packedBytes);
  if (packed.length !== packedBytes) {
    throw new InvalidMessageError(`BA_REVEAL: ${packed.length} bytes of lanes, not ${packedBytes}`);
  }
  const seed = r.raw(32);
  const nonce = r.raw(32);
  const echo = readEcho(r, m, 64 * 1024);
  r.end();
  return { packed, seed, nonce, echo };
}

/**
 * The coin commitment K_j = SHA256("DA/coin/v1" ‖ sid ‖ u32be(c) ‖ u16be(j) ‖ H_b ‖ ρ_j ‖
 * nonce_j) of §7.2, coin index c = 0.
 */
export function coinCommitment(
  sid: Uint8Array,
  j: number,
  bidsHash: Uint8Array,
  rho: Uint8Array,
  nonce: Uint8Array,
): Uint8Array {
  const w = new Writer(160).raw(utf8('DA/coin/v1')).raw(sid).u32(0).u16(j);
  return sha256(w.raw(bidsHash).raw(rho).raw(nonce).finish());
}

/** CC_COMMIT: H_b in clear and K_j. */
export function decodeCoinCommit(payload: Uint8Array): {
  bidsHash: Uint8Array;
  commitment: Uint8Array;
} {
  if (payload.length !== 64) {
    throw new InvalidMessageError(`CC_COMMIT: expected 64 bytes, got ${payload.length}`);
  }
  return { bidsHash: payload.subarray(0, 32), commitment: payload.subarray(32) };
}

/** An opened coin contribution. */
export interface CoinOpening {
  readonly rho: Uint8Array;
  readonly nonce: Uint8Array;
  readonly echo: Uint8Array[];
}

/** CC_REVEAL: ρ_j, nonce_j and the echo of the CC_COMMIT envelopes. */
export function encodeCoinOpening(o: CoinOpening): Uint8Array {
  return writeEcho(new Writer(80 + o.echo.length * 200).raw(o.rho).raw(o.nonce), o.echo).finish();
}

/** Decodes a CC_REVEAL. */
export function decodeCoinOpening(payload: Uint8Array, m: number): CoinOpening {
  const r = new Reader(payload, 'CC_REVEAL');
  const rho = r.raw(32);
  const nonce = r.raw(32);
  const echo = readEcho(r, m, 64 * 1024);
  r.end();
  return { rho, nonce, echo };
}
