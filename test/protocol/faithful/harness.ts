/**
 * Runs faithful (and, for comparison, fast) rounds of m round engines on a seeded memory
 * network, with per-provider deviations: outgoing rewrites, faithful test hooks, other session
 * parameters, and a per-provider view of every user's bid.
 */
import { utf8 } from '../../../src/core/bytes.js';
import { sha256 } from '../../../src/core/hash.js';
import { encodeDoubleBid } from '../../../src/mechanisms/double/codec.js';
import { doubleAuctionMechanism } from '../../../src/mechanisms/double/mechanism.js';
import { Drbg } from '../../../src/protocol/drbg.js';
import {
  FaithfulAgreement,
  type FaithfulTestHooks,
} from '../../../src/protocol/faithful/agreement.js';
import { doubleBitCodec } from '../../../src/protocol/faithful/bit-codec.js';
import {
  sortedRegistry,
  type DecisionRule,
  type FaithfulParams,
  type KsFlavour,
} from '../../../src/protocol/faithful/params.js';
import {
  FastRound,
  type OutgoingHook,
  type RoundFailure,
  type RoundOutcome,
  type RoundResult,
} from '../../../src/protocol/fast-round.js';
import {
  Verifier,
  generateSigningIdentity,
  type SigningIdentity,
} from '../../../src/protocol/identity.js';
import { clusterParamsHash, sessionId, type ClusterParams } from '../../../src/protocol/session.js';
import { paperDoubleWorkload } from '../../../src/scenarios/paper.js';
import type { DoubleScenario } from '../../../src/scenarios/scenario.js';
import { createMemoryNetwork, type MemoryTransport } from '../../../src/transport/memory.js';

/** Identities shared by every test (key generation is the slow part of a setup). */
export const IDS: SigningIdentity[] = Array.from({ length: 8 }, () => generateSigningIdentity());

/** Options of a test round. */
export interface RoundOptions {
  m: number;
  k: number;
  users?: number;
  seed?: string;
  agreement?: 'fast' | 'faithful';
  ks?: KsFlavour;
  rule?: DecisionRule;
  maxDelayMs?: number;
  phaseTimeoutMs?: number;
  /** The bytes provider p received from user j (null: nothing). Default: the user's bid. */
  bidFor?: (p: number, j: number, s: DoubleScenario) => Uint8Array | null;
  /** Outgoing rewrites by provider. */
  deviate?: Record<number, OutgoingHook>;
  /** Faithful test hooks by provider. */
  hooks?: Record<number, FaithfulTestHooks>;
  /** Session parameters that differ at some providers. */
  paramsFor?: Record<number, (p: ClusterParams) => ClusterParams>;
  /** Providers the test plays itself: no engine is built for them. */
  scripted?: number[];
}

/** Everything a test needs to drive and inspect a round. */
export interface RoundSetup {
  scenario: DoubleScenario;
  params: ClusterParams;
  sid: Uint8Array;
  network: MemoryTransport[];
  engines: (FastRound | undefined)[];
  /** Starts every engine; resolves with their results (undefined for scripted providers). */
  run(): Promise<(RoundResult | undefined)[]>;
}

/** The faithful parameters of a scenario: every user and provider is in the registry. */
export function registryOf(s: DoubleScenario, ks: KsFlavour, rule: DecisionRule): FaithfulParams {
  const bidders = sortedRegistry([...s.users.map((u) => u.id), ...s.providers.map((p) => p.id)]);
  return { bidders, ks, rule };
}

/** Builds m engines (minus the scripted ones) on one seeded memory network. */
export function setupRound(o: RoundOptions): RoundSetup {
  const seed = o.seed ?? 'faithful';
  const scenario = paperDoubleWorkload({ users: o.users ?? 12, providers: o.m, seed });
  const mechanism = doubleAuctionMechanism('safe');
  const agreement = o.agreement ?? 'faithful';
  const params: ClusterParams = {
    clusterId: `faithful-${seed}`,
    k: o.k,
    providers: scenario.providers.map((p, i) => ({ id: p.id, signingKey: IDS[i]!.publicKey })),
    agreement,
    mechanismParams: mechanism.paramsBytes(),
    ...(agreement === 'faithful' && {
      faithful: registryOf(scenario, o.ks ?? 'it', o.rule ?? 'majority'),
    }),
  };
  const verifiers = params.providers.map((p) => new Verifier(p.signingKey));
  const network = createMemoryNetwork(o.m, { seed, maxDelayMs: o.maxDelayMs ?? 3 });

  const engines = network.map((transport, i) => {
    if (o.scripted?.includes(i)) return undefined;
    const mine = o.paramsFor?.[i]?.(params) ?? params;
    const received = new Map<string, Uint8Array>();
    scenario.users.forEach((u, j) => {
      const bytes = o.bidFor ? o.bidFor(i, j, scenario) : encodeDoubleBid(u);
      if (bytes) received.set(u.id, bytes);
    });
    const rng = new Drbg(sha256(utf8(`${seed}/${i}`)), 'test/random');
    const engine = new FastRound({
      params: mine,
      paramsHash: clusterParamsHash(mine),
      round: 1n,
      sid: sessionId(mine, 1n),
      self: i,
      identity: IDS[i]!,
      verifiers,
      transport,
      mechanism,
      ownBid: encodeDoubleBid(scenario.providers[i]!),
      receivedBids: received,
      phaseTimeoutMs: o.phaseTimeoutMs ?? 3_000,
      random: (n) => rng.bytes(n),
      ...(o.deviate?.[i] && { outgoing: o.deviate[i] }),
      ...(o.hooks?.[i] && { faithfulTest: o.hooks[i] }),
    });
    transport.onFrame((from, frame) => engine.deliver(from, frame));
    return engine;
  });

  return {
    scenario,
    params,
    sid: sessionId(params, 1n),
    network,
    engines,
    run: () => Promise.all(engines.map((e) => e?.start())),
  };
}

/** Every listed result is an outcome; fails naming the provider that aborted. */
export function outcomes(results: (RoundResult | undefined)[], which?: number[]): RoundOutcome[] {
  return (which ?? results.map((_, i) => i)).map((i) => {
    const r = results[i];
    if (!r?.ok) {
      throw new Error(`provider ${i} aborted: ${r ? r.reason.message : 'no result'}`);
    }
    return r;
  });
}

/** Every listed result is ⊥; fails naming the provider that did not abort. */
export function failures(results: (RoundResult | undefined)[], which: number[]): RoundFailure[] {
  return which.map((i) => {
    const r = results[i];
    if (!r || r.ok) throw new Error(`provider ${i} should have output ⊥`);
    return r;
  });
}

/**
 * A provider's faithful agreement outside any round, to check evidence and encode lanes the
 * way provider `self` does.
 */
export function agreementFor(setup: RoundSetup, self: number): FaithfulAgreement {
  const ids = new Set(setup.params.providers.map((p) => p.id));
  const mechanism = doubleAuctionMechanism('safe');
  const rng = new Drbg(sha256(utf8(`agreement/${self}`)), 'test');
  return new FaithfulAgreement({
    params: setup.params.faithful!,
    m: setup.params.providers.length,
    k: setup.params.k,
    sid: setup.sid,
    self,
    verifiers: setup.params.providers.map((p) => new Verifier(p.signingKey)),
    codec: doubleBitCodec(ids),
    checkBid: (bidder, bytes) => mechanism.checkBid(bidder, bytes, ids),
    random: (n) => rng.bytes(n),
    name: (i) => `provider ${i}`,
  });
}
