/**
 * ⊥: how a provider aborts a round and what it keeps as evidence. An abort always names the
 * providers at fault as far as this provider can tell, and keeps the signed envelopes that
 * prove it where proof exists (equivocation, a bad opening, a wrong result).
 */
import { Reader, Writer } from '../core/bytes.js';
import { AuctioneerError, InvalidMessageError } from '../core/errors.js';

/** Why a round ended in ⊥. */
export const AbortCode = {
  /** Two different validly signed envelopes for the same step. Evidence: both. */
  EQUIVOCATION: 1,
  /** A frame on a peer's authenticated channel with a bad signature or a false sender. */
  BAD_SIGNATURE: 2,
  /** A well-signed message whose content does not decode or breaks a rule. */
  BAD_MESSAGE: 3,
  /** A reveal that does not match its commitment. */
  BAD_OPENING: 4,
  /** A provider runs with other session parameters. */
  PARAMS_MISMATCH: 5,
  /** A provider announced another agreed bid vector (input validation). */
  INPUT_MISMATCH: 6,
  /** A provider announced another outcome. */
  OUTCOME_MISMATCH: 7,
  /** A phase's messages did not all arrive before its deadline. */
  TIMEOUT: 8,
  /** Another provider aborted and told us; its claim is reported as it was made. */
  PEER_ABORT: 9,
  /** A task result a group did not vouch for unanimously (data transfer). */
  TRANSFER_MISMATCH: 10,
  /** This provider could not run (shutdown, local error). */
  LOCAL_FAILURE: 11,
} as const;

/** An abort code's value. */
export type AbortCodeValue = (typeof AbortCode)[keyof typeof AbortCode];

const CODE_NAMES = new Map<number, string>(Object.entries(AbortCode).map(([k, v]) => [v, k]));

/** The name of an abort code, e.g. "EQUIVOCATION". */
export function abortCodeName(code: number): string {
  return CODE_NAMES.get(code) ?? `UNKNOWN(${code})`;
}

/** A provider's ⊥ with its reason. */
export interface AbortReason {
  readonly code: AbortCodeValue;
  /** Indices of the providers at fault (empty when unknown). */
  readonly blamed: readonly number[];
  /** The phase in which it happened (wire code). */
  readonly phase: number;
  /** A readable explanation naming the providers. */
  readonly message: string;
  /** Signed envelopes (or raw frames) that support the claim. */
  readonly evidence: readonly Uint8Array[];
  /** For PEER_ABORT: the provider that reported the abort. */
  readonly reportedBy?: number;
}

/** Thrown inside a round to stop it with ⊥; caught by the round driver. */
export class RoundAbort extends AuctioneerError {
  constructor(readonly reason: AbortReason) {
    super(abortCodeName(reason.code), reason.message);
  }
}

/** Canonical payload of an ABORT envelope. */
export function encodeAbortPayload(r: AbortReason): Uint8Array {
  const w = new Writer().u8(r.code).u8(r.phase).u16(r.blamed.length);
  for (const b of r.blamed) w.u16(b);
  w.string(r.message.slice(0, 500)).u16(r.evidence.length);
  for (const e of r.evidence) w.bytes(e);
  return w.finish();
}

/** Decodes an ABORT payload from untrusted bytes (throws InvalidMessageError). */
export function decodeAbortPayload(bytes: Uint8Array, m: number): AbortReason {
  const r = new Reader(bytes, 'abort');
  const code = r.u8();
  const phase = r.u8();
  const nb = r.u16();
  const blamed: number[] = [];
  for (let i = 0; i < nb; i++) {
    const b = r.u16();
    if (b >= m) throw new InvalidMessageError(`abort: blamed index ${b} is not a provider`);
    blamed.push(b);
  }
  const message = r.string(2048);
  const ne = r.u16();
  const evidence: Uint8Array[] = [];
  for (let i = 0; i < ne; i++) evidence.push(r.bytes());
  r.end();
  if (!CODE_NAMES.has(code)) throw new InvalidMessageError(`abort: unknown reason code ${code}`);
  return { code: code as AbortCodeValue, phase, blamed, message, evidence };
}
