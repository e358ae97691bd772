/**
 * Reading a round's transcript (the envelopes a provider held at the end of a round): which
 * envelope each provider sent in each phase, and the fields of START and BA_REVEAL as
 * fast-round.ts writes them. The ledger keeps transcripts; `auctioneer verify` replays them.
 */
import { Reader } from '../core/bytes.js';
import { InvalidMessageError } from '../core/errors.js';
import { MAX_BID_BYTES } from '../protocol/bid-vector.js';
import { openEnvelope, type Envelope } from '../protocol/envelope.js';
import { MAX_PAYLOAD_BYTES } from '../protocol/fast-round.js';
import { Phase, phaseName, type PhaseCode } from '../protocol/phases.js';

/** A transcript by phase: slot i holds provider i's envelope of that phase, if any. */
export type PhaseSlots = Map<PhaseCode, (Envelope | undefined)[]>;

/** START: the sender's parameter hash and its own bid (empty when it does not bid). */
export interface StartFields {
  readonly paramsHash: Uint8Array;
  readonly bid: Uint8Array;
}

/** BA_REVEAL: the opened vector, ρ, the nonce and the echo of every signed commitment. */
export interface RevealFields {
  readonly vector: Uint8Array;
  readonly rho: Uint8Array;
  readonly nonce: Uint8Array;
  readonly echo: readonly Uint8Array[];
}

/**
 * Sorts a transcript into phase slots. Throws InvalidMessageError for a frame that is not an
 * envelope, a sender out of range, or two envelopes of one sender in one phase.
 */
export function slotTranscript(frames: readonly Uint8Array[], m: number): PhaseSlots {
  const slots: PhaseSlots = new Map();
  frames.forEach((frame, i) => {
    let env: Envelope;
    try {
      env = openEnvelope(frame, MAX_PAYLOAD_BYTES);
    } catch (err) {
      throw new InvalidMessageError(`transcript envelope ${i}: ${(err as Error).message}`);
    }
    if (env.from >= m) {
      throw new InvalidMessageError(`transcript envelope ${i}: sender ${env.from} of ${m}`);
    }
    const list = slots.get(env.phase) ?? new Array<Envelope | undefined>(m);
    if (list[env.from]) {
      const what = `${phaseName(env.phase)} of provider ${env.from}`;
      throw new InvalidMessageError(`transcript holds two envelopes for ${what}`);
    }
    list[env.from] = env;
    slots.set(env.phase, list);
  });
  return slots;
}

/** Reads a START payload (fast-round.ts: raw 32-byte parameter hash, bytes(own bid)). */
export function parseStart(payload: Uint8Array): StartFields {
  const r = new Reader(payload, 'START');
  const paramsHash = r.raw(32);
  const bid = r.bytes(MAX_BID_BYTES);
  r.end();
  return { paramsHash, bid };
}

/**
 * Reads a BA_REVEAL payload (fast-round.ts: bytes(vector), raw ρ, raw nonce, u16 m, then m
 * echoed BA_COMMIT envelopes as bytes).
 */
export function parseReveal(payload: Uint8Array, m: number): RevealFields {
  const r = new Reader(payload, 'BA_REVEAL');
  const vector = r.bytes();
  const rho = r.raw(32);
  const nonce = r.raw(32);
  const count = r.u16();
  if (count !== m) throw new InvalidMessageError(`BA_REVEAL: echo of ${count} commitments`);
  const echo: Uint8Array[] = [];
  for (let s = 0; s < count; s++) echo.push(r.bytes(64 * 1024));
  r.end();
  return { vector, rho, nonce, echo };
}

/** The revealed ρ of every provider, when the transcript holds every BA_REVEAL. */
export function revealedRhos(slots: PhaseSlots, m: number): Uint8Array[] | null {
  const reveals = slots.get(Phase.BA_REVEAL);
  if (!reveals) return null;
  const rhos: Uint8Array[] = [];
  for (let i = 0; i < m; i++) {
    const env = reveals[i];
    if (!env) return null;
    rhos.push(parseReveal(env.payload, m).rho);
  }
  return rhos;
}
