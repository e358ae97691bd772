/**
 * The catalogue of deviations a coalition of up to k providers plays in the simulator (issue
 * #7). Each strategy says what it does, what the honest providers must see (an outcome, for the
 * deviations the protocol allows, or ⊥), and builds the deviation for one run: a rewrite of
 * what a member's engine sends (payload level, re-signed with the member's key: the `outgoing`
 * hook of fast-round.ts), a rewrite of the frames a member puts on the wire (frame level: bytes
 * that need not parse or verify), the bids a member commits to, and its own ask.
 *
 * Every member of the coalition plays the same strategy; choices inside it (which peers get
 * which version, whom to accuse) are drawn per member from the run's Drbg.
 *
 * The catalogue covers both bid agreements. Strategies that act on a phase draw it among the
 * phases of the run's round (roundPhases); those that rewrite the fast path's commitment or
 * reveal have a faithful counterpart on the faithful round's own messages (a split dealing of
 * Shamir shares, another coin commitment, a KS or coin reveal that does not open or echoes what
 * nobody signed). Variants of a fast run are drawn exactly as before the faithful mode existed,
 * so a fast run of a given seed and index is the same run as it always was.
 */
import { Reader, Writer, concatBytes } from '../core/bytes.js';
import { AbortCode, encodeAbortPayload, type AbortCodeValue } from '../protocol/abort.js';
import { encodeBidVector } from '../protocol/bid-vector.js';
import type { Drbg } from '../protocol/drbg.js';
import { baCommitment, taskResultHash, type OutgoingHook } from '../protocol/fast-round.js';
import { bitCodecFor } from '../protocol/faithful/bit-codec.js';
import type { KsFlavour } from '../protocol/faithful/params.js';
import { FIELD_PRIME } from '../protocol/faithful/shamir.js';
import { ksCommitment } from '../protocol/faithful/wire.js';
import type { SigningIdentity } from '../protocol/identity.js';
import { Phase, type PhaseCode } from '../protocol/phases.js';
import type { ClusterParams } from '../protocol/session.js';
import type { AuctionKind, SimScenario } from './auctions.js';
import {
  flipByte,
  framePayload,
  framePhase,
  malleate,
  readCoinOpening,
  readKsOpening,
  readKsReveal,
  readReveal,
  readStart,
  seal,
  shiftShare,
  writeCoinOpening,
  writeKsOpening,
  writeKsReveal,
  writeReveal,
  writeStart,
} from './wire.js';

/** Names of the strategies in the catalogue. */
export type StrategyName =
  | 'honest'
  | 'lie-bids'
  | 'equivocate-start'
  | 'equivocate-commit'
  | 'equivocate-reveal'
  | 'equivocate-outcome'
  | 'equivocate-abort'
  | 'false-accusation'
  | 'withhold'
  | 'bad-opening'
  | 'replay'
  | 'forge-signature'
  | 'unknown-key'
  | 'garble'
  | 'duplicate'
  | 'equivocate-transfer'
  | 'wrong-task-result';

/** The choices of one run inside a strategy, e.g. { phase: "BA_REVEAL", targets: "some" }. */
export interface StrategyVariant {
  /** Short text for reports, e.g. "phase=BA_REVEAL targets=some". */
  readonly label: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Frames by sender index and phase code (the first one seen of each). */
export type FrameLog = Map<number, Map<number, Uint8Array>>;

/** The bid agreement of a run as the strategies see it: its round's phases depend on it. */
export interface SimMode {
  readonly agreement: 'fast' | 'faithful';
  /** Faithful mode: the knowledge-sharing flavour (`it` or `crypto`). */
  readonly ks?: KsFlavour;
}

/** The fast agreement, the mode of every run unless the simulation says otherwise. */
export const FAST_MODE: SimMode = { agreement: 'fast' };

/** A phase by name, e.g. "BA_REVEAL". */
export type PhaseName = Exclude<keyof typeof Phase, 'ABORT'>;

const FAST_PHASES: readonly PhaseName[] = ['START', 'BA_COMMIT', 'BA_REVEAL', 'OUTCOME'];

/**
 * The phases of a double-auction round in `mode`, START to OUTCOME: fast START, BA_COMMIT,
 * BA_REVEAL, OUTCOME; faithful START, then KS_SHARE, KS_READY, KS_REVEAL (`it`) or BA_COMMIT,
 * BA_REVEAL (`crypto`), then CC_COMMIT, CC_REVEAL, OUTCOME (fast-round.ts).
 */
export function roundPhases(mode: SimMode): readonly PhaseName[] {
  if (mode.agreement === 'fast') return FAST_PHASES;
  const ks: PhaseName[] =
    mode.ks === 'it' ? ['KS_SHARE', 'KS_READY', 'KS_REVEAL'] : ['BA_COMMIT', 'BA_REVEAL'];
  return ['START', ...ks, 'CC_COMMIT', 'CC_REVEAL', 'OUTCOME'];
}

/** Faithful phases that commit a provider to a value: its dealing or its commitments. */
function commitPhases(mode: SimMode): PhaseName[] {
  return [mode.ks === 'it' ? 'KS_SHARE' : 'BA_COMMIT', 'CC_COMMIT'];
}

/** Faithful phases that reveal and echo: the KS reveal and the coin's. */
function revealPhases(mode: SimMode): PhaseName[] {
  return [mode.ks === 'it' ? 'KS_REVEAL' : 'BA_REVEAL', 'CC_REVEAL'];
}

/** Faithful phases that open a commitment (`it` shares are checked, not opened). */
function openingPhases(mode: SimMode): PhaseName[] {
  return mode.ks === 'it' ? ['CC_REVEAL'] : ['BA_REVEAL', 'CC_REVEAL'];
}

/** What a faithful reveal can be altered in: its opened values or one echoed envelope. */
const REVEAL_FIELDS: Record<string, readonly string[]> = {
  KS_REVEAL: ['echo'],
  BA_REVEAL: ['seed', 'nonce', 'lanes', 'echo'],
  CC_REVEAL: ['rho', 'nonce', 'echo'],
};

/** The wire code of a phase name. */
function code(name: string): PhaseCode {
  return Phase[name as PhaseName];
}

/** What a strategy may use to build its deviation. */
export interface DeviationContext {
  readonly m: number;
  readonly coalition: readonly number[];
  readonly honest: readonly number[];
  readonly params: ClusterParams;
  /** Session id of the round the strategy plays in. */
  readonly sid: Uint8Array;
  readonly scenario: SimScenario;
  /** The run's bid agreement (fast, or faithful with its KS flavour). */
  readonly mode: SimMode;
  /** Provider groups p of the mechanism's parallel tasks; provider i is in group i mod p. */
  readonly groups: number;
  readonly variant: StrategyVariant;
  /** Signing identity of provider i (a member signs with its own). */
  identity(i: number): SigningIdentity;
  /** A key no provider of the cluster has. */
  readonly outsider: SigningIdentity;
  /** Frames every provider's engine sent so far in this round (what the coalition saw). */
  readonly sent: FrameLog;
  /** Frames of the earlier round or session, for replays. */
  readonly earlier: FrameLog;
  /**
   * The last two values provider i drew: after its commitment, the ρ and nonce (fast) or the
   * R_j and nonce (faithful `crypto`) it committed to.
   */
  drawn(i: number): { rho: Uint8Array; nonce: Uint8Array };
  /** The run's Drbg stream for `label`. */
  rng(label: string): Drbg;
}

/** A coalition's behaviour in one run; every part is optional. */
export interface Deviation {
  /** Rewrites what member i's engine sends, per peer (re-signed by the engine). */
  outgoing?(member: number): OutgoingHook | undefined;
  /** Frames member `from` puts on the wire instead of `frame` (null: unchanged; []: none). */
  frames?(from: number, to: number, frame: Uint8Array): Uint8Array[] | null;
  /** The users' bids member i holds when it commits (it may drop, alter or add bids). */
  bids?(member: number, bids: ReadonlyMap<string, Uint8Array>): Map<string, Uint8Array>;
  /** Member i's own ask instead of its honest one. */
  ownBid?(member: number, honest: Uint8Array): Uint8Array;
  /** Members take bids that do not decode (they run modified software). */
  readonly permissive?: boolean;
}

/**
 * What the honest providers must see: an outcome (an allowed deviation), ⊥ at some of them,
 * or either (a message sent besides the protocol's own may arrive after a provider finished).
 */
export type Expectation = 'outcome' | 'abort' | 'either';

/** One entry of the catalogue. */
export interface StrategySpec {
  readonly name: StrategyName;
  /** One sentence: what the coalition does and what the protocol answers. */
  readonly summary: string;
  /** The auctions it applies to. @default every auction */
  readonly auctions?: readonly AuctionKind[];
  /** It deviates in the data transfer (DT): the run needs p ≥ 2 groups of k+1, so m = 8. */
  readonly needsGroups?: boolean;
  /** Draws the variant of a run in `mode` (a fast run's draws never depend on the mode). */
  draw(rng: Drbg, m: number, mode: SimMode): StrategyVariant;
  /** What the honest providers must see under this variant in `mode`. */
  expect(v: StrategyVariant, mode: SimMode): Expectation;
  /** The replay source this variant needs, run before the strategy's round. */
  earlier?(v: StrategyVariant): 'round' | 'session' | null;
  /** Builds the coalition's deviation for one run. */
  build(ctx: DeviationContext): Deviation;
}

/**
 * Ids of users no honest provider hears from, for whom lying members may add bids. Faithful
 * runs list them in the bidder registry (a registered bidder that sends no bid in a round).
 */
export const FAKE_USER_IDS: readonly string[] = ['zz-fake-1', 'zz-fake-2'];

/** The catalogue, in the order reports list it. */
export const STRATEGIES: readonly StrategySpec[] = [
  {
    name: 'honest',
    summary: 'the coalition follows the protocol (control): every honest provider outputs',
    draw: () => variant({}),
    expect: () => 'outcome',
    build: () => ({}),
  },
  {
    name: 'lie-bids',
    summary:
      'members commit consistently to another bid vector (bids altered, dropped, added, ' +
      'undecodable; own ask changed): allowed, consistent bidders keep their bids; a vector ' +
      'that does not decode is ⊥ naming the member (faithful: a dealing whose secret is not ' +
      'a bit, `it`, or packed lanes of the wrong length, `crypto`)',
    draw: (rng) =>
      variant({
        how: pick(rng, ['coordinated', 'independent']),
        ownAsk: pick(rng, ['same', 'changed']),
        vector: pick(rng, ['decodable', 'decodable', 'decodable', 'malformed']),
      }),
    expect: (v) => (v.params.vector === 'malformed' ? 'abort' : 'outcome'),
    build: buildLieBids,
  },
  {
    name: 'equivocate-start',
    summary:
      'two different START messages to two groups of peers: another ask (the member becomes ' +
      'an inconsistent bidder, allowed) or another parameter hash (⊥ PARAMS_MISMATCH)',
    draw: (rng) => variant({ what: pick(rng, ['ask', 'garbage-ask', 'params']) }),
    expect: (v) => (v.params.what === 'params' ? 'abort' : 'outcome'),
    build: (ctx) =>
      perGroupHook(ctx, Phase.START, (payload, rng, member) => {
        const p = readStart(payload);
        if (ctx.variant.params.what === 'params') {
          return writeStart({ ...p, paramsHash: flipByte(p.paramsHash, int(rng, 32)) });
        }
        const bid =
          ctx.variant.params.what === 'ask'
            ? ctx.scenario.otherOwnBid(rng, member)
            : randomBytes(rng, 1, 40);
        return writeStart({ ...p, bid });
      }),
  },
  {
    name: 'equivocate-commit',
    summary:
      'two different signed commitments to two groups of peers: the echo in the reveal ' +
      'exposes both, ⊥ EQUIVOCATION naming the member (faithful: BA_COMMIT or CC_COMMIT, or ' +
      'under `it` shares of two different polynomials, ⊥ BAD_MESSAGE naming the dealer)',
    draw: (rng, _m, mode) =>
      mode.agreement === 'fast' ? variant({}) : variant({ phase: pick(rng, commitPhases(mode)) }),
    expect: () => 'abort',
    build: (ctx) => {
      const phase = ctx.variant.params.phase ?? 'BA_COMMIT';
      if (phase === 'KS_SHARE') {
        // Group B gets points of the dealt polynomial plus a constant in one lane: no
        // polynomial of degree k goes through every point the receivers echo.
        return perGroupHook(ctx, Phase.KS_SHARE, (payload, rng) =>
          shiftShare(payload, int(rng, payload.length / 2), 1 + int(rng, FIELD_PRIME - 1)),
        );
      }

      // CC_COMMIT is H_b ‖ K_j: another K_j (another H_b would be INPUT_MISMATCH).
      const at = phase === 'CC_COMMIT' ? 32 : 0;
      return perGroupHook(ctx, code(phase), (payload, rng) => flipByte(payload, at + int(rng, 32)));
    },
  },
  {
    name: 'equivocate-reveal',
    summary:
      'a second reveal for some peers with another ρ, nonce, vector or echo: it does not ' +
      'open the commitment or echoes what nobody signed, ⊥ naming the member (faithful: ' +
      'the KS reveal, with another R_j, nonce, lanes or echoed share, or the coin reveal)',
    draw: (rng, _m, mode) => {
      if (mode.agreement === 'fast') {
        return variant({ what: pick(rng, ['rho', 'nonce', 'vector', 'echo']) });
      }
      const phase = pick(rng, revealPhases(mode));
      return variant({ phase, what: pick(rng, REVEAL_FIELDS[phase]!) });
    },
    expect: () => 'abort',
    build: (ctx) => {
      const phase = ctx.variant.params.phase ?? 'BA_REVEAL';
      return perGroupHook(ctx, code(phase), (payload, rng, member) =>
        alterReveal(ctx, phase, payload, ctx.variant.params.what!, rng, member),
      );
    },
  },
  {
    name: 'equivocate-outcome',
    summary:
      'another H_b or H_o to some peers: ⊥ INPUT_MISMATCH or OUTCOME_MISMATCH naming the ' +
      'member there (peers that got the right one may output the correct outcome)',
    draw: (rng) => variant({ what: pick(rng, ['bids-hash', 'outcome-hash']) }),
    expect: () => 'abort',
    build: (ctx) =>
      perGroupHook(ctx, Phase.OUTCOME, (payload, rng) =>
        flipByte(payload, (ctx.variant.params.what === 'bids-hash' ? 0 : 32) + int(rng, 32)),
      ),
  },
  {
    name: 'equivocate-abort',
    summary:
      'two different ABORT messages to two groups of peers, each accusing an honest provider ' +
      'of a timeout: ⊥ wherever one arrives before the round ended; the claim is relayed as ' +
      'PEER_ABORT',
    draw: (rng, _m, mode) => variant({ phase: pick(rng, roundPhases(mode)) }),
    expect: () => 'either',
    build: buildEquivocateAbort,
  },
  {
    name: 'false-accusation',
    summary:
      'an ABORT accusing an honest provider, with no evidence or with evidence that does not ' +
      'prove anything (two of its envelopes of different phases, a malleated signature): ⊥ ' +
      'where it arrives in time; the evidence fails verification, the claim is relayed as ' +
      'PEER_ABORT',
    draw: (rng, _m, mode) =>
      variant({
        phase: pick(
          rng,
          mode.agreement === 'fast' ? ['BA_REVEAL', 'OUTCOME'] : [...revealPhases(mode), 'OUTCOME'],
        ),
        evidence: pick(rng, ['none', 'two-phases', 'malleated', 'bad-opening']),
      }),
    expect: () => 'either',
    build: buildFalseAccusation,
  },
  {
    name: 'withhold',
    summary:
      'sends nothing in one phase (most often its reveal) to all or some peers: ⊥ at the ' +
      'deadline, TIMEOUT naming the member',
    draw: (rng, _m, mode) =>
      variant({
        phase: pick(
          rng,
          mode.agreement === 'fast'
            ? ['START', 'BA_COMMIT', 'BA_REVEAL', 'BA_REVEAL', 'OUTCOME']
            : roundPhases(mode),
        ),
        targets: pick(rng, ['all', 'some']),
      }),
    // A withheld OUTCOME can still reach the honest providers inside the member's own ⊥
    // announcement (every ⊥ carries the sender's current-phase envelope, D15) when another
    // member's withholding made it abort first; the honest providers then output the right
    // outcome, which the guarantee allows (run 87163 of seed 1).
    expect: (v) => (v.params.phase === 'OUTCOME' ? 'either' : 'abort'),
    build: (ctx) => ({
      outgoing: (member) => {
        const targets = pickTargets(ctx, member, ctx.variant.params.targets!);
        const phase = code(ctx.variant.params.phase!);
        return (ph, _payload, peers) =>
          ph === phase ? new Map(peers.filter((p) => targets.has(p)).map((p) => [p, null])) : null;
      },
    }),
  },
  {
    name: 'bad-opening',
    summary:
      'a reveal (the same to all) whose ρ, nonce or vector does not open the commitment: ' +
      'a wrong coin opening, ⊥ BAD_OPENING naming the member (faithful: the coin reveal, or ' +
      'under `crypto` the KS reveal with another R_j, nonce or lanes)',
    draw: (rng, _m, mode) => {
      if (mode.agreement === 'fast') {
        return variant({ what: pick(rng, ['rho', 'nonce', 'vector']) });
      }
      const phase = pick(rng, openingPhases(mode));
      return variant({ phase, what: pick(rng, REVEAL_FIELDS[phase]!.slice(0, -1)) });
    },
    expect: () => 'abort',
    build: (ctx) => ({
      outgoing: (member) => {
        const rng = ctx.rng(`bad-opening/${member}`);
        const name = ctx.variant.params.phase ?? 'BA_REVEAL';
        return (phase, payload, peers) => {
          if (phase !== code(name)) return null;
          const bad = alterReveal(ctx, name, payload, ctx.variant.params.what!, rng, member);
          return new Map(peers.map((p) => [p, bad]));
        };
      },
    }),
  },
  {
    name: 'replay',
    summary:
      "replays a message of an earlier round or session (its own or an honest provider's), " +
      'instead of its message (⊥ TIMEOUT naming the member) or in addition (ignored; in ' +
      'faithful mode one of another session is ⊥ naming the member where it is delivered)',
    draw: (rng, _m, mode) =>
      variant({
        source: pick(rng, ['round', 'session']),
        whose: pick(rng, ['own', 'honest']),
        mode: pick(rng, ['substitute', 'extra']),
        phase: pick(rng, roundPhases(mode)),
      }),
    // As for withhold: a substituted OUTCOME may still arrive inside the member's ⊥ (run 34104).
    // An extra frame of an earlier round goes to that round (ignored). One of another session
    // is dropped in fast mode, but in faithful mode it is ⊥ where it reaches a running round
    // (PARAMS_MISMATCH for the member's own, BAD_SIGNATURE for an honest provider's, D11) and
    // dropped where it arrives before the provider closed or after it finished: either.
    expect: (v, mode) =>
      v.params.mode !== 'substitute'
        ? mode.agreement === 'faithful' && v.params.source === 'session'
          ? 'either'
          : 'outcome'
        : v.params.phase === 'OUTCOME'
          ? 'either'
          : 'abort',
    earlier: (v) => (v.params.source === 'session' ? 'session' : 'round'),
    build: buildReplay,
  },
  {
    name: 'forge-signature',
    summary:
      'a frame whose signature does not verify: a corrupted or malleated (S+L) signature, ' +
      "a message claiming an honest sender, an honest provider's message relayed on its own " +
      'channel, or a forged echo: ⊥ naming the member',
    draw: (rng, _m, mode) => {
      const how = pick(rng, ['corrupt', 'impersonate', 'relay', 'forged-echo', 'malleable']);
      if (mode.agreement === 'fast') {
        return variant({ how, phase: pick(rng, ['BA_COMMIT', 'BA_REVEAL', 'OUTCOME']) });
      }
      // A forged echo needs a phase that echoes; the others take any phase after START.
      const phases = how === 'forged-echo' ? revealPhases(mode) : roundPhases(mode).slice(1);
      return variant({ how, phase: pick(rng, phases) });
    },
    expect: (v) => (v.params.how === 'relay' ? 'either' : 'abort'),
    build: buildForgeSignature,
  },
  {
    name: 'unknown-key',
    summary:
      'messages signed by a key outside the cluster (as itself, as an honest provider or as ' +
      'an index no provider has) on its channel: ⊥ BAD_SIGNATURE naming the member',
    draw: (rng, _m, mode) =>
      variant({
        from: pick(rng, ['self', 'honest-index', 'outside-index']),
        mode: pick(rng, ['substitute', 'extra']),
        phase: pick(rng, roundPhases(mode)),
      }),
    expect: (v) => (v.params.mode === 'extra' ? 'either' : 'abort'),
    build: buildUnknownKey,
  },
  {
    name: 'garble',
    summary:
      'truncated, bit-flipped, random, empty or over-long frames instead of a message, to all ' +
      'or some peers: ⊥ naming the member (at once, or at the deadline when the frame is lost)',
    draw: (rng, _m, mode) =>
      variant({
        how: pick(rng, ['truncate', 'short', 'flip', 'random', 'empty', 'trailing']),
        targets: pick(rng, ['all', 'some']),
        phase: pick(rng, roundPhases(mode)),
      }),
    expect: () => 'abort',
    build: buildGarble,
  },
  {
    name: 'duplicate',
    summary: 'sends every message two or three times: duplicates are ignored, outcome unchanged',
    draw: (rng) => variant({ copies: pick(rng, ['2', '3']) }),
    expect: () => 'outcome',
    build: (ctx) => ({
      frames: (_from, _to, frame) => Array(Number(ctx.variant.params.copies)).fill(frame),
    }),
  },
  {
    name: 'equivocate-transfer',
    summary:
      "two different DT messages (another hash of its group's task result) to two groups of " +
      'peers in the standard auction: ⊥ TRANSFER_MISMATCH or EQUIVOCATION naming the member',
    auctions: ['standard'],
    needsGroups: true,
    draw: () => variant({}),
    expect: () => 'abort',
    build: (ctx) =>
      perGroupHook(ctx, Phase.DT, (payload, rng) => lieInTransfer(payload, rng, 'hash')),
  },
  {
    name: 'wrong-task-result',
    summary:
      "vouches for a wrong result of its group's payment task in the standard auction's DT " +
      'phase (another hash; as the group sender, other data with a matching hash): ⊥ ' +
      'TRANSFER_MISMATCH (or BAD_MESSAGE) naming the member, never a wrong outcome',
    auctions: ['standard'],
    needsGroups: true,
    draw: (rng) => variant({ what: pick(rng, ['hash', 'data']) }),
    expect: () => 'abort',
    build: (ctx) => ({
      outgoing: (member) => {
        const rng = ctx.rng(`task/${member}`);
        return (phase, payload, peers) => {
          if (phase !== Phase.DT) return null;
          const lie = lieInTransfer(payload, rng, ctx.variant.params.what!);
          return new Map(peers.map((p) => [p, lie]));
        };
      },
    }),
  },
];

/** The catalogue entry of a strategy. */
export function strategySpec(name: StrategyName): StrategySpec {
  const s = STRATEGIES.find((x) => x.name === name);
  if (!s) throw new RangeError(`unknown strategy ${name}`);
  return s;
}

// --- builders --------------------------------------------------------------------------------

function buildLieBids(ctx: DeviationContext): Deviation {
  const v = ctx.variant.params;
  if (v.vector === 'malformed') {
    const hook =
      ctx.mode.agreement === 'fast'
        ? replaceVectorHook
        : ctx.mode.ks === 'it'
          ? nonBitDealingHook
          : wrongLanesHook;
    return { outgoing: (member) => hook(ctx, member) };
  }

  // A coordinated coalition tells one lie; otherwise each member draws its own.
  const lieRng = (member: number) => ctx.rng(v.how === 'coordinated' ? 'lie' : `lie/${member}`);
  return {
    permissive: true,
    bids: (member, bids) => {
      const rng = lieRng(member);
      const out = new Map<string, Uint8Array>();
      for (const [id, bytes] of bids) {
        const r = int(rng, 12);
        if (r >= 9) out.set(id, bytes);
        else if (r < 4) out.set(id, ctx.scenario.alterUser(rng, bytes, 'price'));
        else if (r < 6) out.set(id, ctx.scenario.alterUser(rng, bytes, 'quantity'));
        else if (r === 8) out.set(id, randomBytes(rng, 1, 30));
      }
      for (let i = int(rng, FAKE_USER_IDS.length + 1); i > 0; i--) {
        out.set(FAKE_USER_IDS[i - 1]!, ctx.scenario.fakeUser(rng, FAKE_USER_IDS[i - 1]!));
      }
      return out;
    },
    ...(v.ownAsk === 'changed' && {
      ownBid: (member: number) => ctx.scenario.otherOwnBid(ctx.rng(`ask/${member}`), member),
    }),
  };
}

/** Commits to and reveals an undecodable vector, consistently (it opens its commitment). */
function replaceVectorHook(ctx: DeviationContext, member: number): OutgoingHook {
  const rng = ctx.rng(`vector/${member}`);
  const vector = pick(rng, [
    randomBytes(rng, 0, 40),
    concatBytes(Uint8Array.of(0, 0, 0, 9), encodeBidVector([])),
    concatBytes(encodeBidVector([]), Uint8Array.of(1)),
  ]);
  let commit: Uint8Array | null = null;
  return (phase, payload, peers) => {
    // Its own engine would see the swap as its own equivocation: keep that ABORT to itself.
    if (phase === Phase.ABORT) return new Map(peers.map((p) => [p, null]));
    if (phase === Phase.BA_COMMIT) {
      const { rho, nonce } = ctx.drawn(member);
      commit = baCommitment(ctx.sid, member, vector, rho, nonce);
      return new Map(peers.map((p) => [p, commit]));
    }
    if (phase !== Phase.BA_REVEAL || commit === null) return null;

    // Its own echoed commitment must be the one the peers got, or the echo check catches it.
    const r = readReveal(payload);
    const echo = r.echo.slice();
    echo[member] = seal(ctx.identity(member), Phase.BA_COMMIT, ctx.sid, member, commit);
    const reveal = writeReveal({ ...r, vector, echo });
    return new Map(peers.map((p) => [p, reveal]));
  };
}

/**
 * Faithful `it`: deals, consistently, a secret that is not a bit. Every share's value in one
 * bid lane is raised by 2 (the polynomial plus the constant 2), and the member's KS_REVEAL
 * echoes its own share raised alike and signed anew, so that all m points lie on one
 * polynomial whose secret is 2 or 3: ⊥ BAD_MESSAGE "out of range" naming the dealer.
 */
function nonBitDealingHook(ctx: DeviationContext, member: number): OutgoingHook {
  const rng = ctx.rng(`vector/${member}`);
  const lane = int(rng, bidLanes(ctx));
  return (phase, payload, peers) => {
    // Its own engine reconstructs from the unchanged share it kept: keep that ABORT to itself.
    if (phase === Phase.ABORT) return new Map(peers.map((p) => [p, null]));
    if (phase === Phase.KS_SHARE) {
      return new Map(peers.map((p) => [p, shiftShare(payload, lane, 2)]));
    }
    if (phase !== Phase.KS_REVEAL) return null;

    // Its own share, as it echoes it, must lie on the same raised polynomial.
    const echo = readKsReveal(payload);
    const own = shiftShare(framePayload(echo[member]!), lane, 2);
    echo[member] = seal(ctx.identity(member), Phase.KS_SHARE, ctx.sid, member, own, member);
    const reveal = writeKsReveal(echo);
    return new Map(peers.map((p) => [p, reveal]));
  };
}

/**
 * Faithful `crypto`: commits to and opens, consistently, packed lanes one byte too long (lanes
 * are bits, so a wrong length is what does not decode): ⊥ BAD_MESSAGE naming the member.
 */
function wrongLanesHook(ctx: DeviationContext, member: number): OutgoingHook {
  const rng = ctx.rng(`vector/${member}`);
  const packed = rng.bytes(Math.ceil(bidLanes(ctx) / 8) + 1);
  let commit: Uint8Array | null = null;
  return (phase, payload, peers) => {
    // Its own engine would see the swap as its own equivocation: keep that ABORT to itself.
    if (phase === Phase.ABORT) return new Map(peers.map((p) => [p, null]));
    if (phase === Phase.BA_COMMIT) {
      const { rho: seed, nonce } = ctx.drawn(member);
      commit = ksCommitment(ctx.sid, member, packed, seed, nonce);
      return new Map(peers.map((p) => [p, commit]));
    }
    if (phase !== Phase.BA_REVEAL || commit === null) return null;

    // Its own echoed commitment must be the one the peers got, or the echo check catches it.
    const r = readKsOpening(payload);
    const echo = r.echo.slice();
    echo[member] = seal(ctx.identity(member), Phase.BA_COMMIT, ctx.sid, member, commit);
    const reveal = writeKsOpening({ ...r, packed, echo });
    return new Map(peers.map((p) => [p, reveal]));
  };
}

/** N = n·L, the bid lanes of a faithful run (leader lanes, if any, come after them). */
function bidLanes(ctx: DeviationContext): number {
  const ids = new Set(ctx.params.providers.map((p) => p.id));
  return ctx.params.faithful!.bidders.length * bitCodecFor(ctx.scenario.mechanism, ids).bits;
}

function buildEquivocateAbort(ctx: DeviationContext): Deviation {
  const phase = code(ctx.variant.params.phase!);
  const plans = new Map(
    ctx.coalition.map((member) => {
      const rng = ctx.rng(`abort/${member}`);
      const groupB = splitPeers(rng, peersOf(ctx, member), ctx.honest);
      const claim = (h: number) =>
        seal(
          ctx.identity(member),
          Phase.ABORT,
          ctx.sid,
          member,
          abortPayload(AbortCode.TIMEOUT, [h], phase, `provider ${h} missed the deadline`, []),
        );
      return [member, { groupB, a: claim(pick(rng, ctx.honest)), b: claim(pick(rng, ctx.honest)) }];
    }),
  );
  return {
    frames: (from, to, frame) => {
      if (framePhase(frame) !== phase) return null;
      const p = plans.get(from)!;
      return [p.groupB.has(to) ? p.b : p.a, frame];
    },
  };
}

function buildFalseAccusation(ctx: DeviationContext): Deviation {
  const phase = code(ctx.variant.params.phase!);
  const accused = new Map(ctx.coalition.map((c) => [c, pick(ctx.rng(`accuse/${c}`), ctx.honest)]));
  const made = new Map<number, Uint8Array>();

  // Built when first needed: by then the member holds the accused one's START and COMMIT.
  const accusation = (member: number): Uint8Array => {
    const have = made.get(member);
    if (have) return have;
    const h = accused.get(member)!;
    const sent = (ph: PhaseCode) => ctx.sent.get(h)?.get(ph);
    const start = sent(Phase.START) ?? new Uint8Array(0);
    let commit = sent(Phase.BA_COMMIT) ?? new Uint8Array(0);
    let opened = start;
    if (ctx.mode.agreement === 'faithful') {
      // The accused one's latest commitment and, once sent, its (correct) opening of it.
      const coin = sent(Phase.CC_COMMIT);
      const pair = coin
        ? [coin, sent(Phase.CC_REVEAL)]
        : [sent(Phase.BA_COMMIT) ?? sent(Phase.KS_READY), sent(Phase.BA_REVEAL)];
      commit = pair[0] ?? start;
      opened = pair[1] ?? start;
    }
    const [abortCode, evidence]: [AbortCodeValue, Uint8Array[]] = (() => {
      switch (ctx.variant.params.evidence) {
        case 'two-phases':
          return [AbortCode.EQUIVOCATION, [start, commit]];
        case 'malleated':
          return [AbortCode.EQUIVOCATION, [commit, malleate(commit)]];
        case 'bad-opening':
          return [AbortCode.BAD_OPENING, [commit, opened]];
        default:
          return [AbortCode.TIMEOUT, []];
      }
    })();
    const payload = abortPayload(abortCode, [h], phase, `provider ${h} cheated`, evidence);
    const frame = seal(ctx.identity(member), Phase.ABORT, ctx.sid, member, payload);
    made.set(member, frame);
    return frame;
  };
  return {
    frames: (from, _to, frame) => (framePhase(frame) === phase ? [accusation(from), frame] : null),
  };
}

function buildReplay(ctx: DeviationContext): Deviation {
  const v = ctx.variant.params;
  const phase = code(v.phase!);
  const whose = new Map(
    ctx.coalition.map((c) => [c, v.whose === 'own' ? c : pick(ctx.rng(`replay/${c}`), ctx.honest)]),
  );
  return {
    frames: (from, _to, frame) => {
      if (framePhase(frame) !== phase) return null;
      const old = ctx.earlier.get(whose.get(from)!)?.get(phase);
      if (!old) return null;
      return v.mode === 'substitute' ? [old] : [frame, old];
    },
  };
}

function buildForgeSignature(ctx: DeviationContext): Deviation {
  const v = ctx.variant.params;
  const phase = code(v.phase!);
  if (v.how === 'forged-echo') {
    // Fast mode echoes in BA_REVEAL whatever phase the variant drew.
    const echoing = ctx.mode.agreement === 'fast' ? 'BA_REVEAL' : v.phase!;
    return {
      outgoing: (member) => {
        const rng = ctx.rng(`forge/${member}`);
        return (ph, payload, peers) => {
          if (ph !== code(echoing)) return null;
          const forged = alterReveal(ctx, echoing, payload, 'echo', rng, member);
          return new Map(peers.map((p) => [p, forged]));
        };
      },
    };
  }

  const victim = new Map(ctx.coalition.map((c) => [c, pick(ctx.rng(`victim/${c}`), ctx.honest)]));
  const rng = ctx.rng('forge');
  return {
    frames: (from, _to, frame) => {
      if (framePhase(frame) !== phase) return null;
      const h = victim.get(from)!;
      switch (v.how) {
        case 'corrupt':
          return [flipByte(frame, frame.length - 1 - int(rng, 64), 1 << int(rng, 8))];
        case 'impersonate':
          return [seal(ctx.identity(from), phase, ctx.sid, h, framePayload(frame))];
        case 'relay':
          return [frame, ctx.sent.get(h)?.get(Phase.START) ?? frame];
        default:
          return [malleate(frame)];
      }
    },
  };
}

function buildUnknownKey(ctx: DeviationContext): Deviation {
  const v = ctx.variant.params;
  const phase = code(v.phase!);
  const claimed = new Map(
    ctx.coalition.map((c) => {
      if (v.from === 'self') return [c, c];
      if (v.from === 'outside-index') return [c, ctx.m + int(ctx.rng(`index/${c}`), 100)];
      return [c, pick(ctx.rng(`index/${c}`), ctx.honest)];
    }),
  );
  return {
    frames: (from, _to, frame) => {
      if (framePhase(frame) !== phase) return null;
      const forged = seal(ctx.outsider, phase, ctx.sid, claimed.get(from)!, framePayload(frame));
      return v.mode === 'substitute' ? [forged] : [forged, frame];
    },
  };
}

function buildGarble(ctx: DeviationContext): Deviation {
  const v = ctx.variant.params;
  const phase = code(v.phase!);
  const targets = new Map(ctx.coalition.map((c) => [c, pickTargets(ctx, c, v.targets!)]));
  const rng = ctx.rng('garble');
  return {
    frames: (from, to, frame) => {
      if (framePhase(frame) !== phase || !targets.get(from)!.has(to)) return null;
      return [garble(rng, frame, v.how!)];
    },
  };
}

/** A garbled copy of a frame. */
export function garble(rng: Drbg, frame: Uint8Array, how: string): Uint8Array {
  switch (how) {
    case 'truncate':
      return frame.slice(0, 36 + int(rng, frame.length - 36));
    case 'short':
      return frame.slice(0, int(rng, 36));
    case 'flip': {
      let out = frame;
      for (let i = 1 + int(rng, 4); i > 0; i--) {
        out = flipByte(out, int(rng, out.length), 1 << int(rng, 8));
      }
      return out;
    }
    case 'random':
      return randomBytes(rng, 1, 200);
    case 'empty':
      return new Uint8Array(0);
    default:
      return concatBytes(frame, randomBytes(rng, 1, 8));
  }
}

// --- shared pieces ---------------------------------------------------------------------------

/** A hook that sends `alter(payload)` of `phase` to a random group of peers, with an honest one. */
function perGroupHook(
  ctx: DeviationContext,
  phase: PhaseCode,
  alter: (payload: Uint8Array, rng: Drbg, member: number) => Uint8Array,
): Deviation {
  return {
    outgoing: (member) => {
      const rng = ctx.rng(`group/${member}`);
      const groupB = splitPeers(rng, peersOf(ctx, member), ctx.honest);
      return (ph, payload, peers) => {
        if (ph !== phase) return null;
        const other = alter(payload, rng, member);
        return new Map(peers.filter((p) => groupB.has(p)).map((p) => [p, other]));
      };
    },
  };
}

/**
 * A reveal of `phase` changed in one place: an opened value (fast ρ, nonce or a vector byte;
 * faithful R_j, nonce or a lanes byte of BA_REVEAL, ρ or nonce of CC_REVEAL), or one echoed
 * envelope of an honest provider (a commitment, or under `it` its share to the member).
 */
function alterReveal(
  ctx: DeviationContext,
  phase: string,
  payload: Uint8Array,
  what: string,
  rng: Drbg,
  member: number,
): Uint8Array {
  const flip = (b: Uint8Array) => flipByte(b, int(rng, b.length));
  const forgeEcho = (echo: readonly Uint8Array[]) => alterEcho(ctx, echo, rng, member);
  if (ctx.mode.agreement === 'faithful' && phase === 'KS_REVEAL') {
    return writeKsReveal(forgeEcho(readKsReveal(payload)));
  }
  if (ctx.mode.agreement === 'faithful' && phase === 'BA_REVEAL') {
    const r = readKsOpening(payload);
    if (what === 'seed') return writeKsOpening({ ...r, seed: flip(r.seed) });
    if (what === 'nonce') return writeKsOpening({ ...r, nonce: flip(r.nonce) });
    if (what === 'lanes') return writeKsOpening({ ...r, packed: flip(r.packed) });
    return writeKsOpening({ ...r, echo: forgeEcho(r.echo) });
  }
  if (phase === 'CC_REVEAL') {
    const r = readCoinOpening(payload);
    if (what === 'rho') return writeCoinOpening({ ...r, rho: flip(r.rho) });
    if (what === 'nonce') return writeCoinOpening({ ...r, nonce: flip(r.nonce) });
    return writeCoinOpening({ ...r, echo: forgeEcho(r.echo) });
  }

  const r = readReveal(payload);
  if (what === 'rho') return writeReveal({ ...r, rho: flipByte(r.rho, int(rng, 32)) });
  if (what === 'nonce') return writeReveal({ ...r, nonce: flipByte(r.nonce, int(rng, 32)) });
  if (what === 'vector') {
    return writeReveal({ ...r, vector: flipByte(r.vector, int(rng, r.vector.length)) });
  }
  return writeReveal({ ...r, echo: forgeEcho(r.echo) });
}

/** An echo with one honest provider's envelope changed in a byte of its payload. */
function alterEcho(
  ctx: DeviationContext,
  echo: readonly Uint8Array[],
  rng: Drbg,
  member: number,
): Uint8Array[] {
  const s = pick(
    rng,
    ctx.honest.filter((h) => h !== member),
  );
  const out = echo.slice();
  out[s] = flipByte(out[s]!, 44 + int(rng, 32));
  return out;
}

/**
 * A member's DT payload (u16 group ‖ hash ‖ data, fast-round.ts) with a lie: another hash
 * (`hash`), or, when it is its group's data sender, other data with a hash that matches it
 * (`data`), which only the other members' vouching can catch.
 */
function lieInTransfer(payload: Uint8Array, rng: Drbg, what: string): Uint8Array {
  const r = new Reader(payload, 'DT');
  const group = r.u16();
  const hash = r.raw(32);
  const data = r.bytes();
  if (what === 'data' && data.length > 0) {
    const other = concatBytes(data, randomBytes(rng, 1, 8));
    return new Writer().u16(group).raw(taskResultHash(group, other)).bytes(other).finish();
  }
  return new Writer()
    .u16(group)
    .raw(flipByte(hash, int(rng, 32)))
    .bytes(data)
    .finish();
}

function abortPayload(
  code: AbortCodeValue,
  blamed: number[],
  phase: number,
  message: string,
  evidence: Uint8Array[],
): Uint8Array {
  return encodeAbortPayload({ code, blamed, phase, message, evidence });
}

function peersOf(ctx: DeviationContext, member: number): number[] {
  return [...Array(ctx.m).keys()].filter((i) => i !== member);
}

/**
 * A random group B of peers for the second version of a message: it holds at least one honest
 * provider, and leaves at least one peer for the first version.
 */
export function splitPeers(rng: Drbg, peers: readonly number[], honest: readonly number[]) {
  const candidates = peers.filter((p) => honest.includes(p));
  const first = pick(rng, candidates);
  const b = new Set([first, ...peers.filter((p) => p !== first && int(rng, 2) === 0)]);
  if (b.size === peers.length)
    b.delete(
      pick(
        rng,
        peers.filter((p) => p !== first),
      ),
    );
  return b;
}

/** All peers, or a group like splitPeers' B. */
function pickTargets(ctx: DeviationContext, member: number, mode: string): Set<number> {
  const peers = peersOf(ctx, member);
  return mode === 'all'
    ? new Set(peers)
    : splitPeers(ctx.rng(`targets/${member}`), peers, ctx.honest);
}

/** A variant from its parameters (the label lists them). */
export function variant(params: Record<string, string>): StrategyVariant {
  const label = Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return { label: label || '-', params };
}

function randomBytes(rng: Drbg, min: number, max: number): Uint8Array {
  return rng.bytes(min + int(rng, max - min + 1));
}

function int(rng: Drbg, n: number): number {
  return Number(rng.uniformInt(BigInt(n)));
}

function pick<T>(rng: Drbg, xs: readonly T[]): T {
  return xs[int(rng, xs.length)]!;
}
