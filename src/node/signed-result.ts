/**
 * A provider's signed statement of how a round ended, as it hands it to clients: the agreed
 * bids, the seed, the outcome bytes and their hashes, or ⊥ with its reason and evidence. The
 * signature covers the session id, the status and both hashes, so a client that checks m of
 * them knows that every provider committed to the same outcome.
 */
import { z } from 'zod';
import { Writer, toHex, utf8 } from '../core/bytes.js';
import { InvalidMessageError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type { BidReport } from '../mechanisms/mechanism.js';
import { abortCodeName } from '../protocol/abort.js';
import { bidVectorHash } from '../protocol/bid-vector.js';
import { outcomeHash, type RoundResult, type RoundStats } from '../protocol/fast-round.js';
import { signBytes, type SigningIdentity, type Verifier } from '../protocol/identity.js';
import { phaseName } from '../protocol/phases.js';
import type { ClusterParams } from '../protocol/session.js';

const RESULT_DOMAIN = utf8('DA/result/v1');
const ZERO32 = new Uint8Array(32);

/** The JSON form of a provider's signed round result. */
export interface SignedResultJson {
  provider: number;
  providerId: string;
  round: string;
  sid: string;
  status: 'outcome' | 'abort';
  bidsHash: string;
  outcomeHash: string;
  seed?: string;
  outcome?: string;
  agreedBids?: { bidder: string; bytes: string }[];
  invalidBids?: { bidder: string; reason: string }[];
  noMajority?: string[];
  summary?: Record<string, unknown>;
  /** Tasks of the mechanism's graph this provider ran, e.g. ["1", "2.0", "3"]. */
  tasks?: string[];
  abort?: {
    code: string;
    blamed: number[];
    blamedIds: string[];
    phase: string;
    message: string;
    reportedBy?: number;
    evidence: string[];
  };
  stats: RoundStats;
  durationMs: number;
  /** CPU time this provider's process spent on the round (user + system), in ms. */
  cpuMs?: number;
  signature: string;
}

/** Builds and signs the JSON result of a round. */
export function signResult(
  params: ClusterParams,
  self: number,
  id: SigningIdentity,
  r: RoundResult,
  cpuMs?: number,
): SignedResultJson {
  const base = {
    provider: self,
    providerId: params.providers[self]!.id,
    round: String(r.round),
    sid: toHex(r.sid),
    stats: r.stats,
    durationMs: Math.round(r.durationMs * 100) / 100,
    ...(cpuMs !== undefined && { cpuMs: Math.round(cpuMs * 100) / 100 }),
  };
  if (r.ok) {
    const sig = signBytes(id, statement(r.sid, 'outcome', r.bidsHash, r.outcomeHash, r.seed));
    return {
      ...base,
      status: 'outcome',
      bidsHash: toHex(r.bidsHash),
      outcomeHash: toHex(r.outcomeHash),
      seed: toHex(r.seed),
      outcome: toHex(r.outcomeBytes),
      agreedBids: r.agreedBids.map((b) => ({ bidder: b.bidder, bytes: toHex(b.bytes) })),
      invalidBids: [...r.invalidBids],
      noMajority: [...r.noMajority],
      summary: r.summary,
      tasks: [...r.tasks],
      signature: toHex(sig),
    };
  }
  const abort = {
    code: abortCodeName(r.reason.code),
    blamed: [...r.reason.blamed],
    blamedIds: r.reason.blamed.map((b) => params.providers[b]?.id ?? String(b)),
    phase: phaseName(r.reason.phase),
    message: r.reason.message,
    ...(r.reason.reportedBy !== undefined && { reportedBy: r.reason.reportedBy }),
    evidence: r.reason.evidence.map(toHex),
  };
  const sig = signBytes(id, statement(r.sid, 'abort', ZERO32, ZERO32, abortDigest(abort)));
  return {
    ...base,
    status: 'abort',
    bidsHash: toHex(ZERO32),
    outcomeHash: toHex(ZERO32),
    abort,
    signature: toHex(sig),
  };
}

/** A result whose signature and hashes were checked. */
export interface VerifiedResult {
  readonly json: SignedResultJson;
  readonly agreedBids: BidReport[];
  readonly outcomeBytes: Uint8Array | null;
  readonly seed: Uint8Array | null;
}

/**
 * Checks a result received from provider `index`: its signature under that provider's key,
 * that it is for the expected session, and that the bids and outcome hash to what it signed.
 * Throws InvalidMessageError naming what is wrong.
 */
export function verifyResult(
  raw: unknown,
  index: number,
  expectedSid: Uint8Array,
  verifier: Verifier,
): VerifiedResult {
  const who = `result of provider ${index}`;
  const parsed = ResultShape.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidMessageError(`${who}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const json = raw as SignedResultJson;
  if (json.provider !== index)
    throw new InvalidMessageError(`${who}: claims index ${json.provider}`);
  if (json.sid !== toHex(expectedSid)) throw new InvalidMessageError(`${who}: other session id`);

  // The signature covers the status, both hashes and the seed or the abort reason.
  const bidsHash = fromHex(json.bidsHash, 32, `${who}.bidsHash`);
  const oHash = fromHex(json.outcomeHash, 32, `${who}.outcomeHash`);
  const sig = fromHex(json.signature, 64, `${who}.signature`);
  const seed = json.status === 'outcome' ? fromHex(json.seed ?? '', 32, `${who}.seed`) : null;
  const rest = seed ?? abortDigest(json.abort);
  if (!verifier.verify(statement(expectedSid, json.status, bidsHash, oHash, rest), sig)) {
    throw new InvalidMessageError(`${who}: bad signature`);
  }
  if (json.status === 'abort') return { json, agreedBids: [], outcomeBytes: null, seed: null };

  // Everything else a client uses must hash to what was signed.
  const agreedBids = (json.agreedBids ?? []).map((b, i) => ({
    bidder: b.bidder,
    bytes: fromHex(b.bytes, -1, `${who}.agreedBids[${i}]`),
  }));
  const outcomeBytes = fromHex(json.outcome ?? '', -1, `${who}.outcome`);
  const seen = new Set<string>();
  for (const { bidder } of agreedBids) {
    if (seen.has(bidder)) throw new InvalidMessageError(`${who}: bidder ${bidder} listed twice`);
    seen.add(bidder);
  }
  if (toHex(bidVectorHash(agreedBids)) !== json.bidsHash) {
    throw new InvalidMessageError(`${who}: agreed bids do not hash to the signed H_b`);
  }
  if (toHex(outcomeHash(outcomeBytes)) !== json.outcomeHash) {
    throw new InvalidMessageError(`${who}: outcome does not hash to the signed H_o`);
  }
  return { json, agreedBids, outcomeBytes, seed };
}

/** The fields verifyResult reads, checked for type before use (untrusted JSON). */
const ResultShape = z.object({
  provider: z.number().int(),
  sid: z.string(),
  status: z.enum(['outcome', 'abort']),
  bidsHash: z.string(),
  outcomeHash: z.string(),
  signature: z.string(),
  seed: z.string().optional(),
  outcome: z.string().optional(),
  agreedBids: z.array(z.object({ bidder: z.string(), bytes: z.string() })).optional(),
  abort: z.record(z.string(), z.unknown()).optional(),
  stats: z.record(z.string(), z.unknown()),
});

/**
 * What a provider signs: the session, the status, H_b, H_o and a digest of the rest a client
 * uses (the seed of an outcome; the reason of an abort), so that no field can be swapped.
 */
function statement(
  sid: Uint8Array,
  status: 'outcome' | 'abort',
  bidsHash: Uint8Array,
  oHash: Uint8Array,
  rest: Uint8Array,
): Uint8Array {
  const w = new Writer()
    .raw(RESULT_DOMAIN)
    .raw(sid)
    .u8(status === 'outcome' ? 1 : 2);
  return sha256(w.raw(bidsHash).raw(oHash).raw(sha256(rest)).finish());
}

function abortDigest(abort: SignedResultJson['abort']): Uint8Array {
  return utf8(JSON.stringify(abort ?? null));
}

function fromHex(text: string, length: number, field: string): Uint8Array {
  if (typeof text !== 'string' || !/^([0-9a-f]{2})*$/.test(text)) {
    throw new InvalidMessageError(`${field}: not hex`);
  }
  const bytes = new Uint8Array(Buffer.from(text, 'hex'));
  if (length >= 0 && bytes.length !== length) {
    throw new InvalidMessageError(`${field}: expected ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}
