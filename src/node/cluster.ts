/**
 * The cluster file: the public description of a cluster that every provider and every client
 * holds (providers with their addresses and public keys, k, the auction and its parameters,
 * the deadlines), validated by a schema so that a wrong file fails at start with the field and
 * the reason. Secrets never go in it; they live in each provider's key directory.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { AGENT_ID_PATTERN } from '../core/units.js';
import { doubleAuctionMechanism } from '../mechanisms/double/mechanism.js';
import { standardAuctionMechanism } from '../mechanisms/standard/mechanism.js';
import { DEFAULT_EPSILON_PPM, MAX_EPSILON_PPM } from '../mechanisms/standard/types.js';
import type { AuctionMechanism } from '../mechanisms/mechanism.js';
import { MAX_REGISTRY, sortedRegistry } from '../protocol/faithful/params.js';
import { parsePublicKey } from '../protocol/identity.js';
import { checkClusterParams, type ClusterParams } from '../protocol/session.js';

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;
const TCP_ADDRESS = /^tcp:\/\/[^\s:]+:[0-9]{1,5}$/;

const AgentId = z
  .string()
  .regex(AGENT_ID_PATTERN, 'an id of 1–128 characters from [A-Za-z0-9_.:@+/=-]');

const ProviderEntry = z.strictObject({
  id: AgentId,
  peerAddress: z.string().regex(TCP_ADDRESS, 'a tcp://host:port address'),
  clientAddress: z.string().regex(TCP_ADDRESS, 'a tcp://host:port address'),
  signingKey: z.string().min(1),
  curveKey: z.string().regex(Z85_KEY, 'a 40-character Z85 CURVE public key'),
});

const DoubleAuction = z.strictObject({
  kind: z.literal('double'),
  rule: z.enum(['safe', 'paper']).default('safe'),
});

const StandardAuction = z.strictObject({
  kind: z.literal('standard'),
  /** ε of PVCG-ε in parts per million. */
  epsilonPpm: z.number().int().min(0).max(MAX_EPSILON_PPM).default(DEFAULT_EPSILON_PPM),
  mode: z.enum(['midr', 'wvcg']).default('midr'),
  /** Number of resource types R (1: bandwidth). */
  resources: z.number().int().min(1).max(64).default(1),
  /** Groups p running the payment tasks; at most ⌊m/(k+1)⌋ (the default). */
  groups: z.number().int().min(1).optional(),
});

const Timing = z.strictObject({
  /** Deadline of each protocol phase. */
  phaseTimeoutMs: z.number().int().min(10).max(3_600_000).default(10_000),
  /** Deadline of the START phase: absorbs skew between providers closing bidding. */
  startTimeoutMs: z.number().int().min(10).max(3_600_000).default(30_000),
});

/** The schema of a cluster file. */
export const ClusterFileSchema = z
  .strictObject({
    clusterId: z.string().min(1).max(128),
    k: z.number().int().min(0),
    /** Bid agreement: bid-level `fast` (§6) or bit-level `faithful` (§4, #4). */
    agreement: z.enum(['fast', 'faithful']).default('fast'),
    /** Faithful only: knowledge sharing, Shamir `it` (the default) or commit-reveal `crypto`. */
    ks: z.enum(['it', 'crypto']).optional(),
    /** Faithful only: the per-lane rule, `majority` (the default) or `leader`. */
    decisionRule: z.enum(['majority', 'leader']).optional(),
    /** Faithful only: every id that may bid (users and bidding providers), in any order. */
    bidders: z.array(AgentId).max(MAX_REGISTRY).optional(),
    auction: z.discriminatedUnion('kind', [DoubleAuction, StandardAuction]),
    timing: Timing.default({ phaseTimeoutMs: 10_000, startTimeoutMs: 30_000 }),
    providers: z.array(ProviderEntry).min(1),
  })
  .refine((f) => f.agreement !== 'faithful' || f.bidders !== undefined, {
    path: ['bidders'],
    message: 'a bidder registry is required when agreement is faithful',
  });

/** A parsed cluster file. */
export type ClusterFile = z.infer<typeof ClusterFileSchema>;

/** A cluster ready to run: the file, the protocol parameters and the mechanism. */
export interface Cluster {
  readonly file: ClusterFile;
  readonly params: ClusterParams;
  readonly mechanism: AuctionMechanism;
  /** Provider groups p for the mechanism's parallel tasks (1 for the double auction). */
  readonly groups: number;
}

/** Validates a parsed JSON value as a cluster file and derives the protocol parameters. */
export function parseCluster(json: unknown, source = 'cluster file'): Cluster {
  const parsed = ClusterFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.') || '(root)';
    throw new ConfigError(`${source}: ${path}: ${issue.message}`);
  }
  const file = parsed.data;

  const a = file.auction;
  const mechanism =
    a.kind === 'double'
      ? doubleAuctionMechanism(a.rule)
      : standardAuctionMechanism({
          epsilonPpm: a.epsilonPpm,
          mode: a.mode,
          resources: a.resources,
        });
  const groups = wrap(() => groupCount(file), source);
  const providers = file.providers.map((p, i) => ({
    id: p.id,
    signingKey: wrap(() => parsePublicKey(`providers.${i}.signingKey`, p.signingKey), source),
  }));
  const params: ClusterParams = {
    clusterId: file.clusterId,
    k: file.k,
    providers,
    agreement: file.agreement,
    mechanismParams: mechanism.paramsBytes(),
    ...(file.agreement === 'faithful' && {
      faithful: {
        bidders: wrap(() => sortedRegistry(file.bidders ?? []), source),
        ks: file.ks ?? 'it',
        rule: file.decisionRule ?? 'majority',
      },
    }),
  };
  wrap(() => checkClusterParams(params), source);
  if (a.kind === 'standard' && file.agreement === 'faithful') {
    throw new ConfigError(
      `${source}: agreement: the faithful agreement encodes double-auction bids only`,
    );
  }
  return { file, params, mechanism, groups };
}

/** p: the standard auction's groups (default and maximum ⌊m/(k+1)⌋), else 1. */
function groupCount(file: ClusterFile): number {
  if (file.auction.kind !== 'standard') return 1;
  const most = Math.max(1, Math.floor(file.providers.length / (file.k + 1)));
  const p = file.auction.groups ?? most;
  if (p > most) {
    throw new ConfigError(
      `auction.groups: ${p} groups of at least k+1 = ${file.k + 1} need ${p * (file.k + 1)} ` +
        `providers; with ${file.providers.length}, at most ${most}`,
    );
  }
  return p;
}

/** Reads and validates a cluster file. */
export function loadCluster(path: string): Cluster {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read cluster file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`cluster file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseCluster(json, path);
}

/** Index of the provider with `id`, or a ConfigError. */
export function providerIndex(cluster: Cluster, id: string): number {
  const i = cluster.file.providers.findIndex((p) => p.id === id);
  if (i < 0) {
    const known = cluster.file.providers.map((p) => p.id).join(', ');
    throw new ConfigError(`provider "${id}" is not in the cluster file (it has: ${known})`);
  }
  return i;
}

function wrap<T>(f: () => T, source: string): T {
  try {
    return f();
  } catch (err) {
    throw new ConfigError(`${source}: ${(err as Error).message}`);
  }
}
