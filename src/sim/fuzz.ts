/**
 * A fuzzer for every decoder of untrusted input (issue #7): random and mutated inputs, derived
 * from a seed with the Drbg, are fed to a target, and each case is judged by an oracle that
 * knows nothing of the decoder's code:
 *
 * - the decoder may only refuse with its documented error class (InvalidMessageError for
 *   bytes from the network, ConfigError for a cluster file); any other exception is a crash;
 * - what it accepts must be valid: bytes re-encode to themselves (canonical codecs), a mutated
 *   signed frame verifies only if unchanged, a request accepted by a provider passes an
 *   independent check of its fields.
 *
 * A case breaking either rule is a violation. A case showing a documented leniency (a decoder
 * that accepts and normalises instead of refusing) is a finding: reported, counted apart.
 */
import { Writer, equalBytes, toHex, utf8 } from '../core/bytes.js';
import { ConfigError, InvalidMessageError } from '../core/errors.js';
import { AGENT_ID_PATTERN, MAX_PRICE, MAX_QUANTITY } from '../core/units.js';
import {
  decodeDoubleBid,
  decodeDoubleOutcome,
  encodeDoubleBid,
  encodeDoubleOutcome,
} from '../mechanisms/double/codec.js';
import { doubleAuctionMechanism } from '../mechanisms/double/mechanism.js';
import {
  decodePayments,
  decodeStandardBid,
  decodeStandardOutcome,
  encodePayments,
  encodeStandardBid,
  encodeStandardOutcome,
  encodeStandardProvider,
} from '../mechanisms/standard/codec.js';
import { runStarPadding } from '../mechanisms/double/star.js';
import { parseCluster } from '../node/cluster.js';
import { signResult, verifyResult, type SignedResultJson } from '../node/signed-result.js';
import {
  AbortCode,
  abortCodeName,
  decodeAbortPayload,
  encodeAbortPayload,
} from '../protocol/abort.js';
import { bidVectorHash, decodeBidVector, encodeBidVector } from '../protocol/bid-vector.js';
import { Drbg } from '../protocol/drbg.js';
import { BROADCAST, openEnvelope, sealEnvelope, verifyEnvelope } from '../protocol/envelope.js';
import { outcomeHash, type RoundResult } from '../protocol/fast-round.js';
import { Verifier, formatPublicKey, type SigningIdentity } from '../protocol/identity.js';
import { Phase } from '../protocol/phases.js';
import { sessionId } from '../protocol/session.js';
import { paperDoubleWorkload } from '../scenarios/paper.js';
import { simMechanism, simScenario } from './auctions.js';
import { identityFromSeed } from './keys.js';
import { malleate } from './wire.js';

/** How one case ended. */
export type CaseVerdict =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'refused' }
  | { readonly kind: 'skipped' }
  | { readonly kind: 'violation'; readonly message: string }
  | { readonly kind: 'finding'; readonly message: string };

/** A decoder under test. */
export interface FuzzTarget<T> {
  readonly name: string;
  /** Valid inputs the mutations start from (they must be accepted unchanged). */
  seeds(): T[];
  /** A random or mutated input. */
  generate(rng: Drbg, seeds: readonly T[]): T;
  /** Runs the decoder on one input and judges it; never throws. */
  check(input: T, seeds: readonly T[]): CaseVerdict | Promise<CaseVerdict>;
}

/** What fuzzing one target found. */
export interface FuzzResult {
  readonly target: string;
  readonly cases: number;
  readonly accepted: number;
  readonly refused: number;
  readonly skipped: number;
  /** The first violations (case index, message, input in hex or JSON). */
  readonly violations: readonly FuzzCase[];
  readonly violationCount: number;
  /** The first findings (documented leniencies). */
  readonly findings: readonly FuzzCase[];
  readonly findingCount: number;
}

/** One reported case. */
export interface FuzzCase {
  readonly index: number;
  readonly message: string;
  readonly input: string;
}

/** Cases kept per list in a result. */
const KEEP = 5;

/** Runs `cases` cases of a target; case i depends only on (seed, target, i). */
export async function fuzzTarget<T>(
  target: FuzzTarget<T>,
  cases: number,
  seed: string,
): Promise<FuzzResult> {
  const seeds = target.seeds();
  const rng = new Drbg(utf8(`auctioneer/fuzz/${seed}`.padEnd(32, '.')), `fuzz/${target.name}`);
  let accepted = 0;
  let refused = 0;
  let skipped = 0;
  const violations: FuzzCase[] = [];
  const findings: FuzzCase[] = [];
  let violationCount = 0;
  let findingCount = 0;

  for (let i = 0; i < cases; i++) {
    // The seeds themselves first, then generated cases.
    const input = i < seeds.length ? seeds[i]! : target.generate(rng, seeds);
    let v: CaseVerdict;
    try {
      v = await target.check(input, seeds);
    } catch (err) {
      v = { kind: 'violation', message: `the oracle threw: ${errorText(err)}` };
    }
    if (v.kind === 'accepted') accepted++;
    else if (v.kind === 'refused') refused++;
    else if (v.kind === 'skipped') skipped++;
    else if (v.kind === 'violation') {
      violationCount++;
      if (violations.length < KEEP) violations.push(report(i, v.message, input));
    } else {
      findingCount++;
      if (findings.length < KEEP) findings.push(report(i, v.message, input));
    }
  }
  return {
    target: target.name,
    cases,
    accepted,
    refused,
    skipped,
    violations,
    violationCount,
    findings,
    findingCount,
  };
}

// --- mutation engines --------------------------------------------------------------------

const INTERESTING_U32 = [0, 1, 2, 31, 32, 64, 255, 256, 0x7fff, 0xffff, 0x7fffffff, 0xffffffff];
const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xfe, 0xff];

/** A random byte string, a seed unchanged, or a seed with 1–4 mutations. */
export function mutateBytes(rng: Drbg, seeds: readonly Uint8Array[]): Uint8Array {
  const r = int(rng, 16);
  if (r === 0 || seeds.length === 0) return rng.bytes(int(rng, 300));
  let b: Uint8Array = seeds[int(rng, seeds.length)]!.slice();
  if (r === 1) return b;

  for (let n = 1 + int(rng, 4); n > 0; n--) {
    const at = b.length === 0 ? 0 : int(rng, b.length);
    switch (int(rng, 11)) {
      case 0:
        if (b.length > 0) b[at] = b[at]! ^ (1 << int(rng, 8));
        break;
      case 1:
        if (b.length > 0) b[at] = INTERESTING_BYTES[int(rng, INTERESTING_BYTES.length)]!;
        break;
      case 2:
        b = b.slice(0, int(rng, b.length + 1));
        break;
      case 3:
        b = concat(b, rng.bytes(1 + int(rng, 16)));
        break;
      case 4:
        b = concat(b.slice(0, at), b.slice(at + 1 + int(rng, 16)));
        break;
      case 5:
        b = concat(b.slice(0, at), rng.bytes(1 + int(rng, 8)), b.slice(at));
        break;
      case 6: {
        // A length prefix (or any u32) set to a boundary value.
        if (b.length < 4) break;
        const v = pick(rng, [...INTERESTING_U32, b.length, b.length - at, b.length - at - 3]);
        new DataView(b.buffer, b.byteOffset).setUint32(int(rng, b.length - 3), v >>> 0);
        break;
      }
      case 7: {
        const len = 1 + int(rng, 32);
        b = concat(b.slice(0, at), b.slice(at, at + len), b.slice(at));
        break;
      }
      case 8: {
        const other = seeds[int(rng, seeds.length)]!;
        b = concat(b.slice(0, at), other.slice(int(rng, other.length + 1)));
        break;
      }
      case 9:
        if (b.length >= 2) {
          new DataView(b.buffer, b.byteOffset).setUint16(int(rng, b.length - 1), int(rng, 0x10000));
        }
        break;
      default:
        if (b.length >= 96) b = malleate(b);
    }
  }
  return b;
}

/** Values that break naive validation: wrong types, boundaries, odd numerals. */
const INTERESTING_VALUES: readonly unknown[] = [
  NaN,
  Infinity,
  -Infinity,
  -1,
  0,
  -0,
  1,
  0.5,
  2 ** 53,
  2 ** 63,
  1e300,
  '',
  'x',
  '-1',
  '0',
  ' 7 ',
  '1e3',
  '0x10',
  '٣',
  '10000000000000000000000000000000',
  'a'.repeat(300),
  null,
  true,
  [],
  {},
  [1, 2],
  { a: 1 },
  '__proto__',
];

/** A JSON-like value with 1–3 mutations (replace, delete, add, retype a node). */
export function mutateJson(rng: Drbg, seeds: readonly unknown[]): unknown {
  const base = seeds[int(rng, seeds.length)];
  if (int(rng, 16) === 0) return base;
  let value = structuredClone(base);

  for (let n = 1 + int(rng, 3); n > 0; n--) {
    const paths = allPaths(value);
    const path = paths[int(rng, paths.length)]!;
    const op = int(rng, 6);
    if (path.length === 0) {
      value = op === 0 ? pick(rng, INTERESTING_VALUES) : value;
      continue;
    }
    const parent = getPath(value, path.slice(0, -1)) as Record<string, unknown>;
    const key = path[path.length - 1]!;
    const current = parent[key];
    if (op === 0 || op === 1) parent[key] = pick(rng, INTERESTING_VALUES);
    else if (op === 2) {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else if (op === 3 && !Array.isArray(parent)) parent[`extra${int(rng, 3)}`] = current;
    else if (op === 4) {
      parent[key] =
        typeof current === 'string' && /^-?\d+$/.test(current) ? Number(current) : String(current);
    } else if (Array.isArray(current) && current.length > 0) current.push(current[0]);
    else if (typeof current === 'string') parent[key] = current + pick(rng, ['0', ' ', 'x', '!']);
  }
  return value;
}

function allPaths(v: unknown, prefix: string[] = []): string[][] {
  const out: string[][] = [prefix];
  if (typeof v === 'object' && v !== null) {
    for (const k of Object.keys(v))
      out.push(...allPaths((v as Record<string, unknown>)[k], [...prefix, k]));
  }
  return out;
}

function getPath(v: unknown, path: readonly string[]): unknown {
  return path.reduce((x, k) => (x as Record<string, unknown>)[k], v);
}

// --- targets -------------------------------------------------------------------------------

const FUZZ_KEY = identityFromSeed(new Uint8Array(32).fill(7));
const FUZZ_VERIFIER = new Verifier(FUZZ_KEY.publicKey);

/** The public key that signs the fuzzer's sample envelopes and results (provider 0's). */
export const FUZZ_PUBLIC_KEY: Uint8Array = FUZZ_KEY.publicKey;
const SID = new Uint8Array(32).fill(0x5a);

/** openEnvelope: re-encodes to itself; a mutated signed frame verifies only if unchanged. */
export const envelopeTarget: FuzzTarget<Uint8Array> = {
  name: 'envelope',
  seeds: () =>
    [Phase.START, Phase.BA_COMMIT, Phase.BA_REVEAL, Phase.OUTCOME, Phase.ABORT].map((phase, i) =>
      sealEnvelope(FUZZ_KEY, {
        phase,
        sid: SID,
        from: i,
        to: BROADCAST,
        payload: utf8('x'.repeat(i * 9)),
      }),
    ),
  generate: mutateBytes,
  check(frame, seeds) {
    return refuses(InvalidMessageError, () => {
      const env = openEnvelope(frame, 1 << 20);
      const again = new Writer()
        .raw(utf8('DA1'))
        .u8(env.phase)
        .raw(env.sid)
        .u16(env.from)
        .u16(env.to)
        .bytes(env.payload)
        .raw(env.signature)
        .finish();
      if (!equalBytes(again, frame)) return 'an accepted envelope does not re-encode to itself';
      const signed = verifyEnvelope(env, FUZZ_VERIFIER);
      if (signed && !seeds.some((s) => equalBytes(s, frame))) {
        return 'a changed envelope still verifies under the signer key';
      }
      return null;
    });
  },
};

/** decodeBidVector: accepted vectors re-encode to themselves. */
export const bidVectorTarget: FuzzTarget<Uint8Array> = {
  name: 'bid-vector',
  seeds: () => {
    const s = paperDoubleWorkload({ users: 6, providers: 3, seed: 'fuzz' });
    const reports = [...s.providers, ...s.users].map((b) => ({
      bidder: b.id,
      bytes: encodeDoubleBid(b),
    }));
    return [encodeBidVector(reports), encodeBidVector(reports.slice(0, 1)), encodeBidVector([])];
  },
  generate: mutateBytes,
  check: (bytes) =>
    refuses(InvalidMessageError, () => {
      const v = decodeBidVector(bytes);
      return equalBytes(encodeBidVector(v), bytes) ? null : 'an accepted vector is not canonical';
    }),
};

/** decodeAbortPayload: fields in range; re-encoding changes nothing (else a finding). */
export const abortPayloadTarget: FuzzTarget<Uint8Array> = {
  name: 'abort-payload',
  seeds: () => [
    encodeAbortPayload({
      code: AbortCode.TIMEOUT,
      blamed: [1, 2],
      phase: Phase.BA_REVEAL,
      message: 'deadline passed',
      evidence: [],
    }),
    encodeAbortPayload({
      code: AbortCode.EQUIVOCATION,
      blamed: [0],
      phase: Phase.BA_COMMIT,
      message: 'two commitments',
      evidence: [new Uint8Array(40).fill(1), new Uint8Array(41).fill(2)],
    }),
  ],
  generate: mutateBytes,
  check(bytes) {
    const m = 5;
    let finding: string | null = null;
    const verdict = refuses(InvalidMessageError, () => {
      const r = decodeAbortPayload(bytes, m);
      if (abortCodeName(r.code).startsWith('UNKNOWN')) return `unknown code ${r.code} accepted`;
      if (r.blamed.some((b) => !Number.isInteger(b) || b < 0 || b >= m))
        return 'blamed out of range';
      if (utf8(r.message).length > 2048) return 'message longer than the limit';
      if (!equalBytes(encodeAbortPayload(r), bytes)) {
        finding = `accepted, normalised: code ${bytes[0]} → ${r.code}, blamed [${r.blamed}]`;
      }
      return null;
    });
    return verdict.kind === 'accepted' && finding !== null
      ? { kind: 'finding', message: finding }
      : verdict;
  },
};

/** decodeDoubleBid: accepted bids re-encode to themselves. */
export const doubleBidTarget: FuzzTarget<Uint8Array> = {
  name: 'double-bid',
  seeds: () => {
    const s = paperDoubleWorkload({ users: 3, providers: 2, seed: 'fuzz' });
    return [...s.providers, ...s.users].map((b) => encodeDoubleBid(b));
  },
  generate: mutateBytes,
  check: (bytes) =>
    refuses(InvalidMessageError, () =>
      equalBytes(encodeDoubleBid(decodeDoubleBid(bytes)), bytes) ? null : 'not canonical',
    ),
};

/** decodeDoubleOutcome: accepted outcomes re-encode to themselves. */
export const doubleOutcomeTarget: FuzzTarget<Uint8Array> = {
  name: 'double-outcome',
  seeds: () =>
    [3, 8, 20].map((users) => {
      const s = paperDoubleWorkload({ users, providers: 3, seed: `fuzz${users}` });
      return encodeDoubleOutcome(
        runStarPadding({ providers: s.providers, users: s.users, rule: 'safe' }),
      );
    }),
  generate: mutateBytes,
  check: (bytes) =>
    refuses(InvalidMessageError, () =>
      equalBytes(encodeDoubleOutcome(decodeDoubleOutcome(bytes)), bytes) ? null : 'not canonical',
    ),
};

/** decodeStandardBid: accepted reports (capacities, bids) re-encode to themselves. */
export const standardBidTarget: FuzzTarget<Uint8Array> = {
  name: 'standard-bid',
  seeds: () => {
    const s = simScenario('standard', 4, 3, 'fuzz');
    const accepting = encodeStandardBid({
      id: 'u-acc',
      demand: [5n, 0n, 7n],
      accepts: ['p0', 'p2'],
      bid: 123_456n,
    });
    return [...s.providerBids, ...s.users.map((u) => u.bytes), accepting];
  },
  generate: mutateBytes,
  check: (bytes) =>
    refuses(InvalidMessageError, () => {
      const r = decodeStandardBid(bytes);
      const again =
        r.kind === 'provider' ? encodeStandardProvider(r.provider) : encodeStandardBid(r.user);
      return equalBytes(again, bytes) ? null : 'an accepted report is not canonical';
    }),
};

/** decodePayments (a payment task's result in DT): accepted results re-encode to themselves. */
export const standardPaymentsTarget: FuzzTarget<Uint8Array> = {
  name: 'standard-payments',
  seeds: () => [
    encodePayments(new Map()),
    encodePayments(new Map([['u0001', 5n]])),
    encodePayments(
      new Map([
        ['u0002', 10n ** 12n],
        ['u0003', 999n],
        ['u0007', 0n],
      ]),
    ),
  ],
  generate: mutateBytes,
  check: (bytes) =>
    refuses(InvalidMessageError, () =>
      equalBytes(encodePayments(decodePayments(bytes)), bytes) ? null : 'not canonical',
    ),
};

/** decodeStandardOutcome: accepted outcomes re-encode to themselves. */
export const standardOutcomeTarget: FuzzTarget<Uint8Array> = {
  name: 'standard-outcome',
  seeds: () =>
    [6, 12].map((users) => {
      const s = simScenario('standard', users, 3, `fuzz${users}`);
      return simMechanism('standard').run(s.trueBids(), new Uint8Array(32).fill(users))
        .outcomeBytes;
    }),
  generate: mutateBytes,
  check: (bytes) =>
    refuses(InvalidMessageError, () =>
      equalBytes(encodeStandardOutcome(decodeStandardOutcome(bytes)), bytes)
        ? null
        : 'not canonical',
    ),
};

/** A valid cluster file, to mutate. */
export function sampleClusterFile(): Record<string, unknown> {
  const keys = [1, 2, 3].map((i) => identityFromSeed(new Uint8Array(32).fill(i)));
  const curve = ['a', 'b', 'c'].map((c) => c.repeat(40));
  return {
    clusterId: 'fuzz',
    k: 1,
    auction: { kind: 'double', rule: 'safe' },
    timing: { phaseTimeoutMs: 2000, startTimeoutMs: 5000 },
    providers: keys.map((k, i) => ({
      id: `p${i}`,
      peerAddress: `tcp://127.0.0.1:${7100 + 2 * i}`,
      clientAddress: `tcp://127.0.0.1:${7101 + 2 * i}`,
      signingKey: formatPublicKey(k.publicKey),
      curveKey: curve[i]!,
    })),
  };
}

const CLUSTER_KEYS = new Set([
  'clusterId',
  'k',
  'agreement',
  'ks',
  'decisionRule',
  'bidders',
  'auction',
  'timing',
  'providers',
]);

/** parseCluster: only ConfigError; an accepted file gives parameters that check and re-parse. */
export const clusterTarget: FuzzTarget<unknown> = {
  name: 'cluster-file',
  seeds: () => [sampleClusterFile()],
  generate: mutateJson,
  check(json) {
    let finding: string | null = null;
    const verdict = refuses(ConfigError, () => {
      const c = parseCluster(json);
      const again = parseCluster(JSON.parse(JSON.stringify(c.file)));
      if (toHex(sessionId(again.params, 1n)) !== toHex(sessionId(c.params, 1n))) {
        return 'the parsed file does not parse again to the same parameters';
      }
      const m = c.params.providers.length;
      if (m < 2 * c.params.k + 1) return `accepted m = ${m} with k = ${c.params.k}`;
      if (new Set(c.file.providers.map((p) => p.curveKey)).size !== m) {
        finding = 'two providers share a CURVE key (refused only later, by the transport)';
      }
      const unknown = Object.keys(json as object).filter((k) => !CLUSTER_KEYS.has(k));
      if (unknown.length > 0) finding = `unknown keys ignored: ${unknown.join(', ')}`;
      return null;
    });
    return verdict.kind === 'accepted' && finding !== null
      ? { kind: 'finding', message: finding }
      : verdict;
  },
};

/** Signed results of a real round (an outcome and a ⊥), signed by the fuzz key. */
export function sampleSignedResults(): { sid: Uint8Array; results: SignedResultJson[] } {
  const s = paperDoubleWorkload({ users: 4, providers: 3, seed: 'fuzz-result' });
  const keys: SigningIdentity[] = [
    FUZZ_KEY,
    ...[8, 9].map((b) => identityFromSeed(new Uint8Array(32).fill(b))),
  ];
  const params = {
    clusterId: 'fuzz',
    k: 1,
    providers: s.providers.map((p, i) => ({ id: p.id, signingKey: keys[i]!.publicKey })),
    agreement: 'fast' as const,
    mechanismParams: doubleAuctionMechanism('safe').paramsBytes(),
  };
  const sid = sessionId(params, 3n);
  const agreedBids = [...s.providers, ...s.users].map((b) => ({
    bidder: b.id,
    bytes: encodeDoubleBid(b),
  }));
  const run = doubleAuctionMechanism('safe').run(agreedBids, new Uint8Array(32));
  const stats = {
    envelopesSent: 4,
    bytesSent: 900,
    envelopesReceived: 8,
    bytesReceived: 1800,
    phaseEndMs: {},
    phaseEnvelopes: {},
    phaseBytes: {},
  };
  const outcome: RoundResult = {
    ok: true,
    round: 3n,
    sid,
    agreedBids,
    invalidBids: [],
    noMajority: [],
    bidsHash: bidVectorHash(agreedBids),
    seed: new Uint8Array(32).fill(3),
    outcomeBytes: run.outcomeBytes,
    outcomeHash: outcomeHash(run.outcomeBytes),
    summary: run.summary,
    tasks: ['1', '2', '3'],
    stats,
    durationMs: 12,
  };
  const abort: RoundResult = {
    ok: false,
    round: 3n,
    sid,
    reason: {
      code: AbortCode.TIMEOUT,
      blamed: [2],
      phase: Phase.BA_REVEAL,
      message: 'late',
      evidence: [],
    },
    stats,
    durationMs: 10,
  };
  return { sid, results: [outcome, abort].map((r) => signResult(params, 0, FUZZ_KEY, r)) };
}

/**
 * verifyResult: only InvalidMessageError; a result that verifies after a mutation must carry
 * the same signed statement, seed, abort reason, bids and outcome bytes (else a forgery). The
 * informational fields (summary, stats, timings, invalidBids, noMajority) are not signed.
 */
export const signedResultTarget: FuzzTarget<unknown> = {
  name: 'signed-result',
  seeds: () => signedSamples().results,
  generate: mutateJson,
  check(json, seeds) {
    const { sid } = signedSamples();
    return refuses(InvalidMessageError, () => {
      const v = verifyResult(json as SignedResultJson, 0, sid, FUZZ_VERIFIER);
      const same = seeds.find((x) => (x as SignedResultJson).status === v.json.status);
      const a = boundView(v.json);
      const b = boundView(same as SignedResultJson);
      const changed = Object.keys(a).filter((k) => a[k] !== b[k]);
      return changed.length === 0 ? null : `forged: verifies with ${changed.join(', ')} changed`;
    });
  },
};

/** What a client takes from a result: everything the signature must pin down. */
function boundView(r: SignedResultJson): Record<string, string> {
  const bids = (r.agreedBids ?? []).map((b) => `${b.bidder}=${b.bytes}`).sort();
  return {
    provider: String(r.provider),
    sid: r.sid,
    status: r.status,
    bidsHash: r.bidsHash,
    outcomeHash: r.outcomeHash,
    seed: r.seed ?? '',
    outcome: r.outcome ?? '',
    agreedBids: bids.join(','),
    abort: JSON.stringify(r.abort ?? null),
  };
}

let samples: { sid: Uint8Array; results: SignedResultJson[] } | undefined;

function signedSamples(): { sid: Uint8Array; results: SignedResultJson[] } {
  samples ??= sampleSignedResults();
  return samples;
}

/** The byte and file decoders that need no running provider. */
export const DECODER_TARGETS: readonly FuzzTarget<never>[] = [
  envelopeTarget,
  bidVectorTarget,
  abortPayloadTarget,
  doubleBidTarget,
  doubleOutcomeTarget,
  standardBidTarget,
  standardPaymentsTarget,
  standardOutcomeTarget,
  clusterTarget,
  signedResultTarget,
] as unknown as FuzzTarget<never>[];

/**
 * ProviderServer.handle as a target: `handle` answers one request. A reply must be an object
 * with `ok`; a refusal carries a documented code (and a field for INVALID_INPUT), never
 * INTERNAL; an accepted bid must pass an independent check. Requests that would close a round
 * or wait for a result are skipped (they would start rounds on the live cluster).
 */
export function providerRequestTarget(
  handle: (req: unknown) => Promise<unknown>,
  providerIds: ReadonlySet<string>,
): FuzzTarget<unknown> {
  return {
    name: 'provider-request',
    seeds: () => [
      { type: 'bid', round: '9', bid: { id: 'u0001', bid: '900000', demand: '12' } },
      { type: 'bid', round: 9, bid: { id: 'u0002', bid: 5, demand: 7, kind: 'user' } },
      { type: 'status' },
      { type: 'close', round: 'x' },
      { type: 'result', round: 'x', waitMs: 0 },
    ],
    generate: mutateJson,
    async check(req) {
      const r = req as Record<string, unknown> | null;
      if (typeof r === 'object' && r !== null && (r.type === 'close' || r.type === 'result')) {
        if (validRound(r.round)) return { kind: 'skipped' };
      }
      let reply: unknown;
      try {
        reply = await handle(req);
      } catch (err) {
        return { kind: 'violation', message: `handle threw: ${errorText(err)}` };
      }
      const rep = reply as {
        ok?: unknown;
        accepted?: unknown;
        error?: { code?: unknown; field?: unknown };
      };
      if (typeof rep !== 'object' || rep === null || typeof rep.ok !== 'boolean') {
        return { kind: 'violation', message: `malformed reply ${JSON.stringify(reply)}` };
      }
      if (!rep.ok) {
        const code = rep.error?.code;
        if (!['INVALID_INPUT', 'DUPLICATE_BID', 'ROUND_CLOSED'].includes(String(code))) {
          return { kind: 'violation', message: `refused with code ${String(code)}` };
        }
        if (code === 'INVALID_INPUT' && typeof rep.error?.field !== 'string') {
          return { kind: 'violation', message: 'INVALID_INPUT without a field' };
        }
        return { kind: 'refused' };
      }
      if (r?.type === 'bid') {
        const why = invalidBidRequest(r, providerIds);
        if (why !== null) return { kind: 'violation', message: `accepted a bid with ${why}` };
        const extra = Object.keys(r).filter((k) => !['type', 'round', 'bid'].includes(k));
        if (extra.length > 0) {
          return { kind: 'finding', message: `request fields ignored: ${extra.join(', ')}` };
        }
      }
      return { kind: 'accepted' };
    },
  };
}

/** Why a bid request is invalid (an oracle written from the protocol's rules), or null. */
export function invalidBidRequest(
  r: Record<string, unknown>,
  providerIds: ReadonlySet<string>,
): string | null {
  if (!validRound(r.round)) return 'an invalid round';
  const bid = r.bid as Record<string, unknown> | null;
  if (typeof bid !== 'object' || bid === null || Array.isArray(bid)) return 'no bid object';
  const extra = Object.keys(bid).filter((k) => !['id', 'bid', 'demand', 'kind'].includes(k));
  if (extra.length > 0) return `extra bid fields ${extra.join(', ')}`;
  if ('kind' in bid && bid.kind !== 'user') return 'a kind other than user';
  if (typeof bid.id !== 'string' || !AGENT_ID_PATTERN.test(bid.id)) return 'an invalid id';
  if (providerIds.has(bid.id)) return "a provider's id";
  if (!inRange(bid.bid, 0n, MAX_PRICE)) return 'a price out of range';
  if (!inRange(bid.demand, 1n, MAX_QUANTITY)) return 'a demand out of range';
  return null;
}

function validRound(v: unknown): boolean {
  return inRange(v, 1n, (1n << 63n) - 1n);
}

/** An integer (safe number, or decimal text with optional sign and spaces) in [lo, hi]. */
function inRange(v: unknown, lo: bigint, hi: bigint): boolean {
  let n: bigint;
  if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && /^\s*-?[0-9]{1,30}\s*$/.test(v)) n = BigInt(v.trim());
  else return false;
  return n >= lo && n <= hi;
}

// --- helpers -------------------------------------------------------------------------------

/** Runs `f`: null → accepted, a string → violation, the documented error → refused. */
function refuses(
  errorClass: abstract new (...a: never[]) => Error,
  f: () => string | null,
): CaseVerdict {
  try {
    const problem = f();
    return problem === null ? { kind: 'accepted' } : { kind: 'violation', message: problem };
  } catch (err) {
    if (err instanceof errorClass) return { kind: 'refused' };
    return { kind: 'violation', message: `crash: ${errorText(err)}` };
  }
}

function report(index: number, message: string, input: unknown): FuzzCase {
  let text: string;
  if (input instanceof Uint8Array) text = toHex(input.subarray(0, 200));
  else {
    try {
      text = JSON.stringify(input)?.slice(0, 300) ?? String(input);
    } catch {
      text = String(input);
    }
  }
  return { index, message, input: text };
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function int(rng: Drbg, n: number): number {
  return Number(rng.uniformInt(BigInt(Math.max(1, n))));
}

function pick<T>(rng: Drbg, xs: readonly T[]): T {
  return xs[int(rng, xs.length)]!;
}
