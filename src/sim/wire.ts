/**
 * Byte-level tools the deviation strategies use on the fast path's messages: reading a frame's
 * phase and payload, resealing a payload under another key or sender, and the layouts of the
 * START and BA_REVEAL payloads (fast-round.ts) taken apart and put back together.
 */
import { Reader, Writer } from '../core/bytes.js';
import { BROADCAST, openEnvelope, sealEnvelope } from '../protocol/envelope.js';
import type { SigningIdentity } from '../protocol/identity.js';
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

/** Seals `payload` as a broadcast of `phase` from `from`, signed by `id`. */
export function seal(
  id: SigningIdentity,
  phase: PhaseCode,
  sid: Uint8Array,
  from: number,
  payload: Uint8Array,
): Uint8Array {
  return sealEnvelope(id, { phase, sid, from, to: BROADCAST, payload });
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
