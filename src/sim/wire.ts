/**
 * Byte-level tools the deviation strategies use on the protocol's messages: reading a frame's
 * phase and payload, resealing a payload under another key or sender, and the layouts of the
 * START and BA_REVEAL payloads (fast-round.ts) and of the faithful mode's reveals and shares
 * (faithful/wire.ts) taken apart and put back together.
 */
import { Reader, Writer } from '../core/bytes.js';
import { BROADCAST, openEnvelope, sealEnvelope } from '../protocol/envelope.js';
import type { SigningIdentity } from '../protocol/identity.js';
import { FIELD_PRIME } from '../protocol/faithful/shamir.js';
import type { PhaseCode } from '../protocol/phases.js';

/** Order of the Ed25519 group, L = 2^252 + 27742317777372353535851937790883648493. */
export const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** The phase byte of an envelope frame (offset 3), or -1 for a frame too short to have one. */
export function framePhase(frame: Uint8Array): number {
  return frame.length > 3 ? frame[3]! : -1;
}

/** The payload of a well-formed envelope frame. */
export function framePayload(frame: Uint8Array): Uint8Array {
  return openEnvelope(frame, frame.length).payload;
}

/** Seals `payload` as a message of `phase` from `from` (a broadcast unless `to` says). */
export function seal(
  id: SigningIdentity,
  phase: PhaseCode,
  sid: Uint8Array,
  from: number,
  payload: Uint8Array,
  to: number = BROADCAST,
): Uint8Array {
  return sealEnvelope(id, { phase, sid, from, to, payload });
}

/** A copy with byte i XOR `mask` (0xff by default; i is taken modulo the length). */
export function flipByte(bytes: Uint8Array, i: number, mask = 0xff): Uint8Array {
  const out = bytes.slice();
  if (out.length === 0) return out;
  const at = ((i % out.length) + out.length) % out.length;
  out[at] = out[at]! ^ (mask & 0xff || 1);
  return out;
}

/** The signature of an envelope with S replaced by S + L: the same point, a second encoding. */
export function malleate(frame: Uint8Array): Uint8Array {
  const out = frame.slice();
  const base = out.length - 32;
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(out[base + i]!);
  let t = s + ED25519_L;
  for (let i = 0; i < 32; i++) {
    out[base + i] = Number(t & 0xffn);
    t >>= 8n;
  }
  return out;
}

/** START payload: the parameter hash and this provider's own bid. */
export interface StartPayload {
  readonly paramsHash: Uint8Array;
  readonly bid: Uint8Array;
}

/** Splits a START payload. */
export function readStart(payload: Uint8Array): StartPayload {
  const r = new Reader(payload, 'START');
  return { paramsHash: r.raw(32), bid: r.bytes() };
}

/** Builds a START payload. */
export function writeStart(p: StartPayload): Uint8Array {
  return new Writer(48 + p.bid.length).raw(p.paramsHash).bytes(p.bid).finish().slice();
}

/** BA_REVEAL payload: the opened vector, ρ, nonce and the echoed commitments. */
export interface RevealPayload {
  readonly vector: Uint8Array;
  readonly rho: Uint8Array;
  readonly nonce: Uint8Array;
  readonly echo: readonly Uint8Array[];
}

/** Splits a BA_REVEAL payload. */
export function readReveal(payload: Uint8Array): RevealPayload {
  const r = new Reader(payload, 'BA_REVEAL');
  const vector = r.bytes();
  const rho = r.raw(32);
  const nonce = r.raw(32);
  const echo: Uint8Array[] = [];
  for (let i = r.u16(); i > 0; i--) echo.push(r.bytes());
  return { vector, rho, nonce, echo };
}

/** Builds a BA_REVEAL payload. */
export function writeReveal(p: RevealPayload): Uint8Array {
  const w = new Writer(p.vector.length + 128 + p.echo.length * 200)
    .bytes(p.vector)
    .raw(p.rho)
    .raw(p.nonce)
    .u16(p.echo.length);
  for (const e of p.echo) w.bytes(e);
  return w.finish().slice();
}

/** Faithful `crypto` BA_REVEAL: the packed lanes, R_j, the nonce and the echoed commitments. */
export interface KsOpeningPayload {
  readonly packed: Uint8Array;
  readonly seed: Uint8Array;
  readonly nonce: Uint8Array;
  readonly echo: readonly Uint8Array[];
}

/** Splits a faithful `crypto` BA_REVEAL payload (faithful/wire.ts), whatever its lanes' length. */
export function readKsOpening(payload: Uint8Array): KsOpeningPayload {
  const r = new Reader(payload, 'BA_REVEAL');
  const packed = r.bytes();
  const seed = r.raw(32);
  const nonce = r.raw(32);
  const echo: Uint8Array[] = [];
  for (let i = r.u16(); i > 0; i--) echo.push(r.bytes());
  return { packed, seed, nonce, echo };
}

/** Builds a faithful `crypto` BA_REVEAL payload. */
export function writeKsOpening(p: KsOpeningPayload): Uint8Array {
  const w = new Writer(p.packed.length + 128 + p.echo.length * 200)
    .bytes(p.packed)
    .raw(p.seed)
    .raw(p.nonce)
    .u16(p.echo.length);
  for (const e of p.echo) w.bytes(e);
  return w.finish().slice();
}

/** CC_REVEAL: the coin value ρ_j, the nonce and the echoed coin commitments. */
export interface CoinOpeningPayload {
  readonly rho: Uint8Array;
  readonly nonce: Uint8Array;
  readonly echo: readonly Uint8Array[];
}

/** Splits a CC_REVEAL payload. */
export function readCoinOpening(payload: Uint8Array): CoinOpeningPayload {
  const r = new Reader(payload, 'CC_REVEAL');
  const rho = r.raw(32);
  const nonce = r.raw(32);
  const echo: Uint8Array[] = [];
  for (let i = r.u16(); i > 0; i--) echo.push(r.bytes());
  return { rho, nonce, echo };
}

/** Builds a CC_REVEAL payload. */
export function writeCoinOpening(p: CoinOpeningPayload): Uint8Array {
  const w = new Writer(128 + p.echo.length * 200).raw(p.rho).raw(p.nonce).u16(p.echo.length);
  for (const e of p.echo) w.bytes(e);
  return w.finish().slice();
}

/** Splits a KS_REVEAL payload: the echoed KS_SHARE envelopes, by origin. */
export function readKsReveal(payload: Uint8Array): Uint8Array[] {
  const r = new Reader(payload, 'KS_REVEAL');
  const echo: Uint8Array[] = [];
  for (let i = r.u16(); i > 0; i--) echo.push(r.bytes());
  return echo;
}

/** Builds a KS_REVEAL payload. */
export function writeKsReveal(echo: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(echo.reduce((s, e) => s + e.length + 4, 2)).u16(echo.length);
  for (const e of echo) w.bytes(e);
  return w.finish().slice();
}

/**
 * A KS_SHARE payload (u16 big-endian field elements) with the value of `lane` raised by
 * `delta` modulo the field's prime: the share of another polynomial, which differs from the
 * dealt one by the constant `delta` in that lane.
 */
export function shiftShare(payload: Uint8Array, lane: number, delta: number): Uint8Array {
  const out = payload.slice();
  const at = 2 * lane;
  const v = ((out[at]! << 8) | out[at + 1]!) + delta;
  const shifted = ((v % FIELD_PRIME) + FIELD_PRIME) % FIELD_PRIME;
  out[at] = shifted >> 8;
  out[at + 1] = shifted & 0xff;
  return out;
}
