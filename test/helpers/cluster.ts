/**
 * Builds an in-memory cluster of provider cores for protocol tests: fresh identities, a seeded
 * memory network, and the double auction over a generated scenario.
 */
import { encodeDoubleBid } from '../../src/mechanisms/double/codec.js';
import { doubleAuctionMechanism } from '../../src/mechanisms/double/mechanism.js';
import type { WinnerRule } from '../../src/mechanisms/double/types.js';
import { ProviderCore } from '../../src/node/provider-core.js';
import type { OutgoingHook, RoundResult } from '../../src/protocol/fast-round.js';
import { generateSigningIdentity, type SigningIdentity } from '../../src/protocol/identity.js';
import type { ClusterParams } from '../../src/protocol/session.js';
import { paperDoubleWorkload } from '../../src/scenarios/paper.js';
import type { DoubleScenario } from '../../src/scenarios/scenario.js';
import { createMemoryNetwork } from '../../src/transport/memory.js';

/** Options of a test cluster. */
export interface TestClusterOptions {
  m: number;
  k: number;
  users?: number;
  seed?: string;
  rule?: WinnerRule;
  maxDelayMs?: number;
  phaseTimeoutMs?: number;
  /** Deviation hooks by provider index. */
  deviate?: Record<number, OutgoingHook>;
  /** Identities reused across clusters (speeds up tests). */
  identities?: SigningIdentity[];
}

/** A running test cluster. */
export interface TestCluster {
  scenario: DoubleScenario;
  params: ClusterParams;
  cores: ProviderCore[];
  network: ReturnType<typeof createMemoryNetwork>;
  /** Submits every user's bid to every provider (or as `bidFor` says), closes, awaits all. */
  runRound(
    round: bigint,
    bidFor?: (provider: number, user: number) => Uint8Array | null,
  ): Promise<RoundResult[]>;
}

/** Creates m providers on a seeded memory network, each asking as the scenario says. */
export function createTestCluster(o: TestClusterOptions): TestCluster {
  const seed = o.seed ?? 'test';
  const scenario = paperDoubleWorkload({ users: o.users ?? 20, providers: o.m, seed });
  const ids = o.identities ?? scenario.providers.map(() => generateSigningIdentity());
  const mechanism = doubleAuctionMechanism(o.rule ?? 'safe');
  const params: ClusterParams = {
    clusterId: `test-${seed}`,
    k: o.k,
    providers: scenario.providers.map((p, i) => ({ id: p.id, signingKey: ids[i]!.publicKey })),
    agreement: 'fast',
    mechanismParams: mechanism.paramsBytes(),
  };
  const network = createMemoryNetwork(o.m, { seed, maxDelayMs: o.maxDelayMs ?? 3 });
  const cores = network.map(
    (transport, i) =>
      new ProviderCore({
        params,
        self: i,
        identity: ids[i]!,
        transport,
        mechanism,
        ownBid: () => encodeDoubleBid(scenario.providers[i]!),
        phaseTimeoutMs: o.phaseTimeoutMs ?? 2_000,
        ...(o.deviate?.[i] && { outgoing: o.deviate[i] }),
      }),
  );

  return {
    scenario,
    params,
    cores,
    network,
    async runRound(round, bidFor) {
      cores.forEach((core, p) =>
        scenario.users.forEach((u, j) => {
          const bytes = bidFor ? bidFor(p, j) : encodeDoubleBid(u);
          if (bytes) core.submitBid(round, u.id, bytes);
        }),
      );
      return Promise.all(cores.map((c) => c.close(round)));
    },
  };
}
