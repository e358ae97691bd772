/**
 * `auctioneer verify`: recomputes one round from a provider's ledger alone. For a round with an
 * outcome it checks every envelope's signature, the parameters in START, the echo of every
 * signed commitment and every opening, the users' signatures and the majority over the revealed
 * vectors (H_b), the coin's seed from the revealed ρ_j, the mechanism on the agreed bids (H_o),
 * every provider's OUTCOME, the provider's signed result, and that the bids it recorded are the
 * users' bids in its own vector. For ⊥ it checks the evidence where a third party can. The
 * first check that fails is the answer, with its reason.
 */
import { equalBytes, toHex } from '../core/bytes.js';
import { AuctioneerError } from '../core/errors.js';
import type { BidReport } from '../mechanisms/mechanism.js';
import { loadCluster, parseCluster, type Cluster } from '../node/cluster.js';
import { verifyResult } from '../node/signed-result.js';
import { AbortCode, decodeAbortPayload } from '../protocol/abort.js';
import {
  bidVectorHash,
  decideMajority,
  decodeBidVector,
  encodeBidVector,
} from '../protocol/bid-vector.js';
import { verifyEnvelope, type Envelope } from '../protocol/envelope.js';
import { baCommitment, coinSeed, outcomeHash } from '../protocol/fast-round.js';
import { Verifier } from '../protocol/identity.js';
import { Phase, phaseName, type PhaseCode } from '../protocol/phases.js';
import { clusterParamsHash, sessionId } from '../protocol/session.js';
import { Ledger, type RoundRecord } from './ledger.js';
import { daemonCluster, screenSignedBids } from './signed-bid.js';
import { parseReveal, parseStart, slotTranscript, type PhaseSlots } from './transcript.js';

/** What verification found. */
export interface VerifyReport {
  readonly ledger: string;
  readonly round: string;
  /** How the round ended at this provider, or 'missing' when the ledger has no record. */
  readonly status: RoundRecord['status'] | 'missing';
  /** True when every check passed. */
  readonly ok: boolean;
  /** The checks that passed, in order, as sentences. */
  readonly checks: readonly string[];
  /** Why verification failed (the first failing check), or null. */
  readonly problem: string | null;
  readonly outcomeHash?: string;
}

/** A failed check; its message is the reason. */
class CheckFailed extends AuctioneerError {
  constructor(message: string) {
    super('VERIFY_FAILED', message);
  }
}

/**
 * Verifies round `round` of the ledger at `path`. With `clusterPath`, the cluster stored in the
 * ledger must equal that file's (otherwise the ledger's own copy of the public keys is trusted).
 */
export function verifyLedgerRound(path: string, round: bigint, clusterPath?: string): VerifyReport {
  const ledger = Ledger.openReadOnly(path);
  const checks: string[] = [];
  let status: VerifyReport['status'] = 'missing';
  let hash: string | undefined;
  try {
    const { cluster, self } = ledgerCluster(ledger, clusterPath, checks);
    const rec = ledger.readRound(round);
    if (!rec) throw new CheckFailed(`the ledger has no record of round ${round}`);
    status = rec.status;

    const sid = sessionId(cluster.params, round);
    if (!equalBytes(rec.sid, sid)) {
      throw new CheckFailed(`the recorded session id is not round ${round}'s of this cluster`);
    }
    checks.push(`session id ${toHex(sid).slice(0, 16)}… is round ${round} of this cluster`);
    if (rec.status === 'interrupted') {
      throw new CheckFailed(`round ${round} did not finish here: ${rec.abortMessage ?? ''}`);
    }

    const v = new RoundVerifier(cluster, self, rec, sid, checks);
    v.run();
    hash = rec.outcomeHash ? toHex(rec.outcomeHash) : undefined;
    return {
      ledger: path,
      round: String(round),
      status,
      ok: true,
      checks,
      problem: null,
      ...(hash && { outcomeHash: hash }),
    };
  } catch (err) {
    if (!(err instanceof AuctioneerError)) throw err;
    return { ledger: path, round: String(round), status, ok: false, checks, problem: err.message };
  } finally {
    ledger.close();
  }
}

/** The cluster the ledger was written for, checked against a cluster file when one is given. */
function ledgerCluster(
  ledger: Ledger,
  clusterPath: string | undefined,
  checks: string[],
): { cluster: Cluster; self: number } {
  const meta = ledger.meta();
  if (!meta.cluster) throw new CheckFailed('the ledger holds no cluster description');
  const stored = daemonCluster(parseCluster(JSON.parse(meta.cluster), `${ledger.path} (cluster)`));
  if (toHex(clusterParamsHash(stored.params)) !== meta.paramsHash) {
    throw new CheckFailed('the stored cluster does not hash to the parameters the ledger names');
  }
  const self = Number(meta.providerIndex);
  if (stored.file.providers[self]?.id !== meta.providerId) {
    throw new CheckFailed(`provider ${meta.providerId} is not index ${self} of the stored cluster`);
  }

  if (clusterPath) {
    const given = daemonCluster(loadCluster(clusterPath));
    if (!equalBytes(clusterParamsHash(given.params), clusterParamsHash(stored.params))) {
      const diff = given.file.providers.findIndex(
        (p, i) => JSON.stringify(p) !== JSON.stringify(stored.file.providers[i]),
      );
      const where = diff >= 0 ? `providers.${diff}` : 'clusterId, k or auction';
      throw new CheckFailed(`the ledger's cluster differs from ${clusterPath} (${where})`);
    }
    checks.push(`the ledger's cluster is the one in ${clusterPath}`);
  } else {
    checks.push("the ledger's own copy of the cluster's public keys is used (no --cluster)");
  }
  return { cluster: stored, self };
}

/** Replays one recorded round. */
class RoundVerifier {
  private readonly m: number;
  private readonly verifiers: Verifier[];
  private slots!: PhaseSlots;

  constructor(
    private readonly cluster: Cluster,
    private readonly self: number,
    private readonly rec: RoundRecord,
    private readonly sid: Uint8Array,
    private readonly checks: string[],
  ) {
    this.m = cluster.params.providers.length;
    this.verifiers = cluster.params.providers.map((p) => new Verifier(p.signingKey));
  }

  run(): void {
    this.transcript();
    this.signedResult();
    if (this.rec.status === 'outcome') this.outcome();
    else this.abort();
  }

  /** Every recorded envelope is of this round and validly signed by its sender. */
  private transcript(): void {
    try {
      this.slots = slotTranscript(
        this.rec.envelopes.map((e) => e.bytes),
        this.m,
      );
    } catch (err) {
      throw new CheckFailed(`transcript: ${(err as Error).message}`);
    }
    let n = 0;
    for (const [phase, list] of this.slots) {
      list.forEach((env, i) => {
        if (!env) return;
        n++;
        const what = `${phaseName(phase)} of ${this.name(i)}`;
        if (!equalBytes(env.sid, this.sid)) throw new CheckFailed(`${what} is of another session`);
        if (!verifyEnvelope(env, this.verifiers[i]!)) {
          throw new CheckFailed(`${what}: the signature does not verify (edited?)`);
        }
      });
    }
    this.checks.push(`transcript: ${n} envelopes, each validly signed by its sender`);
  }

  /** The result handed to clients is this provider's signature over this record. */
  private signedResult(): void {
    const json = this.rec.signedResult;
    if (!json) throw new CheckFailed('no signed result recorded');
    try {
      verifyResult(json, this.self, this.sid, this.verifiers[this.self]!);
    } catch (err) {
      throw new CheckFailed(`signed result: ${(err as Error).message}`);
    }
    if (json.status !== this.rec.status) {
      throw new CheckFailed(`signed result says ${json.status}, the record ${this.rec.status}`);
    }
    if (this.rec.status === 'outcome') {
      const same =
        json.bidsHash === hex(this.rec.bidsHash) && json.outcomeHash === hex(this.rec.outcomeHash);
      if (!same)
        throw new CheckFailed('the signed result names another H_b or H_o than the record');
    } else if (json.abort?.code !== this.rec.abortCode) {
      throw new CheckFailed(
        `signed result says ${json.abort?.code}, the record ${this.rec.abortCode}`,
      );
    }
    this.checks.push(`signed result: signed by ${this.name(this.self)}, equal to the record`);
  }

  private outcome(): void {
    const rec = this.rec;
    const start = this.full(Phase.START);
    const commits = this.full(Phase.BA_COMMIT);
    const revealEnvs = this.full(Phase.BA_REVEAL);
    const outcomes = this.full(Phase.OUTCOME);

    // START: same parameters everywhere; the providers' own asks.
    const paramsHash = clusterParamsHash(this.cluster.params);
    const asks = start.map((env, i) => {
      const s = this.parse(env, () => parseStart(env.payload));
      if (!equalBytes(s.paramsHash, paramsHash)) {
        throw new CheckFailed(`START of ${this.name(i)} names other parameters`);
      }
      return s.bid;
    });
    this.checks.push('START: every provider ran with these parameters');

    // Commitments: every echo equals the signed commitment, every reveal opens it.
    const reveals = revealEnvs.map((env) =>
      this.parse(env, () => parseReveal(env.payload, this.m)),
    );
    reveals.forEach((r, i) => {
      r.echo.forEach((e, s) => {
        if (!equalBytes(e, commits[s]!.bytes)) {
          throw new CheckFailed(`${this.name(i)} echoed another commitment of ${this.name(s)}`);
        }
      });
      const c = baCommitment(this.sid, i, r.vector, r.rho, r.nonce);
      if (!equalBytes(c, commits[i]!.payload)) {
        throw new CheckFailed(`the reveal of ${this.name(i)} does not open its commitment`);
      }
    });
    this.checks.push('commitments: every echo equals the signed commitment; every reveal opens it');

    // The agreement: users' signatures, then the majority over the revealed vectors.
    const vectors = reveals.map((r, i) =>
      this.parse(revealEnvs[i]!, () => decodeBidVector(r.vector)),
    );
    this.ownBids(vectors[this.self]!, asks);
    const providerIds = new Set(this.cluster.params.providers.map((p) => p.id));
    const screened = screenSignedBids(this.cluster.file.clusterId, providerIds)(rec.round, vectors);
    const { agreed } = decideMajority(screened.vectors);
    const valid = agreed.filter(
      (b) => this.cluster.mechanism.checkBid(b.bidder, b.bytes, providerIds) === null,
    );
    const bidsHash = bidVectorHash(valid);
    if (!rec.bidsHash || !equalBytes(bidsHash, rec.bidsHash)) {
      throw new CheckFailed(
        `agreement: the majority over the revealed vectors gives H_b ${toHex(bidsHash)}, ` +
          `the record ${hex(rec.bidsHash)}`,
      );
    }
    if (!rec.agreed || !equalBytes(encodeBidVector(valid), rec.agreed)) {
      throw new CheckFailed('agreement: the recorded agreed bids are not the majority decision');
    }
    const left = screened.excluded.length;
    this.checks.push(
      `agreement: the majority over ${this.m} revealed vectors gives ${valid.length} bids ` +
        `(H_b ${toHex(bidsHash).slice(0, 16)}…)${left ? `; ${left} user(s) left out` : ''}`,
    );

    // The coin: the recorded ρ_j are the revealed ones, and the seed follows from them.
    reveals.forEach((r, i) => {
      const stored = rec.rhos.get(i);
      if (!stored || !equalBytes(stored, r.rho)) {
        throw new CheckFailed(`coin: the recorded ρ_${i} is not the one ${this.name(i)} revealed`);
      }
    });
    const seed = coinSeed(
      this.sid,
      bidsHash,
      reveals.map((r) => r.rho),
    );
    if (!rec.seed || !equalBytes(seed, rec.seed)) {
      throw new CheckFailed('coin: the seed from the revealed ρ differs from the recorded seed');
    }
    this.checks.push(`coin: the seed follows from the ${this.m} revealed ρ_j`);

    // The mechanism on the agreed bids, and every provider's OUTCOME.
    const recomputed = this.cluster.mechanism.run(valid, seed).outcomeBytes;
    if (!rec.outcome || !equalBytes(recomputed, rec.outcome)) {
      throw new CheckFailed('mechanism: the outcome recomputed on the agreed bids differs');
    }
    const oHash = outcomeHash(recomputed);
    if (!rec.outcomeHash || !equalBytes(oHash, rec.outcomeHash)) {
      throw new CheckFailed('mechanism: the recorded H_o is not the outcome hash');
    }
    this.checks.push(
      `mechanism: recomputed outcome equals the record (H_o ${toHex(oHash).slice(0, 16)}…)`,
    );
    outcomes.forEach((env, i) => {
      const p = env.payload;
      const same = p.length === 64 && equalBytes(p.subarray(0, 32), bidsHash);
      if (!same || !equalBytes(p.subarray(32), oHash)) {
        throw new CheckFailed(`OUTCOME of ${this.name(i)} announces another H_b or H_o`);
      }
    });
    this.checks.push(`OUTCOME: all ${this.m} providers announced this H_b and H_o`);
  }

  /** The users' bids in this provider's vector are exactly the bids its ledger accepted. */
  private ownBids(own: readonly BidReport[], asks: readonly Uint8Array[]): void {
    const ids = this.cluster.params.providers.map((p) => p.id);
    asks.forEach((ask, i) => {
      if (ask.length === 0) return;
      const entry = own.find((b) => b.bidder === ids[i]);
      if (!entry || !equalBytes(entry.bytes, ask)) {
        throw new CheckFailed(`the own vector lacks the ask ${this.name(i)} sent in START`);
      }
    });

    const recorded = new Set(
      this.rec.bids
        .filter((b) => b.status === 'accepted')
        .map((b) => `${b.bidder} ${toHex(b.signed)}`),
    );
    const inVector = new Set(
      own.filter((b) => !ids.includes(b.bidder)).map((b) => `${b.bidder} ${toHex(b.bytes)}`),
    );
    for (const key of recorded) {
      if (!inVector.has(key)) {
        throw new CheckFailed(`bids: ${key.split(' ')[0]}'s accepted bid is not in the own vector`);
      }
    }
    for (const key of inVector) {
      if (!recorded.has(key)) {
        throw new CheckFailed(
          `bids: the own vector holds a bid of ${key.split(' ')[0]} never recorded`,
        );
      }
    }
    this.checks.push(
      `bids: the ${recorded.size} bids recorded here are the users' bids in the own vector`,
    );
  }

  private abort(): void {
    const rec = this.rec;
    const json = rec.signedResult!;
    const a = json.abort!;
    const evidence = rec.evidence;
    if (JSON.stringify(a.evidence) !== JSON.stringify(evidence.map(toHex))) {
      throw new CheckFailed(
        'abort: the recorded evidence is not the evidence in the signed result',
      );
    }
    const code = a.code as keyof typeof AbortCode;
    const blamed = a.blamed;
    const names = blamed.map((b) => this.name(b)).join(', ');

    switch (AbortCode[code]) {
      case AbortCode.TIMEOUT: {
        const phase = Phase[a.phase as keyof typeof Phase] as PhaseCode | undefined;
        if (phase === undefined) throw new CheckFailed(`abort: unknown phase ${a.phase}`);
        for (const b of blamed) {
          if (this.slots.get(phase)?.[b]) {
            throw new CheckFailed(`abort: the transcript holds the ${a.phase} of ${this.name(b)}`);
          }
        }
        this.checks.push(`⊥ TIMEOUT: the transcript has no ${a.phase} from ${names}`);
        return;
      }
      case AbortCode.EQUIVOCATION: {
        const [x, y] = evidence.map((e) => this.envelopeOf(e));
        const ok =
          x && y && x.from === y.from && x.phase === y.phase && !equalBytes(x.bytes, y.bytes);
        if (!ok || !blamed.includes(x.from)) {
          throw new CheckFailed('abort: the evidence is not two different signed messages');
        }
        this.checks.push(`⊥ EQUIVOCATION: two different signed ${phaseName(x.phase)} of ${names}`);
        return;
      }
      case AbortCode.BAD_OPENING: {
        const [c, r] = evidence.map((e) => this.envelopeOf(e));
        if (!c || !r || c.from !== r.from || !blamed.includes(c.from)) {
          throw new CheckFailed(
            'abort: the evidence is not a commitment and a reveal of one sender',
          );
        }
        const opened = this.parse(r, () => parseReveal(r.payload, this.m));
        if (
          equalBytes(
            baCommitment(this.sid, c.from, opened.vector, opened.rho, opened.nonce),
            c.payload,
          )
        ) {
          throw new CheckFailed('abort: the reveal in the evidence does open the commitment');
        }
        this.checks.push(
          `⊥ BAD_OPENING: the signed reveal of ${names} does not open its commitment`,
        );
        return;
      }
      case AbortCode.PEER_ABORT: {
        const env = evidence[0] ? this.envelopeOf(evidence[0]) : null;
        if (!env || env.phase !== Phase.ABORT || env.from !== a.reportedBy) {
          throw new CheckFailed("abort: the evidence is not the reporting provider's signed ABORT");
        }
        const claim = decodeAbortPayload(env.payload, this.m);
        this.checks.push(
          `⊥ PEER_ABORT: ${this.name(env.from)} signed an ABORT (${claim.message.slice(0, 80)})`,
        );
        return;
      }
      case AbortCode.INPUT_MISMATCH:
      case AbortCode.OUTCOME_MISMATCH: {
        const env = evidence[0] ? this.envelopeOf(evidence[0]) : null;
        const own = this.slots.get(Phase.OUTCOME)?.[this.self];
        if (!env || !own || env.phase !== Phase.OUTCOME || equalBytes(env.payload, own.payload)) {
          throw new CheckFailed('abort: the evidence is not a differing signed OUTCOME');
        }
        this.checks.push(`⊥ ${a.code}: ${names} signed an OUTCOME that differs from this one`);
        return;
      }
      case AbortCode.PARAMS_MISMATCH: {
        const env = evidence[0] ? this.envelopeOf(evidence[0]) : null;
        const ours = clusterParamsHash(this.cluster.params);
        const theirs = env?.phase === Phase.START ? parseStart(env.payload).paramsHash : null;
        if (!env || (theirs && equalBytes(theirs, ours))) {
          throw new CheckFailed('abort: the evidence does not show other parameters');
        }
        this.checks.push(`⊥ PARAMS_MISMATCH: ${names} signed for other parameters`);
        return;
      }
      default:
        // BAD_SIGNATURE, BAD_MESSAGE: raw frames on an authenticated channel (D7) are not
        // transferable; LOCAL_FAILURE: this provider stopped. Nothing more a third party checks.
        this.checks.push(`⊥ ${a.code}: ${a.message} (the evidence cannot be checked by others)`);
    }
  }

  /** One provider's envelope of every provider in a phase; fails naming a missing one. */
  private full(phase: PhaseCode): Envelope[] {
    const list = this.slots.get(phase) ?? [];
    for (let i = 0; i < this.m; i++) {
      if (!list[i]) throw new CheckFailed(`transcript: no ${phaseName(phase)} of ${this.name(i)}`);
    }
    return list as Envelope[];
  }

  /** A validly signed envelope of this round from a configured sender, or null. */
  private envelopeOf(bytes: Uint8Array): Envelope | null {
    try {
      const env = slotTranscript([bytes], this.m)
        .values()
        .next()
        .value?.find((e) => e);
      if (!env || !equalBytes(env.sid, this.sid)) return null;
      return verifyEnvelope(env, this.verifiers[env.from]!) ? env : null;
    } catch {
      return null;
    }
  }

  private parse<T>(env: Envelope, f: () => T): T {
    try {
      return f();
    } catch (err) {
      const what = `${phaseName(env.phase)} of ${this.name(env.from)}`;
      throw new CheckFailed(`${what} is malformed: ${(err as Error).message}`);
    }
  }

  private name(i: number): string {
    const p = this.cluster.params.providers[i];
    return p ? `provider ${i} (${p.id})` : `provider ${i}`;
  }
}

function hex(b: Uint8Array | null): string {
  return b ? toHex(b) : '(none)';
}
