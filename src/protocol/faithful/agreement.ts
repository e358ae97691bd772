/**
 * The faithful bid agreement's phase logic at one provider (protocols.md §4, §5, §7.2): one
 * consensus instance per bidder per bit, all lanes in lock-step on typed arrays, then a common
 * coin drawn once the vector is fixed. The round engine (fast-round.ts) owns the network, the
 * envelopes and the phase gating; it calls these methods when a phase's messages from every
 * provider are in, and sends what they return. Every check that fails throws RoundAbort naming
 * the provider at fault, with signed evidence wherever the fault can be proven.
 *
 *   `it`      KS_SHARE (private) → KS_READY → KS_REVEAL (echo of the signed shares) → decide
 *   `crypto`  BA_COMMIT → BA_REVEAL (opening + echo of the commitments) → decide
 *   coin      CC_COMMIT (H_b ‖ K_j) → CC_REVEAL (ρ_j, nonce_j + echo) → ρ_0 … ρ_{m−1}
 *
 * Lane ℓ carries bit ℓ mod L of bidder ⌊ℓ/L⌋ of the registry; under `leader` with `it`, lanes
 * N … N+n−1 carry each provider's ρ_{j,t} ∈ Z_m that elects bidder t's leader.
 */
import { equalBytes } from '../../core/bytes.js';
import type { BidReport } from '../../mechanisms/mechanism.js';
import { AbortCode, RoundAbort, type AbortCodeValue } from '../abort.js';
import { openEnvelope, verifyEnvelope, type Envelope } from '../envelope.js';
import type { Verifier } from '../identity.js';
import { Phase, phaseName, type PhaseCode } from '../phases.js';
import { packBits, unpackBits, type BidBitCodec } from './bit-codec.js';
import { leaderLanes, leadersFromSeeds, leadersFromShares, majorityLanes } from './lanes.js';
import type { DecisionRule, FaithfulParams, KsFlavour } from './params.js';
import {
  FIELD_PRIME,
  Reconstructor,
  dealShares,
  evaluationPoint,
  lagrangeWeights,
} from './shamir.js';
import {
  coinCommitment,
  decodeCoinCommit,
  decodeCoinOpening,
  decodeKsOpening,
  decodeKsReveal,
  decodeShares,
  encodeCoinOpening,
  encodeKsOpening,
  encodeKsReveal,
  encodeShares,
  ksCommitment,
  type CoinOpening,
  type KsOpening,
} from './wire.js';

/** Deviations for tests only; honest providers never set them. */
export interface FaithfulTestHooks {
  /**
   * false: reveal right after sending READY instead of waiting for READY from every provider
   * (the unsafe schedule of §2.2, kept only to show what the guard prevents).
   * @default true
   */
  readonly readyGuard?: boolean;
  /** Rewrites this provider's lane inputs before it shares or commits them. */
  readonly inputs?: (lanes: Uint16Array) => void;
}

/** What the faithful agreement of one provider is built from. */
export interface FaithfulAgreementOptions {
  readonly params: FaithfulParams;
  readonly m: number;
  readonly k: number;
  readonly sid: Uint8Array;
  readonly self: number;
  /** One verifier per provider, in index order. */
  readonly verifiers: readonly Verifier[];
  readonly codec: BidBitCodec;
  /** The mechanism's check of an agreed bid: null when valid, else the reason. */
  readonly checkBid: (bidder: string, bytes: Uint8Array) => string | null;
  /** Source of coefficients, ρ and nonces (crypto.randomBytes in production). */
  readonly random: (n: number) => Uint8Array;
  /** "provider i (id)", for messages. */
  readonly name: (i: number) => string;
  readonly test?: FaithfulTestHooks;
}

/** The agreed bid vector. */
export interface FaithfulDecision {
  /** Valid agreed bids in registry (bidder-id) order. */
  readonly agreedBids: BidReport[];
  /** Bidders whose agreed bits are not a valid bid (they became neutral), with the reason. */
  readonly invalidBids: { bidder: string; reason: string }[];
  /** Under `leader`: the leader of every bidder, in registry order. */
  readonly leaders: Uint16Array | null;
}

/** A finding another provider proved with its evidence. */
export interface ProvenFault {
  readonly code: AbortCodeValue;
  readonly blamed: number[];
  readonly message: string;
}

/** The faithful bid agreement and the coin of one provider in one round. */
export class FaithfulAgreement {
  /** Knowledge-sharing flavour. */
  readonly ks: KsFlavour;
  readonly rule: DecisionRule;
  /** Reveal only once READY came from every provider (§2.2); off only in tests. */
  readonly readyGuard: boolean;
  /** n, bidders in the registry. */
  readonly bidders: number;
  /** L, bits per bid. */
  readonly bitsPerBid: number;
  /** N = n·L bid lanes. */
  readonly lanes: number;
  /** Values shared per provider: N, plus n leader lanes under `it` + `leader`. */
  readonly width: number;
  private readonly m: number;
  private inputs = new Uint16Array(0);
  private seed: Uint8Array = new Uint8Array(0);
  private nonce: Uint8Array = new Uint8Array(0);
  private rho: Uint8Array = new Uint8Array(0);
  private coinNonce: Uint8Array = new Uint8Array(0);
  private reconstructor: Reconstructor | undefined;

  constructor(private readonly o: FaithfulAgreementOptions) {
    this.ks = o.params.ks;
    this.rule = o.params.rule;
    this.readyGuard = o.test?.readyGuard ?? true;
    this.m = o.m;
    this.bidders = o.params.bidders.length;
    this.bitsPerBid = o.codec.bits;
    this.lanes = this.bidders * this.bitsPerBid;
    const leaderLanes = this.ks === 'it' && this.rule === 'leader' ? this.bidders : 0;
    this.width = this.lanes + leaderLanes;
  }

  /** The phases this flavour exchanges between START and OUTCOME, in order. */
  get phases(): readonly PhaseCode[] {
    const ks: PhaseCode[] =
      this.ks === 'it'
        ? [Phase.KS_SHARE, Phase.KS_READY, Phase.KS_REVEAL]
        : [Phase.BA_COMMIT, Phase.BA_REVEAL];
    return [...ks, Phase.CC_COMMIT, Phase.CC_REVEAL];
  }

  /**
   * Encodes this provider's received bids into its lane inputs; a bidder without a valid bid
   * here gets the neutral bid. Under `it` + `leader` it also draws ρ_{j,t} for every bidder.
   */
  setInputs(bids: ReadonlyMap<string, Uint8Array>): void {
    const lanes = new Uint8Array(this.lanes);
    const L = this.bitsPerBid;
    this.o.params.bidders.forEach((id, t) => this.o.codec.encode(id, bids.get(id), lanes, t * L));

    this.inputs = new Uint16Array(this.width);
    this.inputs.set(lanes);
    if (this.width > this.lanes) {
      this.inputs.set(this.uniformBelow(this.m, this.bidders), this.lanes);
    }
    this.o.test?.inputs?.(this.inputs);
  }

  // --- `it`: Shamir knowledge sharing ----------------------------------------------------

  /** KS_SHARE payloads by receiving provider (this provider's own included, kept unsent). */
  sharePayloads(): Uint8Array[] {
    return dealShares(this.inputs, this.o.k, this.m, this.o.random).map(encodeShares);
  }

  /** Checks that every provider's share to this one is well formed (READY's condition). */
  checkShares(shares: readonly Envelope[]): void {
    shares.forEach((env, i) => {
      try {
        decodeShares(env.payload, this.width);
      } catch (err) {
        const msg = `${this.o.name(i)} sent malformed shares: ${errText(err)}`;
        throw fault(AbortCode.BAD_MESSAGE, [i], Phase.KS_SHARE, msg, [env.bytes]);
      }
    });
  }

  /** KS_READY carries nothing; a non-empty one is malformed. */
  checkReady(ready: readonly Envelope[]): void {
    ready.forEach((env, i) => {
      if (env.payload.length === 0) return;
      const msg = `${this.o.name(i)} sent a KS_READY with ${env.payload.length} bytes`;
      throw fault(AbortCode.BAD_MESSAGE, [i], Phase.KS_READY, msg, [env.bytes]);
    });
  }

  /** KS_REVEAL: the echo of the signed shares received from origins 0..m-1. */
  revealPayload(shares: readonly Envelope[]): Uint8Array {
    return encodeKsReveal(shares.map((e) => e.bytes));
  }

  /**
   * Decides from every provider's KS_REVEAL (§4.1): each origin's points must lie on one
   * polynomial of degree ≤ k and its secrets must be bits (ρ < m on leader lanes); then the
   * rule. `received[i]` is origin i's share to this provider, `sent[r]` this one's share to r.
   *
   * An echoed share is checked for its fields (origin, receiver, session) always, and for its
   * signature only when its origin fails: the honest reporters' m−k ≥ k+1 genuine points fix
   * every polynomial, so a point that fits it is the genuine one whoever echoed it, and
   * signatures matter only to tell a lying reporter from a dealer who dealt badly.
   */
  decideIt(
    reveals: readonly Envelope[],
    received: readonly Envelope[],
    sent: readonly (Uint8Array | undefined)[],
  ): FaithfulDecision {
    const m = this.m;
    const self = this.o.self;
    const echoes: Echoed[][] = Array.from({ length: m }, () => new Array<Echoed>(m));

    // Every reporter's echo, by origin; frames this provider received or sent are known good.
    for (let r = 0; r < m; r++) {
      const reveal = reveals[r]!;
      const echo = this.parse(reveal, () =>
        decodeKsReveal(reveal.payload, m, 2 * this.width + 256),
      );
      for (let i = 0; i < m; i++) {
        const frame = r === self ? received[i]!.bytes : echo[i]!;
        const known =
          r === self || (i === self && sent[r] !== undefined && equalBytes(frame, sent[r]!));
        echoes[i]![r] = this.echoedShare(frame, i, r, reveal, known);
      }
    }

    // Reconstruct every origin's lanes; a failure is the dealer's unless an echo was forged.
    const inputs: Uint8Array[] = [];
    const rhos: Uint16Array[] = [];
    this.reconstructor ??= new Reconstructor(m, this.o.k);
    for (let i = 0; i < m; i++) {
      const row = echoes[i]!;
      if (row.some((e) => e.malformed !== null)) throw this.dealerFault(i, row, reveals, null);
      const values = new Uint16Array(this.width);
      const res = this.reconstructor.reconstruct(
        row.map((e) => e.points),
        values,
      );
      const fixing = row.slice(0, this.o.k + 1);
      if (!res.ok) {
        const msg =
          `${this.o.name(i)} dealt shares that do not lie on one polynomial of degree ` +
          `${this.o.k} (${this.laneName(res.lane)}, share to ${this.o.name(res.reporter)})`;
        const evidence = [...fixing, row[res.reporter]!];
        throw this.dealerFault(i, row, reveals, { message: msg, evidence });
      }
      const bad = this.outOfRange(values);
      if (bad >= 0) {
        const message = this.outOfRangeMessage(i, values[bad]!, bad);
        throw this.dealerFault(i, row, reveals, { message, evidence: fixing });
      }
      inputs.push(Uint8Array.from(values.subarray(0, this.lanes)));
      rhos.push(values.subarray(this.lanes));
    }

    const leaders = this.rule === 'leader' ? leadersFromShares(rhos, m, this.bidders) : null;
    return this.decide(inputs, leaders);
  }

  // --- `crypto`: commit-reveal knowledge sharing -----------------------------------------

  /** BA_COMMIT: C_j over the packed lanes, R_j and a nonce. */
  commitment(): Uint8Array {
    this.seed = this.o.random(32);
    this.nonce = this.o.random(32);
    return ksCommitment(this.o.sid, this.o.self, this.packed(), this.seed, this.nonce);
  }

  /** Checks that every commitment is 32 bytes. */
  checkCommitments(commits: readonly Envelope[]): void {
    commits.forEach((env, i) => {
      if (env.payload.length === 32) return;
      const msg = `${this.o.name(i)} sent a commitment of ${env.payload.length} bytes`;
      throw fault(AbortCode.BAD_MESSAGE, [i], Phase.BA_COMMIT, msg, [env.bytes]);
    });
  }

  /** BA_REVEAL: the opening and the echo of every signed commitment. */
  opening(commits: readonly Envelope[]): Uint8Array {
    const echo = commits.map((e) => e.bytes);
    return encodeKsOpening({ packed: this.packed(), seed: this.seed, nonce: this.nonce, echo });
  }

  /** Parses every BA_REVEAL (the engine then checks the echoes). */
  readOpenings(reveals: readonly Envelope[]): KsOpening[] {
    const bytes = Math.ceil(this.lanes / 8);
    return reveals.map((env) => this.parse(env, () => decodeKsOpening(env.payload, this.m, bytes)));
  }

  /** Decides from the openings (§4.2): each must open its commitment, then the rule. */
  decideCrypto(
    openings: readonly KsOpening[],
    commits: readonly Envelope[],
    reveals: readonly Envelope[],
  ): FaithfulDecision {
    const inputs = openings.map((o, i) => {
      const c = ksCommitment(this.o.sid, i, o.packed, o.seed, o.nonce);
      if (!equalBytes(c, commits[i]!.payload)) {
        const msg = `${this.o.name(i)} revealed lanes that do not open its commitment`;
        const evidence = [commits[i]!.bytes, reveals[i]!.bytes];
        throw fault(AbortCode.BAD_OPENING, [i], Phase.BA_REVEAL, msg, evidence);
      }
      return this.parse(reveals[i]!, () => unpackBits(o.packed, this.lanes));
    });

    const leaders =
      this.rule === 'leader'
        ? leadersFromSeeds(
            this.o.sid,
            openings.map((o) => o.seed),
            this.bidders,
          )
        : null;
    return this.decide(inputs, leaders);
  }

  // --- common coin, after the vector is fixed (§7.2) -------------------------------------

  /** CC_COMMIT: H_b in clear and K_j over ρ_j, a nonce and H_b. */
  coinCommit(bidsHash: Uint8Array): Uint8Array {
    this.rho = this.o.random(32);
    this.coinNonce = this.o.random(32);
    const k = coinCommitment(this.o.sid, this.o.self, bidsHash, this.rho, this.coinNonce);
    const out = new Uint8Array(64);
    out.set(bidsHash);
    out.set(k, 32);
    return out;
  }

  /**
   * Input validation before anything of the coin is revealed: every provider must announce the
   * same H_b as this one, else ⊥ naming it.
   */
  checkCoinCommits(commits: readonly Envelope[], bidsHash: Uint8Array): void {
    commits.forEach((env, i) => {
      const c = this.parse(env, () => decodeCoinCommit(env.payload));
      if (equalBytes(c.bidsHash, bidsHash)) return;
      const msg = `${this.o.name(i)} agreed on another bid vector`;
      throw fault(AbortCode.INPUT_MISMATCH, [i], Phase.CC_COMMIT, msg, [env.bytes]);
    });
  }

  /** CC_REVEAL: ρ_j, the nonce and the echo of every signed coin commitment. */
  coinOpening(commits: readonly Envelope[]): Uint8Array {
    const echo = commits.map((e) => e.bytes);
    return encodeCoinOpening({ rho: this.rho, nonce: this.coinNonce, echo });
  }

  /** Parses every CC_REVEAL (the engine then checks the echoes). */
  readCoinOpenings(reveals: readonly Envelope[]): CoinOpening[] {
    return reveals.map((env) => this.parse(env, () => decodeCoinOpening(env.payload, this.m)));
  }

  /** Checks every coin opening against its commitment; returns ρ_0 … ρ_{m−1}. */
  coinValues(
    openings: readonly CoinOpening[],
    commits: readonly Envelope[],
    reveals: readonly Envelope[],
    bidsHash: Uint8Array,
  ): Uint8Array[] {
    return openings.map((o, i) => {
      const k = coinCommitment(this.o.sid, i, bidsHash, o.rho, o.nonce);
      if (equalBytes(k, commits[i]!.payload.subarray(32))) return o.rho;
      const evidence = [commits[i]!.bytes, reveals[i]!.bytes];
      throw fault(AbortCode.BAD_OPENING, [i], Phase.CC_REVEAL, this.badCoinMessage(i), evidence);
    });
  }

  // --- evidence from other providers' ABORTs ---------------------------------------------

  /**
   * Checks evidence another provider sent with its ABORT and returns the fault it proves, or
   * null: a commitment and a reveal by one signer that do not match (BA or coin), a signed
   * share that is not made of field elements, or k+1 or more signed shares of one dealer to
   * distinct providers that lie off one polynomial or share a secret out of range.
   */
  provenFault(evidence: readonly Uint8Array[]): ProvenFault | null {
    try {
      const envs = evidence.map((e) => openEnvelope(e, 2 * this.width + 1024 * 1024));
      if (envs.length === 0 || envs.some((e) => !this.signedHere(e, envs[0]!.from))) return null;
      const [a, b] = envs;
      if (envs.length === 2 && a!.phase === Phase.BA_COMMIT && b!.phase === Phase.BA_REVEAL) {
        return this.provenBadKsOpening(a!, b!);
      }
      if (envs.length === 2 && a!.phase === Phase.CC_COMMIT && b!.phase === Phase.CC_REVEAL) {
        return this.provenBadCoinOpening(a!, b!);
      }
      if (envs.every((e) => e.phase === Phase.KS_SHARE)) return this.provenBadDealing(envs);
      return null;
    } catch {
      return null;
    }
  }

  // --- internals -------------------------------------------------------------------------

  private decide(inputs: readonly Uint8Array[], leaders: Uint16Array | null): FaithfulDecision {
    const agreed = new Uint8Array(this.lanes);
    if (leaders) leaderLanes(inputs, leaders, this.bitsPerBid, agreed);
    else majorityLanes(inputs, agreed);

    // Bits back to bids; anything that is not a valid bid is the neutral bid.
    const agreedBids: BidReport[] = [];
    const invalidBids: { bidder: string; reason: string }[] = [];
    this.o.params.bidders.forEach((bidder, t) => {
      const d = this.o.codec.decode(bidder, agreed, t * this.bitsPerBid);
      if (d.status === 'invalid') invalidBids.push({ bidder, reason: d.reason });
      if (d.status !== 'bid') return;
      const reason = this.o.checkBid(bidder, d.bytes);
      if (reason === null) agreedBids.push({ bidder, bytes: d.bytes });
      else invalidBids.push({ bidder, reason });
    });
    return { agreedBids, invalidBids, leaders };
  }

  /**
   * Origin i's share to reporter r from the frame r echoed: its fields must name i, r and this
   * session (else r is at fault). Points out of the field are set aside for dealerFault.
   */
  private echoedShare(
    frame: Uint8Array,
    i: number,
    r: number,
    reveal: Envelope,
    known: boolean,
  ): Echoed {
    let env: Envelope;
    try {
      env = openEnvelope(frame, 2 * this.width + 64);
    } catch (err) {
      const msg = `${this.o.name(r)} echoed an undecodable share: ${errText(err)}`;
      throw fault(AbortCode.BAD_MESSAGE, [r], Phase.KS_REVEAL, msg, [reveal.bytes]);
    }
    const right =
      env.phase === Phase.KS_SHARE &&
      env.from === i &&
      env.to === r &&
      equalBytes(env.sid, this.o.sid) &&
      env.payload.length === 2 * this.width;
    if (!right) {
      const msg = `${this.o.name(r)} echoed a share that is not ${this.o.name(i)}'s share to it`;
      throw fault(AbortCode.BAD_MESSAGE, [r], Phase.KS_REVEAL, msg, [reveal.bytes]);
    }
    try {
      return { env, known, points: decodeShares(env.payload, this.width), malformed: null };
    } catch (err) {
      return { env, known, points: new Uint16Array(this.width), malformed: errText(err) };
    }
  }

  /**
   * The fault behind origin i's failed lanes: a reporter whose echo is not signed by i (checked
   * now, only on this path), else the dealer i, with its signed shares as evidence: the
   * finding's, or (finding null) the first share that is not made of field elements.
   */
  private dealerFault(
    i: number,
    row: readonly Echoed[],
    reveals: readonly Envelope[],
    finding: { message: string; evidence: readonly Echoed[] } | null,
  ): RoundAbort {
    for (let r = 0; r < this.m; r++) {
      const e = row[r]!;
      if (e.known || verifyEnvelope(e.env, this.o.verifiers[i]!)) continue;
      const msg = `${this.o.name(r)} echoed a share of ${this.o.name(i)} that it did not sign`;
      return fault(AbortCode.BAD_MESSAGE, [r], Phase.KS_REVEAL, msg, [reveals[r]!.bytes]);
    }
    if (finding) {
      const frames = finding.evidence.map((e) => e.env.bytes);
      return fault(AbortCode.BAD_MESSAGE, [i], Phase.KS_REVEAL, finding.message, frames);
    }
    const r = row.findIndex((e) => e.malformed !== null);
    const to = this.o.name(r);
    const msg = `${this.o.name(i)} signed malformed shares to ${to}: ${row[r]!.malformed}`;
    return fault(AbortCode.BAD_MESSAGE, [i], Phase.KS_REVEAL, msg, [row[r]!.env.bytes]);
  }

  /** Index of the first reconstructed value that is not a bit (or not below m), else −1. */
  private outOfRange(values: Uint16Array): number {
    for (let l = 0; l < this.lanes; l++) if (values[l]! > 1) return l;
    for (let l = this.lanes; l < this.width; l++) if (values[l]! >= this.m) return l;
    return -1;
  }

  private outOfRangeMessage(dealer: number, value: number, lane: number): string {
    return `${this.o.name(dealer)} shared ${value} in ${this.laneName(lane)}, out of range`;
  }

  private badCoinMessage(i: number): string {
    return `${this.o.name(i)} revealed a coin value that does not open its commitment`;
  }

  private laneName(l: number): string {
    if (l >= this.lanes) {
      return `the leader lane of bidder ${this.o.params.bidders[l - this.lanes]}`;
    }
    const t = Math.floor(l / this.bitsPerBid);
    return `lane ${l} (bidder ${this.o.params.bidders[t]}, bit ${l % this.bitsPerBid})`;
  }

  private packed(): Uint8Array {
    const bits = new Uint8Array(this.lanes);
    for (let l = 0; l < this.lanes; l++) bits[l] = this.inputs[l] === 0 ? 0 : 1;
    return packBits(bits);
  }

  /** `count` uniform values in [0, bound), by rejection on 16-bit words. */
  private uniformBelow(bound: number, count: number): Uint16Array {
    const limit = 65536 - (65536 % bound);
    const out = new Uint16Array(count);
    let filled = 0;
    while (filled < count) {
      const bytes = this.o.random(2 * (count - filled) + 16);
      for (let b = 0; b + 1 < bytes.length && filled < count; b += 2) {
        const v = (bytes[b]! << 8) | bytes[b + 1]!;
        if (v < limit) out[filled++] = v % bound;
      }
    }
    return out;
  }

  private parse<T>(env: Envelope, f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof RoundAbort) throw err;
      const what = `a malformed ${phaseName(env.phase)}`;
      const msg = `${this.o.name(env.from)} sent ${what}: ${errText(err)}`;
      throw fault(AbortCode.BAD_MESSAGE, [env.from], env.phase, msg, [env.bytes]);
    }
  }

  private signedHere(env: Envelope, from: number): boolean {
    if (env.from !== from || from >= this.m || !equalBytes(env.sid, this.o.sid)) return false;
    return verifyEnvelope(env, this.o.verifiers[from]!);
  }

  private provenBadKsOpening(c: Envelope, r: Envelope): ProvenFault | null {
    const o = decodeKsOpening(r.payload, this.m, Math.ceil(this.lanes / 8));
    const opened = ksCommitment(this.o.sid, c.from, o.packed, o.seed, o.nonce);
    if (equalBytes(opened, c.payload)) return null;
    const message = `${this.o.name(c.from)} revealed lanes that do not open its commitment`;
    return { code: AbortCode.BAD_OPENING, blamed: [c.from], message };
  }

  private provenBadCoinOpening(c: Envelope, r: Envelope): ProvenFault | null {
    const { bidsHash, commitment } = decodeCoinCommit(c.payload);
    const o = decodeCoinOpening(r.payload, this.m);
    if (equalBytes(coinCommitment(this.o.sid, c.from, bidsHash, o.rho, o.nonce), commitment)) {
      return null;
    }
    const message = this.badCoinMessage(c.from);
    return { code: AbortCode.BAD_OPENING, blamed: [c.from], message };
  }

  /** k+1 or more signed shares of one dealer to distinct providers that cannot be honest. */
  private provenBadDealing(envs: readonly Envelope[]): ProvenFault | null {
    const k1 = this.o.k + 1;
    const dealer = envs[0]!.from;
    const receivers = envs.map((e) => e.to);
    if (new Set(receivers).size !== envs.length || receivers.some((r) => r >= this.m)) return null;
    const blame = (what: string): ProvenFault => ({
      code: AbortCode.BAD_MESSAGE,
      blamed: [dealer],
      message: `${this.o.name(dealer)} ${what}`,
    });

    // One share outside the field is proof; otherwise k+1 or more must fail together.
    let pts: Uint16Array[];
    try {
      pts = envs.map((e) => decodeShares(e.payload, this.width));
    } catch {
      return blame('dealt shares that are not field elements');
    }
    if (envs.length < k1) return null;
    const xs = receivers.slice(0, k1).map(evaluationPoint);
    for (let e = k1; e < envs.length; e++) {
      const lane = offPolynomial(pts, xs, evaluationPoint(receivers[e]!), pts[e]!);
      if (lane >= 0) {
        return blame(
          `dealt shares that do not lie on one polynomial of degree ${this.o.k} ` +
            `(${this.laneName(lane)}, share to ${this.o.name(receivers[e]!)})`,
        );
      }
    }
    const zero = lagrangeWeights(xs, 0);
    const secrets = new Uint16Array(this.width);
    for (let l = 0; l < this.width; l++) {
      let acc = 0;
      for (let t = 0; t < k1; t++) acc += zero[t]! * pts[t]![l]!;
      secrets[l] = acc % FIELD_PRIME;
    }
    const bad = this.outOfRange(secrets);
    if (bad < 0) return null;
    const message = this.outOfRangeMessage(dealer, secrets[bad]!, bad);
    return { code: AbortCode.BAD_MESSAGE, blamed: [dealer], message };
  }
}

/** Origin i's share to one reporter, as echoed. */
interface Echoed {
  readonly env: Envelope;
  /** This provider received or sent the frame itself. */
  readonly known: boolean;
  readonly points: Uint16Array;
  /** Why the points are not field elements, or null. */
  readonly malformed: string | null;
}

/** The first lane where ys is off the polynomial through (xs[t], pts[t]), else −1. */
function offPolynomial(pts: Uint16Array[], xs: number[], x: number, ys: Uint16Array): number {
  const w = lagrangeWeights(xs, x);
  for (let l = 0; l < ys.length; l++) {
    let acc = 0;
    for (let t = 0; t < xs.length; t++) acc += w[t]! * pts[t]![l]!;
    if (acc % FIELD_PRIME !== ys[l]) return l;
  }
  return -1;
}

function fault(
  code: AbortCodeValue,
  blamed: number[],
  phase: PhaseCode,
  message: string,
  evidence: Uint8Array[],
): RoundAbort {
  return new RoundAbort({ code, blamed, phase, message, evidence });
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
