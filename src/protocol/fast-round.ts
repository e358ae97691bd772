/**
 * One round of the framework's fast path at one provider (protocols.md §3, §6, §7.4):
 *
 *   START      broadcast the parameter hash and this provider's own bid (its ask, if any)
 *   BA_COMMIT  broadcast C_j = H("DA/ba/v1" ‖ sid ‖ j ‖ H(X_j) ‖ ρ_j ‖ nonce_j)
 *   BA_REVEAL  broadcast X_j, ρ_j, nonce_j and every COMMIT envelope received (the echo)
 *   decide     bid-level majority → agreed vector b, H_b; seed = H(sid ‖ H_b ‖ ρ_0 … ρ_{m-1})
 *   OUTCOME    broadcast H_b ‖ H(outcome); all equal → output, else ⊥
 *
 * The bid vector X_j and the coin's randomness ρ_j are committed together, so the seed is fixed
 * only after every bid is (condition 6 of §7.2), and the echo of the signed commitments turns a
 * provider that commits differently to different peers into proof against it. Each phase acts
 * only once it holds the previous phase's message from every provider (§3.3); a phase that
 * does not complete before its deadline is ⊥ naming the providers still missing.
 *
 * With `agreement: 'faithful'` (#4) the same engine runs the bit-level agreement of §4 instead
 * of BA_COMMIT/BA_REVEAL, driving faithful/agreement.ts: START, then KS_SHARE, KS_READY,
 * KS_REVEAL (`it`) or BA_COMMIT, BA_REVEAL (`crypto`), then the coin's CC_COMMIT, CC_REVEAL,
 * then the mechanism and OUTCOME as above.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Reader, Writer, equalBytes, toHex, utf8 } from '../core/bytes.js';
import { InvalidMessageError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type {
  AuctionMechanism,
  BidReport,
  MechanismResult,
  TaskPlan,
} from '../mechanisms/mechanism.js';
import type { Transport } from '../transport/transport.js';
import {
  FaithfulAgreement,
  type FaithfulDecision,
  type FaithfulTestHooks,
} from './faithful/agreement.js';
import { bitCodecFor } from './faithful/bit-codec.js';
import { checkFaithfulParams, type DecisionRule, type KsFlavour } from './faithful/params.js';
import {
  AbortCode,
  RoundAbort,
  abortCodeName,
  decodeAbortPayload,
  encodeAbortPayload,
  type AbortCodeValue,
  type AbortReason,
} from './abort.js';
import {
  MAX_BID_BYTES,
  bidVectorHash,
  decideMajority,
  decodeBidVector,
  encodeBidVector,
} from './bid-vector.js';
import {
  BROADCAST,
  openEnvelope,
  sealEnvelope,
  verifyEnvelope,
  type Envelope,
} from './envelope.js';
import type { SigningIdentity, Verifier } from './identity.js';
import { Phase, phaseName, type PhaseCode } from './phases.js';
import type { ClusterParams } from './session.js';

/** Default deadline of one protocol phase. */
export const PHASE_TIMEOUT_MS = 10_000;

/** Largest envelope payload accepted from a peer (a bid vector of 10^6 bidders fits). */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** A deviation hook for tests and the adversarial simulator: rewrites what this provider sends. */
export type OutgoingHook = (
  phase: PhaseCode,
  payload: Uint8Array,
  peers: readonly number[],
) => ReadonlyMap<number, Uint8Array | null> | null;

/**
 * Screens the m revealed vectors before the bid-level decision (signed user bids, #6): returns
 * them without the entries that fail a check, and the bidders it leaves out, with why. It must
 * be a deterministic function of the round and the vectors, so every provider decides alike;
 * a vector it does not change should be returned as the same object.
 */
export type BidScreen = (
  round: bigint,
  vectors: readonly (readonly BidReport[])[],
) => {
  readonly vectors: readonly (readonly BidReport[])[];
  readonly excluded: readonly { bidder: string; reason: string }[];
};

/** Everything one provider needs to run one round. */
export interface RoundContext {
  readonly params: ClusterParams;
  readonly paramsHash: Uint8Array;
  readonly round: bigint;
  readonly sid: Uint8Array;
  readonly self: number;
  readonly identity: SigningIdentity;
  /** One verifier per provider, in index order. */
  readonly verifiers: readonly Verifier[];
  readonly transport: Pick<Transport, 'send'>;
  readonly mechanism: AuctionMechanism;
  /** This provider's own bid as a bidder (its ask), canonical bytes; null when it does not bid. */
  readonly ownBid: Uint8Array | null;
  /** The users' bids this provider received before the round closed, by bidder id. */
  readonly receivedBids: ReadonlyMap<string, Uint8Array>;
  /** @default PHASE_TIMEOUT_MS */
  readonly phaseTimeoutMs?: number;
  /** Deadline of the START phase, which absorbs skew in when providers close bidding. */
  readonly startTimeoutMs?: number;
  readonly log?: Logger;
  /** Source of ρ and nonces. @default crypto.randomBytes */
  readonly random?: (n: number) => Uint8Array;
  /**
   * Number of provider groups p for mechanisms with parallel tasks; provider i is in group
   * i mod p. 1 (the default) means every provider runs every task.
   */
  readonly groups?: number;
  /** Test and simulation hook; honest providers leave it unset. */
  readonly outgoing?: OutgoingHook;
  /** Fast mode: checks the revealed vectors before the majority (the daemon's signed bids). */
  readonly screenBids?: BidScreen;
  /** Milliseconds clock. @default performance.now */
  readonly now?: () => number;
  /** Faithful-mode deviations for tests only; honest providers leave it unset. */
  readonly faithfulTest?: FaithfulTestHooks;
}

/** Counters of one round at one provider. */
export interface RoundStats {
  envelopesSent: number;
  bytesSent: number;
  envelopesReceived: number;
  bytesReceived: number;
  /** Milliseconds from the round's start to the end of each phase, by phase name. */
  phaseEndMs: Record<string, number>;
  /** Envelopes this provider sent, by phase name. */
  phaseEnvelopes: Record<string, number>;
  /** Bytes of the envelopes this provider sent, by phase name. */
  phaseBytes: Record<string, number>;
}

/** What the faithful agreement reports besides the agreed vector. */
export interface FaithfulRoundInfo {
  readonly ks: KsFlavour;
  readonly rule: DecisionRule;
  /** n, bidders in the registry. */
  readonly bidders: number;
  /** L, bits per bid. */
  readonly bitsPerBid: number;
  /** Under `leader`: the provider whose input each registry bidder adopted. */
  readonly leaders: readonly number[] | null;
}

/** The agreed input and the outcome of a round that did not abort. */
export interface RoundOutcome {
  readonly ok: true;
  readonly round: bigint;
  readonly sid: Uint8Array;
  /** Valid agreed bids, in bidder-id order. */
  readonly agreedBids: readonly BidReport[];
  /** Agreed bids the mechanism refused (they became neutral), with the reason. */
  readonly invalidBids: readonly { bidder: string; reason: string }[];
  /** Bidders some provider received but none by a majority (left out). */
  readonly noMajority: readonly string[];
  readonly bidsHash: Uint8Array;
  readonly seed: Uint8Array;
  readonly outcomeBytes: Uint8Array;
  readonly outcomeHash: Uint8Array;
  readonly summary: Record<string, unknown>;
  /** Tasks of the mechanism's graph this provider computed, e.g. ["1", "2.0", "3"]. */
  readonly tasks: readonly string[];
  /** Faithful mode only: the lanes' shape and, under `leader`, every bidder's leader. */
  readonly faithful?: FaithfulRoundInfo;
  readonly stats: RoundStats;
  readonly durationMs: number;
  /** Every envelope this provider held at the end (its own too), by phase, then sender. */
  readonly transcript?: readonly Uint8Array[];
}

/** A round that ended in ⊥ at this provider. */
export interface RoundFailure {
  readonly ok: false;
  readonly round: bigint;
  readonly sid: Uint8Array;
  readonly reason: AbortReason;
  readonly stats: RoundStats;
  readonly durationMs: number;
  /** Every envelope this provider held at the end (its own too), by phase, then sender. */
  readonly transcript?: readonly Uint8Array[];
}

/** What a round yields at one provider. */
export type RoundResult = RoundOutcome | RoundFailure;

/** The canonical hash of an outcome's bytes, H_o. */
export function outcomeHash(outcomeBytes: Uint8Array): Uint8Array {
  return sha256(utf8('DA/outcome/v1'), outcomeBytes);
}

/** The common coin's seed for coin index 0 (protocols.md §7.2, fast-mode merge of §7.4). */
export function coinSeed(sid: Uint8Array, bidsHash: Uint8Array, rhos: Uint8Array[]): Uint8Array {
  const w = new Writer().raw(utf8('DA/seed/v1')).raw(sid).u32(0).raw(bidsHash);
  for (const r of rhos) w.raw(r);
  return sha256(w.finish());
}

/** The hash a group vouches for in data transfer: H("DA/task/v1" ‖ u16 index ‖ result). */
export function taskResultHash(index: number, result: Uint8Array): Uint8Array {
  return sha256(new Writer(16).raw(utf8('DA/task/v1')).u16(index).finish(), result);
}

/** The BA commitment C_j. */
export function baCommitment(
  sid: Uint8Array,
  j: number,
  vector: Uint8Array,
  rho: Uint8Array,
  nonce: Uint8Array,
): Uint8Array {
  const w = new Writer().raw(utf8('DA/ba/v1')).raw(sid).u16(j).raw(sha256(vector));
  return sha256(w.raw(rho).raw(nonce).finish());
}

type Stage =
  | 'idle'
  | 'start'
  | 'commit'
  | 'reveal'
  | 'share'
  | 'ready'
  | 'ksreveal'
  | 'cccommit'
  | 'ccreveal'
  | 'transfer'
  | 'outcome'
  | 'done';

const STAGE_PHASE: Record<Exclude<Stage, 'idle' | 'done'>, PhaseCode> = {
  start: Phase.START,
  commit: Phase.BA_COMMIT,
  reveal: Phase.BA_REVEAL,
  share: Phase.KS_SHARE,
  ready: Phase.KS_READY,
  ksreveal: Phase.KS_REVEAL,
  cccommit: Phase.CC_COMMIT,
  ccreveal: Phase.CC_REVEAL,
  transfer: Phase.DT,
  outcome: Phase.OUTCOME,
};

/** Agreed input carried from the reveal to the outcome. */
interface Agreed {
  agreedBids: BidReport[];
  invalidBids: { bidder: string; reason: string }[];
  noMajority: string[];
  bidsHash: Uint8Array;
  seed: Uint8Array;
  faithful?: FaithfulRoundInfo;
}

/** A parallel plan in progress: this provider's task and its result. */
interface Transfer {
  plan: TaskPlan;
  group: number;
  result: Uint8Array;
  hash: Uint8Array;
}

interface Revealed {
  vector: Uint8Array;
  rho: Uint8Array;
  nonce: Uint8Array;
  echo: Uint8Array[];
}

/** Runs the fast path of one round; feed it frames with deliver(). */
export class FastRound {
  private stage: Stage = 'idle';
  private readonly m: number;
  private readonly inbox = new Map<number, (Envelope | undefined)[]>();
  private readonly own = new Map<number, Envelope>();
  private timer: NodeJS.Timeout | undefined;
  private deadline = 0;
  /** Peers that left the round with an ABORT we could not verify, and their claims. */
  private readonly aborted = new Map<number, { claim: AbortReason; env: Envelope }>();
  private t0 = 0;
  private settle!: (r: RoundResult) => void;
  private readonly done: Promise<RoundResult>;
  private readonly stats: RoundStats = {
    envelopesSent: 0,
    bytesSent: 0,
    envelopesReceived: 0,
    bytesReceived: 0,
    phaseEndMs: {},
    phaseEnvelopes: {},
    phaseBytes: {},
  };

  // State carried from phase to phase.
  private vector: Uint8Array = new Uint8Array(0);
  private rho: Uint8Array = new Uint8Array(0);
  private nonce: Uint8Array = new Uint8Array(0);
  private agreed: Agreed | undefined;
  private transfer: Transfer | undefined;
  private readonly tasks: string[] = [];
  /** The faithful agreement (#4); undefined in fast mode. */
  private readonly faithful: FaithfulAgreement | undefined;
  /** Phases this round's mode exchanges; any other is refused. */
  private readonly phases: ReadonlySet<number>;
  /** This provider's KS_SHARE envelope to each peer, as sent. */
  private readonly sentShares: (Uint8Array | undefined)[] = [];
  private ksRevealed = false;
  private decided:
    Omit<RoundOutcome, 'stats' | 'durationMs' | 'ok' | 'round' | 'sid' | 'tasks'> | undefined;

  constructor(private readonly ctx: RoundContext) {
    this.m = ctx.params.providers.length;
    this.done = new Promise((resolve) => (this.settle = resolve));
    if (ctx.params.agreement === 'faithful') this.faithful = this.faithfulAgreement();
    const ba = this.faithful?.phases ?? [Phase.BA_COMMIT, Phase.BA_REVEAL];
    this.phases = new Set([Phase.START, ...ba, Phase.DT, Phase.OUTCOME]);
  }

  /** The round's result, once it has one. */
  get result(): Promise<RoundResult> {
    return this.done;
  }

  /** True once the round has an outcome or ⊥. */
  get finished(): boolean {
    return this.stage === 'done';
  }

  /** Closes bidding at this provider and starts the protocol; returns the result. */
  start(): Promise<RoundResult> {
    if (this.stage !== 'idle') return this.done;
    this.t0 = this.now();

    // START carries this provider's own bid, so peers receive it like any other bid.
    const payload = new Writer()
      .raw(this.ctx.paramsHash)
      .bytes(this.ctx.ownBid ?? new Uint8Array(0));
    this.enter('start', this.ctx.startTimeoutMs ?? this.timeoutMs());
    this.broadcast(Phase.START, payload.finish());
    this.advance();
    return this.done;
  }

  /** Stops the round with ⊥ (shutdown); no effect when it already finished. */
  cancel(message: string): void {
    this.fail({
      code: AbortCode.LOCAL_FAILURE,
      blamed: [],
      phase: this.currentPhase(),
      message,
      evidence: [],
    });
  }

  /** Hands over a frame that arrived on the authenticated channel from provider `from`. */
  deliver(from: number, frame: Uint8Array): void {
    if (this.stage === 'done') return;
    this.stats.envelopesReceived++;
    this.stats.bytesReceived += frame.length;
    try {
      this.accept(from, frame);
      this.advance();
    } catch (err) {
      if (err instanceof RoundAbort) this.fail(err.reason);
      else this.fail(localFailure(this.currentPhase(), err));
    }
  }

  // --- intake ---------------------------------------------------------------------------

  private accept(from: number, frame: Uint8Array): void {
    if (from < 0 || from >= this.m || from === this.ctx.self) return;

    // Parse and authenticate: the channel names the sender, the signature must agree.
    let env: Envelope;
    try {
      env = openEnvelope(frame, MAX_PAYLOAD_BYTES);
    } catch (err) {
      throw this.abort(AbortCode.BAD_MESSAGE, [from], `undecodable frame: ${errText(err)}`, [
        frame,
      ]);
    }
    if (!equalBytes(env.sid, this.ctx.sid)) {
      if (this.faithful) this.refuseForeignSession(from, env);
      return; // another round's; the node routes those
    }
    if (env.from !== from) {
      const msg = `frame on the channel of ${this.name(from)} claims to come from ${env.from}`;
      throw this.abort(AbortCode.BAD_SIGNATURE, [from], msg, [frame]);
    }
    if (!verifyEnvelope(env, this.ctx.verifiers[from]!)) {
      const msg = `bad signature on ${phaseName(env.phase)} from ${this.name(from)}`;
      throw this.abort(AbortCode.BAD_SIGNATURE, [from], msg, [frame]);
    }
    const private_ = this.faithful?.ks === 'it' && env.phase === Phase.KS_SHARE;
    if (env.to !== (private_ ? this.ctx.self : BROADCAST)) {
      const what = private_ ? 'is not addressed to this provider' : 'is not a broadcast';
      const msg = `${phaseName(env.phase)} from ${this.name(from)} ${what}`;
      throw this.abort(AbortCode.BAD_MESSAGE, [from], msg, [frame]);
    }

    // One message per phase and sender: a second, different one is equivocation.
    const slots = this.slots(env.phase);
    const earlier = slots[from];
    if (earlier) {
      if (equalBytes(earlier.bytes, env.bytes)) return;
      const msg = `${this.name(from)} signed two different ${phaseName(env.phase)} messages`;
      throw this.abort(AbortCode.EQUIVOCATION, [from], msg, [earlier.bytes, env.bytes]);
    }
    slots[from] = env;

    if (env.phase === Phase.ABORT) this.onPeerAbort(env);
    else if (!this.phases.has(env.phase)) {
      const mode = this.ctx.params.agreement;
      const msg = `${this.name(from)} sent ${phaseName(env.phase)}, unused in ${mode} mode`;
      throw this.abort(AbortCode.BAD_MESSAGE, [from], msg, [frame]);
    }
  }

  private onPeerAbort(env: Envelope): void {
    let claim: AbortReason;
    try {
      claim = decodeAbortPayload(env.payload, this.m);
    } catch (err) {
      const msg = `${this.name(env.from)} signed an undecodable ABORT: ${errText(err)}`;
      throw this.abort(AbortCode.BAD_MESSAGE, [env.from], msg, [env.bytes]);
    }

    // The signed envelopes an ABORT carries count as received: we may then see for ourselves
    // what the aborting peer saw (a split message, a wrong hash) and name the culprit.
    for (const e of claim.evidence) this.acceptRelayed(e);

    // Evidence of equivocation is checked and, when it holds, adopted as our own finding.
    const proven = this.provenEquivocator(claim.evidence);
    if (proven !== null) {
      const msg = `${this.name(proven)} signed two different messages for one step`;
      throw this.abort(AbortCode.EQUIVOCATION, [proven], msg, claim.evidence.slice(0, 2));
    }
    const found = this.faithful?.provenFault(claim.evidence);
    if (found) throw this.abort(found.code, found.blamed, found.message, [...claim.evidence]);
    const badOpener = this.faithful ? null : this.provenBadOpening(claim.evidence);
    if (badOpener !== null) {
      const msg = `${this.name(badOpener)} revealed values that do not open its commitment`;
      throw this.abort(AbortCode.BAD_OPENING, [badOpener], msg, claim.evidence.slice(0, 2));
    }
    // An unproven claim blames nobody: the peer has simply left the round. We keep waiting for
    // the others, so that a provider really missing is still named at our own deadline.
    this.aborted.set(env.from, { claim, env });
  }

  /** Stores a broadcast envelope relayed inside an ABORT, if it is valid and signed by its sender. */
  private acceptRelayed(frame: Uint8Array): void {
    let env: Envelope;
    try {
      env = openEnvelope(frame, MAX_PAYLOAD_BYTES);
    } catch {
      return;
    }
    const usable =
      equalBytes(env.sid, this.ctx.sid) &&
      env.from < this.m &&
      env.from !== this.ctx.self &&
      env.to === BROADCAST &&
      env.phase !== Phase.ABORT &&
      this.phases.has(env.phase);
    if (!usable || !verifyEnvelope(env, this.ctx.verifiers[env.from]!)) return;

    const slots = this.slots(env.phase);
    const earlier = slots[env.from];
    if (!earlier) slots[env.from] = env;
    else if (!equalBytes(earlier.bytes, env.bytes)) {
      const msg = `${this.name(env.from)} signed two different ${phaseName(env.phase)} messages`;
      throw this.abort(AbortCode.EQUIVOCATION, [env.from], msg, [earlier.bytes, env.bytes]);
    }
  }

  /** Returns s when `evidence` holds two different validly signed envelopes of s for one step. */
  private provenEquivocator(evidence: readonly Uint8Array[]): number | null {
    if (evidence.length < 2) return null;
    try {
      const a = openEnvelope(evidence[0]!, MAX_PAYLOAD_BYTES);
      const b = openEnvelope(evidence[1]!, MAX_PAYLOAD_BYTES);
      const same =
        a.from === b.from && a.phase === b.phase && a.to === b.to && equalBytes(a.sid, b.sid);
      if (!same || a.from >= this.m || !equalBytes(a.sid, this.ctx.sid)) return null;
      if (equalBytes(a.bytes, b.bytes)) return null;
      const v = this.ctx.verifiers[a.from]!;
      return verifyEnvelope(a, v) && verifyEnvelope(b, v) ? a.from : null;
    } catch {
      return null;
    }
  }

  /** Returns s when `evidence` is s's signed commitment and a signed reveal that fails it. */
  private provenBadOpening(evidence: readonly Uint8Array[]): number | null {
    if (evidence.length < 2) return null;
    try {
      const c = openEnvelope(evidence[0]!, MAX_PAYLOAD_BYTES);
      const r = openEnvelope(evidence[1]!, MAX_PAYLOAD_BYTES);
      const shape = c.phase === Phase.BA_COMMIT && r.phase === Phase.BA_REVEAL && c.from === r.from;
      if (!shape || c.from >= this.m || !equalBytes(c.sid, this.ctx.sid)) return null;
      if (!equalBytes(r.sid, this.ctx.sid)) return null;
      const v = this.ctx.verifiers[c.from]!;
      if (!verifyEnvelope(c, v) || !verifyEnvelope(r, v)) return null;
      const rd = new Reader(r.payload, 'BA_REVEAL');
      const opened = baCommitment(this.ctx.sid, c.from, rd.bytes(), rd.raw(32), rd.raw(32));
      return equalBytes(opened, c.payload) ? null : c.from;
    } catch {
      return null;
    }
  }

  // --- phase machine ----------------------------------------------------------------------

  private advance(): void {
    for (;;) {
      if (this.stage === 'idle' || this.stage === 'done') return;
      const phase = STAGE_PHASE[this.stage];
      // A phase runs once every provider's message is in; when only peers that left the round
      // are still missing, the round cannot finish: ⊥ without blaming anyone on their word.
      const missing = this.missing(phase);
      if (missing.some((i) => !this.aborted.has(i))) return;
      if (missing.length > 0) throw new RoundAbort(this.peerAbort(phase));
      this.stats.phaseEndMs[phaseName(phase)] = Math.round(this.now() - this.t0);

      if (this.stage === 'start') this.afterStart();
      else if (this.stage === 'commit') this.faithful ? this.afterKsCommit() : this.afterCommit();
      else if (this.stage === 'reveal') this.faithful ? this.afterKsOpening() : this.afterReveal();
      else if (this.stage === 'share') this.afterShare();
      else if (this.stage === 'ready') this.afterReady();
      else if (this.stage === 'ksreveal') this.afterKsReveal();
      else if (this.stage === 'cccommit') this.afterCoinCommit();
      else if (this.stage === 'ccreveal') this.afterCoinReveal();
      else if (this.stage === 'transfer') this.afterTransfer();
      else this.afterOutcome();
    }
  }

  private afterStart(): void {
    // Every provider must run with our parameters; its own bid joins our received vector.
    const bids = new Map(this.ctx.receivedBids);
    for (let i = 0; i < this.m; i++) {
      const env = this.envelope(Phase.START, i);
      const r = new Reader(env.payload, 'START');
      const { hash, bid } = this.parse(env, () => ({
        hash: r.raw(32),
        bid: r.bytes(MAX_BID_BYTES),
      }));
      this.parse(env, () => r.end());
      if (!equalBytes(hash, this.ctx.paramsHash)) {
        const msg = `${this.name(i)} runs with other session parameters`;
        throw this.abort(AbortCode.PARAMS_MISMATCH, [i], msg, [env.bytes]);
      }
      if (bid.length > 0) bids.set(this.ctx.params.providers[i]!.id, bid);
    }
    if (this.faithful) return this.startFaithful(bids);

    // Commit to the received vector and the coin's randomness together.
    this.vector = encodeBidVector([...bids].map(([bidder, bytes]) => ({ bidder, bytes })));
    const random = this.random();
    this.rho = random(32);
    this.nonce = random(32);
    const c = baCommitment(this.ctx.sid, this.ctx.self, this.vector, this.rho, this.nonce);
    this.enter('commit');
    this.broadcast(Phase.BA_COMMIT, c);
  }

  private afterCommit(): void {
    for (let i = 0; i < this.m; i++) {
      const env = this.envelope(Phase.BA_COMMIT, i);
      if (env.payload.length !== 32) {
        const msg = `${this.name(i)} sent a commitment of ${env.payload.length} bytes`;
        throw this.abort(AbortCode.BAD_MESSAGE, [i], msg, [env.bytes]);
      }
    }

    // Reveal, echoing every signed commitment so that a split commitment is caught.
    const w = new Writer(this.vector.length + 128 + this.m * 200)
      .bytes(this.vector)
      .raw(this.rho)
      .raw(this.nonce)
      .u16(this.m);
    for (let i = 0; i < this.m; i++) w.bytes(this.envelope(Phase.BA_COMMIT, i).bytes);
    this.enter('reveal');
    this.broadcast(Phase.BA_REVEAL, w.finish());
  }

  private afterReveal(): void {
    const revealed = this.readReveals();
    this.checkEchoes(
      revealed.map((r) => r.echo),
      Phase.BA_COMMIT,
      Phase.BA_REVEAL,
    );
    this.checkOpenings(revealed);
    // Vectors equal to ours (the common case) are decoded once.
    let mine: BidReport[] | undefined;
    const vectors = revealed.map((r, i) => {
      if (equalBytes(r.vector, this.vector)) {
        mine ??= this.parse(this.envelope(Phase.BA_REVEAL, i), () => decodeBidVector(r.vector));
        return mine;
      }
      return this.parse(this.envelope(Phase.BA_REVEAL, i), () => decodeBidVector(r.vector));
    });

    // Decide bidder by bidder; invalid agreed bids become neutral (the bidder is left out).
    const screened = this.ctx.screenBids?.(this.ctx.round, vectors) ?? { vectors, excluded: [] };
    const { agreed, noMajority } = decideMajority(screened.vectors);
    const providerIds = new Set(this.ctx.params.providers.map((p) => p.id));
    const valid: BidReport[] = [];
    const invalidBids: { bidder: string; reason: string }[] = [...screened.excluded];
    for (const b of agreed) {
      const reason = this.ctx.mechanism.checkBid(b.bidder, b.bytes, providerIds);
      if (reason === null) valid.push(b);
      else invalidBids.push({ bidder: b.bidder, reason });
    }

    // Coin, then the mechanism on the agreed vector: whole, or as a task graph over groups.
    const bidsHash = bidVectorHash(valid);
    const seed = coinSeed(
      this.ctx.sid,
      bidsHash,
      revealed.map((r) => r.rho),
    );
    this.agreed = { agreedBids: valid, invalidBids, noMajority, bidsHash, seed };
    this.runMechanism();
  }

  /** The mechanism on the agreed vector and the seed: whole, or as a task graph over groups. */
  private runMechanism(): void {
    const a = this.agreed!;
    this.ctx.log?.debug(
      { bids: a.agreedBids.length, invalid: a.invalidBids.length, noMajority: a.noMajority.length },
      'bid vector agreed',
    );

    const groups = this.groups();
    if (groups > 1 && this.ctx.mechanism.plan) this.startTasks(groups);
    else {
      this.tasks.push('1', '2', '3');
      this.announce(this.ctx.mechanism.run(a.agreedBids, a.seed));
    }
  }

  // --- faithful stages (#4): the phase logic lives in faithful/agreement.ts ---------------

  private faithfulAgreement(): FaithfulAgreement {
    const ctx = this.ctx;
    const providerIds = new Set(ctx.params.providers.map((p) => p.id));
    return new FaithfulAgreement({
      params: checkFaithfulParams(ctx.params.faithful, this.m),
      m: this.m,
      k: ctx.params.k,
      sid: ctx.sid,
      self: ctx.self,
      verifiers: ctx.verifiers,
      codec: bitCodecFor(ctx.mechanism, providerIds),
      checkBid: (bidder, bytes) => ctx.mechanism.checkBid(bidder, bytes, providerIds),
      random: this.random(),
      name: (i) => this.name(i),
      ...(ctx.faithfulTest && { test: ctx.faithfulTest }),
    });
  }

  /** Lanes from the received vector, then the first phase of the flavour (§4.1, §4.2). */
  private startFaithful(bids: ReadonlyMap<string, Uint8Array>): void {
    const f = this.faithful!;
    f.setInputs(bids);
    if (f.ks === 'it') {
      this.enter('share');
      this.sendEach(Phase.KS_SHARE, f.sharePayloads());
    } else {
      this.enter('commit');
      this.broadcast(Phase.BA_COMMIT, f.commitment());
    }
  }

  private afterShare(): void {
    const f = this.faithful!;
    f.checkShares(this.all(Phase.KS_SHARE));

    // READY once every share is in; the reveal waits for READY from all (the guard of §2.2).
    this.enter('ready');
    this.broadcast(Phase.KS_READY, new Uint8Array(0));
    if (!f.readyGuard) this.revealShares();
  }

  private afterReady(): void {
    this.faithful!.checkReady(this.all(Phase.KS_READY));
    this.enter('ksreveal');
    if (!this.ksRevealed) this.revealShares();
  }

  private revealShares(): void {
    this.ksRevealed = true;
    this.broadcast(Phase.KS_REVEAL, this.faithful!.revealPayload(this.all(Phase.KS_SHARE)));
  }

  private afterKsReveal(): void {
    const reveals = this.all(Phase.KS_REVEAL);
    const received = this.all(Phase.KS_SHARE);
    this.commitCoin(this.faithful!.decideIt(reveals, received, this.sentShares));
  }

  private afterKsCommit(): void {
    const f = this.faithful!;
    const commits = this.all(Phase.BA_COMMIT);
    f.checkCommitments(commits);
    this.enter('reveal');
    this.broadcast(Phase.BA_REVEAL, f.opening(commits));
  }

  private afterKsOpening(): void {
    const f = this.faithful!;
    const reveals = this.all(Phase.BA_REVEAL);
    const openings = f.readOpenings(reveals);
    this.checkEchoes(
      openings.map((o) => o.echo),
      Phase.BA_COMMIT,
      Phase.BA_REVEAL,
    );
    this.commitCoin(f.decideCrypto(openings, this.all(Phase.BA_COMMIT), reveals));
  }

  /** The vector is fixed: announce H_b and commit to this provider's coin value (§7.2). */
  private commitCoin(d: FaithfulDecision): void {
    const f = this.faithful!;
    const bidsHash = bidVectorHash(d.agreedBids);
    const faithful: FaithfulRoundInfo = {
      ks: f.ks,
      rule: f.rule,
      bidders: f.bidders,
      bitsPerBid: f.bitsPerBid,
      leaders: d.leaders ? [...d.leaders] : null,
    };
    const { agreedBids, invalidBids } = d;
    const seed = new Uint8Array(0); // drawn in CC_REVEAL
    this.agreed = { agreedBids, invalidBids, noMajority: [], bidsHash, seed, faithful };
    this.enter('cccommit');
    this.broadcast(Phase.CC_COMMIT, f.coinCommit(bidsHash));
  }

  private afterCoinCommit(): void {
    const commits = this.all(Phase.CC_COMMIT);
    this.faithful!.checkCoinCommits(commits, this.agreed!.bidsHash);
    this.enter('ccreveal');
    this.broadcast(Phase.CC_REVEAL, this.faithful!.coinOpening(commits));
  }

  private afterCoinReveal(): void {
    const a = this.agreed!;
    const reveals = this.all(Phase.CC_REVEAL);
    const openings = this.faithful!.readCoinOpenings(reveals);
    this.checkEchoes(
      openings.map((o) => o.echo),
      Phase.CC_COMMIT,
      Phase.CC_REVEAL,
    );

    // seed = H("DA/seed/v1" ‖ sid ‖ 0 ‖ H_b ‖ ρ_0 … ρ_{m−1}), as in the fast path.
    const commits = this.all(Phase.CC_COMMIT);
    const rhos = this.faithful!.coinValues(openings, commits, reveals, a.bidsHash);
    a.seed = coinSeed(this.ctx.sid, a.bidsHash, rhos);
    this.runMechanism();
  }

  /** A validly signed envelope of another session on a peer's channel: other parameters. */
  private refuseForeignSession(from: number, env: Envelope): never {
    if (!verifyEnvelope(env, this.ctx.verifiers[from]!)) {
      const msg = `bad signature on ${phaseName(env.phase)} from ${this.name(from)}`;
      throw this.abort(AbortCode.BAD_SIGNATURE, [from], msg, [env.bytes]);
    }
    const msg =
      `${this.name(from)} signed a ${phaseName(env.phase)} for session ` +
      `${toHex(env.sid).slice(0, 16)}…, not ${toHex(this.ctx.sid).slice(0, 16)}…: ` +
      'it runs with other session parameters';
    throw this.abort(AbortCode.PARAMS_MISMATCH, [from], msg, [env.bytes]);
  }

  /** Task 1, then this provider's task 2.g, whose result goes to every provider (DT, §8). */
  private startTasks(groups: number): void {
    const a = this.agreed!;
    const plan = this.ctx.mechanism.plan!(a.agreedBids, a.seed, groups);
    const group = this.ctx.self % groups;
    const result = plan.runTask(group);
    const hash = taskResultHash(group, result);
    this.transfer = { plan, group, result, hash };
    this.tasks.push('1', `2.${group}`);

    // Every member vouches for the hash; the group's lowest index also sends the data.
    const w = new Writer(result.length + 48).u16(group).raw(hash);
    w.bytes(this.ctx.self === group ? result : new Uint8Array(0));
    this.enter('transfer');
    this.broadcast(Phase.DT, w.finish());
  }

  private afterTransfer(): void {
    const t = this.transfer!;
    const groups = this.groups();
    const announced = this.readTransfers(groups);

    const results: Uint8Array[] = [];
    for (let g = 0; g < groups; g++) {
      const members = announced.filter((x) => x.from % groups === g);
      results.push(g === t.group ? t.result : this.acceptGroupResult(g, members));
    }
    this.tasks.push('3');
    this.announce(t.plan.finish(results));
  }

  private readTransfers(groups: number): { from: number; hash: Uint8Array; data: Uint8Array }[] {
    const out: { from: number; hash: Uint8Array; data: Uint8Array }[] = [];
    for (let i = 0; i < this.m; i++) {
      const env = this.envelope(Phase.DT, i);
      const x = this.parse(env, () => {
        const r = new Reader(env.payload, 'DT');
        const group = r.u16();
        const hash = r.raw(32);
        const data = r.bytes();
        r.end();
        if (group !== i % groups) throw new InvalidMessageError(`claims group ${group}`);
        if (i !== group && data.length > 0) {
          throw new InvalidMessageError('sends task data although it is not the group sender');
        }
        if (i === group && !equalBytes(taskResultHash(group, data), hash)) {
          throw new InvalidMessageError('its task data does not hash to the hash it vouches for');
        }
        return { from: i, hash, data };
      });
      out.push(x);
    }
    return out;
  }

  /** A group's result, accepted only when every member vouches for the same hash. */
  private acceptGroupResult(
    g: number,
    members: { from: number; hash: Uint8Array; data: Uint8Array }[],
  ): Uint8Array {
    const sender = members.find((x) => x.from === g)!;
    const unanimous = members.every((x) => equalBytes(x.hash, sender.hash));
    if (!unanimous) {
      // Only on this abort path: recompute the task to tell who vouched for a wrong result.
      const right = taskResultHash(g, this.transfer!.plan.runTask(g));
      const wrong = members.filter((x) => !equalBytes(x.hash, right)).map((x) => x.from);
      const names = wrong.map((i) => this.name(i)).join(', ');
      const evidence = wrong.map((i) => this.envelope(Phase.DT, i).bytes);
      throw this.abort(
        AbortCode.TRANSFER_MISMATCH,
        wrong,
        `group ${g} disagrees on task 2.${g}: ${names} vouched for a wrong result`,
        evidence,
      );
    }
    const reason = this.transfer!.plan.checkTaskResult(g, sender.data);
    if (reason !== null) {
      const all = members.map((x) => x.from);
      throw this.abort(
        AbortCode.BAD_MESSAGE,
        all,
        `group ${g} sent a malformed result: ${reason}`,
        [this.envelope(Phase.DT, g).bytes],
      );
    }
    return sender.data;
  }

  /** Broadcasts H_b ‖ H_o of this provider's outcome. */
  private announce(result: MechanismResult): void {
    const a = this.agreed!;
    this.decided = {
      ...a,
      outcomeBytes: result.outcomeBytes,
      outcomeHash: outcomeHash(result.outcomeBytes),
      summary: result.summary,
    };
    this.enter('outcome');
    this.broadcast(
      Phase.OUTCOME,
      new Writer(64).raw(a.bidsHash).raw(this.decided.outcomeHash).finish(),
    );
  }

  private afterOutcome(): void {
    const d = this.decided!;
    for (let i = 0; i < this.m; i++) {
      const env = this.envelope(Phase.OUTCOME, i);
      if (env.payload.length !== 64) {
        throw this.abort(AbortCode.BAD_MESSAGE, [i], `${this.name(i)} sent a bad OUTCOME`, [
          env.bytes,
        ]);
      }
      if (!equalBytes(env.payload.subarray(0, 32), d.bidsHash)) {
        const msg = `${this.name(i)} announced another agreed bid vector`;
        throw this.abort(AbortCode.INPUT_MISMATCH, [i], msg, [env.bytes]);
      }
      if (!equalBytes(env.payload.subarray(32), d.outcomeHash)) {
        const msg = `${this.name(i)} announced another outcome`;
        throw this.abort(AbortCode.OUTCOME_MISMATCH, [i], msg, [env.bytes]);
      }
    }

    this.finish({
      ok: true,
      round: this.ctx.round,
      sid: this.ctx.sid,
      ...d,
      tasks: [...this.tasks],
      stats: this.stats,
      durationMs: this.now() - this.t0,
    });
  }

  private readReveals(): Revealed[] {
    const out: Revealed[] = [];
    for (let i = 0; i < this.m; i++) {
      const env = this.envelope(Phase.BA_REVEAL, i);
      out.push(
        this.parse(env, () => {
          const r = new Reader(env.payload, 'BA_REVEAL');
          const vector = r.bytes();
          const rho = r.raw(32);
          const nonce = r.raw(32);
          const count = r.u16();
          if (count !== this.m) throw new InvalidMessageError(`echo of ${count} commitments`);
          const echo: Uint8Array[] = [];
          for (let s = 0; s < count; s++) echo.push(r.bytes(64 * 1024));
          r.end();
          return { vector, rho, nonce, echo };
        }),
      );
    }
    return out;
  }

  /** Every provider's echo of the `commit` phase must equal what this provider received. */
  private checkEchoes(echoes: readonly Uint8Array[][], commit: PhaseCode, reveal: PhaseCode): void {
    for (let i = 0; i < this.m; i++) {
      for (let s = 0; s < this.m; s++) {
        const echoed = echoes[i]![s]!;
        const mine = this.envelope(commit, s);
        if (equalBytes(echoed, mine.bytes)) continue;

        // A differing copy is either the signer's equivocation or the echoer's forgery.
        if (this.provenEquivocator([mine.bytes, echoed]) === s) {
          const msg = `${this.name(s)} sent different commitments to different providers`;
          throw this.abort(AbortCode.EQUIVOCATION, [s], msg, [mine.bytes, echoed]);
        }
        const msg = `${this.name(i)} echoed a commitment of ${this.name(s)} that it did not sign`;
        throw this.abort(AbortCode.BAD_MESSAGE, [i], msg, [this.envelope(reveal, i).bytes]);
      }
    }
  }

  private checkOpenings(revealed: Revealed[]): void {
    for (let i = 0; i < this.m; i++) {
      const r = revealed[i]!;
      const commit = this.envelope(Phase.BA_COMMIT, i);
      const c = baCommitment(this.ctx.sid, i, r.vector, r.rho, r.nonce);
      if (!equalBytes(c, commit.payload)) {
        const msg = `${this.name(i)} revealed values that do not open its commitment`;
        const reveal = this.envelope(Phase.BA_REVEAL, i);
        throw this.abort(AbortCode.BAD_OPENING, [i], msg, [commit.bytes, reveal.bytes]);
      }
    }
  }

  // --- plumbing ---------------------------------------------------------------------------

  /**
   * Enters a stage. Deadlines are cumulative from the round's start (START's, then one phase
   * timeout per later phase), so that a provider stuck early because a peer withheld from it
   * times out, and says so, before a provider further on would blame it for being late.
   */
  private enter(stage: Stage, startTimeoutMs?: number): void {
    this.stage = stage;
    clearTimeout(this.timer);
    const phase = STAGE_PHASE[stage as keyof typeof STAGE_PHASE];
    this.deadline =
      startTimeoutMs !== undefined ? this.t0 + startTimeoutMs : this.deadline + this.timeoutMs();
    const wait = Math.max(0, this.deadline - this.now());
    this.timer = setTimeout(() => this.onDeadline(phase), wait);
  }

  private onDeadline(phase: PhaseCode): void {
    if (this.stage === 'done') return;
    const missing = this.missing(phase).filter((i) => !this.aborted.has(i));
    if (missing.length === 0) {
      this.fail(this.peerAbort(phase));
      return;
    }
    const names = missing.map((i) => this.name(i)).join(', ');
    this.fail({
      code: AbortCode.TIMEOUT,
      blamed: missing,
      phase,
      message: `deadline of ${phaseName(phase)} passed without a message from ${names}`,
      evidence: [],
    });
  }

  /** ⊥ because peers left the round; their claims are reported, not adopted as blame. */
  private peerAbort(phase: number): AbortReason {
    const [first] = this.aborted.keys();
    const claims = [...this.aborted].map(([i, { claim }]) => {
      const accused = claim.blamed.map((b) => this.name(b)).join(', ') || 'nobody';
      return `${this.name(i)} aborted (${abortCodeName(claim.code)}: ${claim.message}; it accuses ${accused})`;
    });
    return {
      code: AbortCode.PEER_ABORT,
      blamed: [],
      phase,
      message: claims.join('; '),
      evidence: [...this.aborted.values()].map((a) => a.env.bytes),
      reportedBy: first!,
    };
  }

  private broadcast(phase: PhaseCode, payload: Uint8Array): void {
    const peers = this.peers();
    const own = this.seal(phase, payload);
    this.slots(phase)[this.ctx.self] = own;
    this.own.set(phase, own);

    // Honest providers send the same envelope to all; a deviation hook may rewrite per peer.
    const rewritten = this.ctx.outgoing?.(phase, payload, peers) ?? null;
    for (const to of peers) {
      let frame = own.bytes;
      if (rewritten?.has(to)) {
        const p = rewritten.get(to);
        if (p === null || p === undefined) continue;
        frame = this.seal(phase, p).bytes;
      }
      this.send(phase, to, frame);
    }
  }

  /** A private phase (KS_SHARE): payloads[i] signed for provider i alone; its own is kept. */
  private sendEach(phase: PhaseCode, payloads: readonly Uint8Array[]): void {
    const self = this.ctx.self;
    this.slots(phase)[self] = this.seal(phase, payloads[self]!, self);

    for (const to of this.peers()) {
      let payload = payloads[to]!;
      const rewritten = this.ctx.outgoing?.(phase, payload, [to]) ?? null;
      if (rewritten?.has(to)) {
        const p = rewritten.get(to);
        if (p === null || p === undefined) continue;
        payload = p;
      }
      const frame = this.seal(phase, payload, to).bytes;
      this.sentShares[to] = frame;
      this.send(phase, to, frame);
    }
  }

  /** Hands one envelope to the transport and counts it, in total and per phase. */
  private send(phase: PhaseCode, to: number, frame: Uint8Array): void {
    const name = phaseName(phase);
    const s = this.stats;
    s.envelopesSent++;
    s.bytesSent += frame.length;
    s.phaseEnvelopes[name] = (s.phaseEnvelopes[name] ?? 0) + 1;
    s.phaseBytes[name] = (s.phaseBytes[name] ?? 0) + frame.length;
    this.ctx.transport.send(to, frame);
  }

  private peers(): number[] {
    return [...Array(this.m).keys()].filter((i) => i !== this.ctx.self);
  }

  private seal(phase: PhaseCode, payload: Uint8Array, to: number = BROADCAST): Envelope {
    const fields = { phase, sid: this.ctx.sid, from: this.ctx.self, to, payload };
    const bytes = sealEnvelope(this.ctx.identity, fields);
    return { ...fields, signature: bytes.subarray(bytes.length - 64), bytes };
  }

  private slots(phase: number): (Envelope | undefined)[] {
    let s = this.inbox.get(phase);
    if (!s) {
      s = new Array<Envelope | undefined>(this.m);
      this.inbox.set(phase, s);
    }
    return s;
  }

  private envelope(phase: PhaseCode, i: number): Envelope {
    return this.slots(phase)[i]!;
  }

  /** Every provider's envelope of a phase whose gate has passed. */
  private all(phase: PhaseCode): Envelope[] {
    return this.slots(phase) as Envelope[];
  }

  private missing(phase: PhaseCode): number[] {
    const s = this.slots(phase);
    const out: number[] = [];
    for (let i = 0; i < this.m; i++) if (!s[i]) out.push(i);
    return out;
  }

  private parse<T>(env: Envelope, f: () => T): T {
    try {
      return f();
    } catch (err) {
      const msg = `${this.name(env.from)} sent a malformed ${phaseName(env.phase)}: ${errText(err)}`;
      throw this.abort(AbortCode.BAD_MESSAGE, [env.from], msg, [env.bytes]);
    }
  }

  private abort(
    code: AbortCodeValue,
    blamed: number[],
    message: string,
    evidence: Uint8Array[],
  ): RoundAbort {
    return new RoundAbort({ code, blamed, phase: this.currentPhase(), message, evidence });
  }

  private fail(reason: AbortReason): void {
    if (this.stage === 'done') return;

    // Tell every peer, once, so that the whole cluster ends the round with ⊥ promptly; with
    // the evidence and our own message of this phase, so that peers can check for themselves.
    if (this.stage !== 'idle') {
      const mine = this.own.get(this.currentPhase() as PhaseCode);
      const evidence = [...reason.evidence.slice(0, 8), ...(mine ? [mine.bytes] : [])];
      try {
        this.broadcast(Phase.ABORT, encodeAbortPayload({ ...reason, evidence }));
      } catch (err) {
        this.ctx.log?.warn({ err }, 'could not broadcast ABORT');
      }
    }
    this.ctx.log?.info(
      { code: abortCodeName(reason.code), blamed: reason.blamed, phase: phaseName(reason.phase) },
      `round ${this.ctx.round} aborted: ${reason.message}`,
    );
    this.finish({
      ok: false,
      round: this.ctx.round,
      sid: this.ctx.sid,
      reason,
      stats: this.stats,
      durationMs: this.now() - this.t0,
    });
  }

  private finish(result: RoundResult): void {
    this.stage = 'done';
    clearTimeout(this.timer);
    this.settle({ ...result, transcript: this.transcript() });
  }

  private transcript(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const phase of [...this.inbox.keys()].sort((a, b) => a - b)) {
      for (const env of this.inbox.get(phase)!) if (env) out.push(env.bytes);
    }
    return out;
  }

  private currentPhase(): number {
    return this.stage === 'idle' || this.stage === 'done' ? 0 : STAGE_PHASE[this.stage];
  }

  private groups(): number {
    return Math.max(1, this.ctx.groups ?? 1);
  }

  private random(): (n: number) => Uint8Array {
    return this.ctx.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
  }

  private timeoutMs(): number {
    return this.ctx.phaseTimeoutMs ?? PHASE_TIMEOUT_MS;
  }

  private now(): number {
    return (this.ctx.now ?? (() => performance.now()))();
  }

  private name(i: number): string {
    const p = this.ctx.params.providers[i];
    return p ? `provider ${i} (${p.id})` : `provider ${i}`;
  }
}

function localFailure(phase: number, err: unknown): AbortReason {
  return {
    code: AbortCode.LOCAL_FAILURE,
    blamed: [],
    phase,
    message: `local failure: ${errText(err)}`,
    evidence: [],
  };
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Hex of a session id, for logs and maps. */
export function sidHex(sid: Uint8Array): string {
  return toHex(sid);
}
