/**
 * A provider's round keeper, independent of how bids and frames reach it: it takes users' bids
 * for a round, routes the provider mesh's frames to the round they belong to (keeping those of
 * a round it has not started yet), runs the round when bidding closes, and holds the result.
 * The ZeroMQ server (provider-server.ts) and the in-memory tests drive the same class.
 */
import type { Logger } from 'pino';
import { equalBytes, toHex } from '../core/bytes.js';
import { AuctioneerError, InvalidInputError } from '../core/errors.js';
import { checkAgentId } from '../core/units.js';
import type { AuctionMechanism } from '../mechanisms/mechanism.js';
import {
  FastRound,
  type BidScreen,
  type OutgoingHook,
  type RoundContext,
  type RoundResult,
} from '../protocol/fast-round.js';
import { bitCodecFor } from '../protocol/faithful/bit-codec.js';
import { Verifier, type SigningIdentity } from '../protocol/identity.js';
import {
  checkClusterParams,
  clusterParamsHash,
  sessionId,
  type ClusterParams,
} from '../protocol/session.js';
import type { Transport } from '../transport/transport.js';

/** Frames of rounds not started yet are kept up to this many in all, shared out per peer. */
export const MAX_EARLY_FRAMES = 4096;

/** A bid that cannot be taken: the round is closed, or the bidder already bid otherwise. */
export class BidRefusedError extends AuctioneerError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** What a provider core is built from. */
export interface ProviderCoreOptions {
  readonly params: ClusterParams;
  readonly self: number;
  readonly identity: SigningIdentity;
  readonly transport: Transport;
  readonly mechanism: AuctionMechanism;
  /** This provider's own bid for a round (its ask), canonical bytes, or null. */
  readonly ownBid: (round: bigint) => Uint8Array | null;
  /** Provider groups p for a mechanism's parallel tasks (see RoundContext.groups). */
  readonly groups?: number;
  readonly phaseTimeoutMs?: number;
  readonly startTimeoutMs?: number;
  readonly log?: Logger;
  /** Deviation hook for tests and the simulator; unset on honest providers. */
  readonly outgoing?: OutgoingHook;
  /** Checks the revealed vectors before the majority (the daemon's signed user bids, #6). */
  readonly screenBids?: BidScreen;
  /** Source of ρ and nonces, for reproducible tests. */
  readonly random?: (n: number) => Uint8Array;
}

interface RoundState {
  readonly round: bigint;
  readonly sid: Uint8Array;
  readonly bids: Map<string, Uint8Array>;
  engine?: FastRound;
  result?: RoundResult;
}

/** One provider's rounds. */
export class ProviderCore {
  private readonly rounds = new Map<bigint, RoundState>();
  private readonly bySid = new Map<string, RoundState>();
  private readonly early = new Map<string, { from: number; frame: Uint8Array }[]>();
  private readonly earlyPerPeer = new Map<number, number>();
  private readonly verifiers: Verifier[];
  private readonly paramsHash: Uint8Array;
  private readonly providerIds: Set<string>;
  /** Faithful mode: the fixed bidder registry; undefined when the bidder set is open. */
  private readonly registry: ReadonlySet<string> | undefined;

  constructor(private readonly opts: ProviderCoreOptions) {
    checkClusterParams(opts.params);
    this.verifiers = opts.params.providers.map((p) => new Verifier(p.signingKey));
    this.paramsHash = clusterParamsHash(opts.params);
    this.providerIds = new Set(opts.params.providers.map((p) => p.id));
    if (opts.params.agreement === 'faithful') {
      // Fails at start, not at the first round, when the mechanism has no bit encoding.
      bitCodecFor(opts.mechanism, this.providerIds);
      this.registry = new Set(opts.params.faithful!.bidders);
    }
    opts.transport.onFrame((from, frame) => this.route(from, frame));
  }

  /** This provider's index. */
  get self(): number {
    return this.opts.self;
  }

  /**
   * Takes a user's bid for a round. Refused when the round already closed here, when the id
   * is a provider's or (faithful mode) not in the bidder registry, or when the bidder already
   * has a different bid in this round (nothing accepted is ever replaced). Resubmitting the
   * same bid is accepted again.
   */
  submitBid(round: bigint, bidder: string, bytes: Uint8Array): void {
    checkAgentId('bid.id', bidder);
    if (this.providerIds.has(bidder)) {
      throw new InvalidInputError('bid.id', bidder, 'a user id (this id is a provider)');
    }
    if (this.registry && !this.registry.has(bidder)) {
      throw new InvalidInputError('bid.id', bidder, "a bidder in the cluster's registry");
    }
    const reason = this.opts.mechanism.checkBid(bidder, bytes, this.providerIds);
    if (reason !== null) throw new InvalidInputError('bid', bidder, `a valid bid (${reason})`);

    const state = this.state(round);
    if (state.engine) {
      throw new BidRefusedError(
        'ROUND_CLOSED',
        `round ${round} is closed for bids at this provider`,
      );
    }
    const earlier = state.bids.get(bidder);
    if (earlier && !equalBytes(earlier, bytes)) {
      throw new BidRefusedError(
        'DUPLICATE_BID',
        `bidder ${bidder} already has a different bid in round ${round}; the first one stands`,
      );
    }
    state.bids.set(bidder, bytes);
  }

  /** Number of bids held for a round. */
  bidCount(round: bigint): number {
    return this.rounds.get(round)?.bids.size ?? 0;
  }

  /** Closes bidding for a round and runs it; resolves with this provider's result. */
  close(round: bigint): Promise<RoundResult> {
    const state = this.state(round);
    if (!state.engine) {
      const ctx: RoundContext = {
        params: this.opts.params,
        paramsHash: this.paramsHash,
        round,
        sid: state.sid,
        self: this.opts.self,
        identity: this.opts.identity,
        verifiers: this.verifiers,
        transport: this.opts.transport,
        mechanism: this.opts.mechanism,
        ownBid: this.opts.ownBid(round),
        receivedBids: state.bids,
        ...(this.opts.phaseTimeoutMs !== undefined && { phaseTimeoutMs: this.opts.phaseTimeoutMs }),
        ...(this.opts.startTimeoutMs !== undefined && { startTimeoutMs: this.opts.startTimeoutMs }),
        ...(this.opts.log && { log: this.opts.log.child({ round: String(round) }) }),
        ...(this.opts.outgoing && { outgoing: this.opts.outgoing }),
        ...(this.opts.screenBids && { screenBids: this.opts.screenBids }),
        ...(this.opts.groups !== undefined && { groups: this.opts.groups }),
        ...(this.opts.random && { random: this.opts.random }),
      };
      const engine = new FastRound(ctx);
      state.engine = engine;
      void engine.result.then((r) => (state.result = r));
      const result = engine.start();

      // Frames that arrived before we closed are handed over in arrival order.
      for (const f of this.release(toHex(state.sid))) engine.deliver(f.from, f.frame);
      return result;
    }
    return state.engine.result;
  }

  /** The result of a round, if it has one here. */
  result(round: bigint): RoundResult | undefined {
    return this.rounds.get(round)?.result;
  }

  /**
   * Opens a round before any bid names it, so that its frames are kept from now on (a daemon
   * whose round numbers come from a clock opens the next rounds ahead).
   */
  prepare(round: bigint): void {
    this.state(round);
  }

  /** Drops a round that is not running (its bids, result and kept frames): bounded memory. */
  forget(round: bigint): void {
    const s = this.rounds.get(round);
    if (!s || (s.engine && !s.engine.finished)) return;
    const key = toHex(s.sid);
    this.release(key);
    this.rounds.delete(round);
    this.bySid.delete(key);
  }

  /** Stops every running round with ⊥ (shutdown). */
  shutdown(): void {
    for (const s of this.rounds.values()) s.engine?.cancel('provider shutting down');
  }

  private state(round: bigint): RoundState {
    let s = this.rounds.get(round);
    if (!s) {
      s = { round, sid: sessionId(this.opts.params, round), bids: new Map() };
      this.rounds.set(round, s);
      this.bySid.set(toHex(s.sid), s);
    }
    return s;
  }

  private route(from: number, frame: Uint8Array): void {
    // The sid sits at bytes 4..36 of every envelope; a shorter frame is the sender's fault, so
    // it goes to the running round (which names the sender), never to the early buffer.
    const key = frame.length >= 36 ? toHex(frame.subarray(4, 36)) : '';
    const state = this.bySid.get(key);
    if (state?.engine) {
      state.engine.deliver(from, frame);
      return;
    }
    if (key === '' || (!state && !this.couldBeFutureRound(key))) {
      const running = [...this.rounds.values()].find((s) => s.engine && !s.engine.finished);
      if (running) running.engine!.deliver(from, frame);
      else this.opts.log?.debug({ from }, 'dropped a frame of no known round');
      return;
    }

    // A round we have not closed yet: keep the frame, with a quota per peer so that one peer's
    // junk cannot crowd out the honest peers' frames.
    const quota = Math.max(64, Math.floor(MAX_EARLY_FRAMES / this.opts.params.providers.length));
    if ((this.earlyPerPeer.get(from) ?? 0) >= quota) {
      this.opts.log?.warn({ from }, 'early-frame quota of this peer full; dropping');
      return;
    }
    const list = this.early.get(key) ?? [];
    list.push({ from, frame });
    this.early.set(key, list);
    this.earlyPerPeer.set(from, (this.earlyPerPeer.get(from) ?? 0) + 1);
  }

  private release(key: string): { from: number; frame: Uint8Array }[] {
    const held = this.early.get(key) ?? [];
    this.early.delete(key);
    for (const f of held) this.earlyPerPeer.set(f.from, (this.earlyPerPeer.get(f.from) ?? 1) - 1);
    return held;
  }

  private couldBeFutureRound(key: string): boolean {
    // Rounds are numbered upward; a frame may belong to one of the next few we will open.
    const last = [...this.rounds.keys()].reduce((a, b) => (b > a ? b : a), 0n);
    for (let r = last; r <= last + 4n; r++) {
      if (toHex(sessionId(this.opts.params, r)) === key) return true;
    }
    return false;
  }
}
