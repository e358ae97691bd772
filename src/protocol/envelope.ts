/**
 * Signed envelopes (protocols.md §3.2): every message between providers is
 *
 *   "DA1" | u8 phase | 32B sid | u16 from | u16 to | u32 len | payload | 64B signature
 *
 * signed over "DA/env/v1" ‖ phase ‖ sid ‖ from ‖ to ‖ SHA-256(payload). The signature makes
 * every envelope transferable evidence: anyone holding the sender's public key can check it.
 */
import { Reader, Writer, utf8 } from '../core/bytes.js';
import { InvalidMessageError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { signBytes, type SigningIdentity, type Verifier } from './identity.js';
import { isPhaseCode, type PhaseCode } from './phases.js';

const MAGIC = utf8('DA1');
const SIGN_DOMAIN = utf8('DA/env/v1');

/** `to` of an envelope meant for every provider. */
export const BROADCAST = 0xffff;

/** Size of the fixed fields around the payload. */
export const ENVELOPE_OVERHEAD = 3 + 1 + 32 + 2 + 2 + 4 + 64;

/** A decoded envelope; `bytes` is the exact frame it came from. */
export interface Envelope {
  readonly phase: PhaseCode;
  readonly sid: Uint8Array;
  readonly from: number;
  readonly to: number;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  readonly bytes: Uint8Array;
}

/** Fields of an envelope to be signed. */
export interface EnvelopeFields {
  readonly phase: PhaseCode;
  readonly sid: Uint8Array;
  readonly from: number;
  readonly to: number;
  readonly payload: Uint8Array;
}

/** Encodes and signs an envelope. */
export function sealEnvelope(id: SigningIdentity, f: EnvelopeFields): Uint8Array {
  const signature = signBytes(id, signedMessage(f));
  return new Writer(ENVELOPE_OVERHEAD + f.payload.length)
    .raw(MAGIC)
    .u8(f.phase)
    .raw(f.sid)
    .u16(f.from)
    .u16(f.to)
    .bytes(f.payload)
    .raw(signature)
    .finish()
    .slice();
}

/**
 * Parses an envelope from untrusted bytes without checking the signature. Throws
 * InvalidMessageError for anything that is not a well-formed envelope.
 */
export function openEnvelope(frame: Uint8Array, maxPayload: number): Envelope {
  const r = new Reader(frame, 'envelope');
  const magic = r.raw(3);
  if (magic[0] !== MAGIC[0] || magic[1] !== MAGIC[1] || magic[2] !== MAGIC[2]) {
    throw new InvalidMessageError('envelope: bad magic');
  }

  const phase = r.u8();
  if (!isPhaseCode(phase)) throw new InvalidMessageError(`envelope: unknown phase ${phase}`);
  const sid = r.raw(32);
  const from = r.u16();
  const to = r.u16();
  const payload = r.bytes(maxPayload);
  const signature = r.raw(64);
  r.end();
  return { phase, sid, from, to, payload, signature, bytes: frame };
}

/** True when the envelope's signature is valid under the sender's key. */
export function verifyEnvelope(env: Envelope, verifier: Verifier): boolean {
  return verifier.verify(signedMessage(env), env.signature);
}

function signedMessage(f: EnvelopeFields): Uint8Array {
  return new Writer(SIGN_DOMAIN.length + 1 + 32 + 4 + 32)
    .raw(SIGN_DOMAIN)
    .u8(f.phase)
    .raw(f.sid)
    .u16(f.from)
    .u16(f.to)
    .raw(sha256(f.payload))
    .finish();
}
