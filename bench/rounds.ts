/**
 * Distributed rounds for benchmarks: a local cluster of provider processes kept alive across
 * many rounds, and one measured round on it — the client submits the round's bids, closes
 * bidding, collects every provider's signed result, and the round is checked against the
 * centralised outcome before its numbers are kept.
 *
 * What is timed (nothing is printed inside either region):
 * - submitMs: `submitBids` — every user's bid to every provider, one request each, with the
 *   client's default concurrency, until every provider acknowledged every bid;
 * - roundMs: `closeRound` + `collect` — from the close of bidding until the client holds all m
 *   signed results and has checked them (signatures, hashes, all equal, and — unless the check
 *   turns it off — the mechanism recomputed on the agreed bids).
 *
 * The double auction's rounds are checked against bytes computed before the round; the
 * standard auction draws from the round's common coin, so its rounds are checked against a
 * function of the agreed seed, run after the timed region.
 */
import type { RoundReport } from '../src/client/client.js';
import { equalBytes } from '../src/core/bytes.js';
import type { ProviderAsk, UserBid, WinnerRule } from '../src/mechanisms/double/types.js';
import {
  DEFAULT_EPSILON_PPM,
  type StandardProvider,
  type StandardUser,
} from '../src/mechanisms/standard/types.js';
import type { ClusterFile } from '../src/node/cluster.js';
import {
  startLocalCluster,
  type LocalCluster,
  type LocalProvider,
} from '../src/node/local-cluster.js';
import { WrongResultError } from './errors.js';

/** Phase deadlines of bench clusters: generous, so that n = 10^5 on 2 cores never trips them. */
export const BENCH_PHASE_TIMEOUT_MS = 120_000;

/** How long the client waits for all results of one round. */
export const COLLECT_TIMEOUT_MS = 300_000;

/** What one distributed round measured. */
export interface RoundSample {
  readonly round: number;
  readonly submitMs: number;
  readonly roundMs: number;
  /** Milliseconds from each provider's close to the end of each phase, slowest provider. */
  readonly phaseMs: Readonly<Record<string, number>>;
  /** CPU time of each provider process from its close to its signed result. */
  readonly cpuMs: readonly number[];
  /** Envelopes sent between providers in the round, all providers together. */
  readonly envelopes: number;
  /** Bytes of those envelopes. */
  readonly bytes: number;
  /** Bytes of the m signed results as JSON (what the client downloads). */
  readonly resultBytes: number;
  readonly outcomeHash: string;
}

/** A double-auction cluster to start. */
export interface DoubleClusterOptions {
  /** Short name, used for the work directory. */
  readonly name: string;
  readonly k: number;
  /** One provider process per ask; its ask and capacity are fixed for the process's life. */
  readonly providers: readonly ProviderAsk[];
  readonly rule: WinnerRule;
  readonly latencyMs: number;
}

/** Starts one process per provider on loopback, with a connected client. */
export function startDoubleCluster(o: DoubleClusterOptions): Promise<LocalCluster> {
  return startBenchCluster(
    o.name,
    o.k,
    { kind: 'double', rule: o.rule },
    o.providers.map((p) => ({
      id: p.id,
      reportArgs: ['--ask', String(p.ask), '--capacity', String(p.capacity)],
    })),
    o.latencyMs,
    BENCH_PHASE_TIMEOUT_MS,
  );
}

/** A standard-auction (PVCG-ε) cluster to start. */
export interface StandardClusterOptions {
  /** Short name, used for the work directory. */
  readonly name: string;
  readonly k: number;
  /** Groups p that split the payment tasks; at most ⌊m/(k+1)⌋. */
  readonly groups: number;
  /** One provider process per entry; its capacities are fixed for the process's life. */
  readonly providers: readonly StandardProvider[];
  readonly latencyMs: number;
  /** Deadline of each protocol phase (the allocation runs inside one). */
  readonly phaseTimeoutMs: number;
}

/**
 * Starts one process per provider on loopback, with a connected client: PVCG-ε with the default
 * ε and mode, one resource type (as the paper's workload).
 */
export function startStandardCluster(o: StandardClusterOptions): Promise<LocalCluster> {
  return startBenchCluster(
    o.name,
    o.k,
    {
      kind: 'standard',
      epsilonPpm: DEFAULT_EPSILON_PPM,
      mode: 'midr',
      resources: o.providers[0]?.capacity.length ?? 1,
      groups: o.groups,
    },
    o.providers.map((p) => ({ id: p.id, reportArgs: ['--capacity', p.capacity.join(',')] })),
    o.latencyMs,
    o.phaseTimeoutMs,
  );
}

function startBenchCluster(
  name: string,
  k: number,
  auction: ClusterFile['auction'],
  providers: readonly LocalProvider[],
  latencyMs: number,
  phaseTimeoutMs: number,
): Promise<LocalCluster> {
  return startLocalCluster({
    name: `bench-${name}`,
    providers,
    file: {
      clusterId: `bench-${name}`,
      k,
      agreement: 'fast',
      auction,
      timing: { phaseTimeoutMs, startTimeoutMs: phaseTimeoutMs },
    },
    logLevel: 'warn',
    latencyMs,
  });
}

/** What a round's outcome is checked against. */
export interface RoundCheck {
  /**
   * The centralised outcome on the same bids: its bytes, or, for a mechanism that draws from
   * the round's common coin, a function of the agreed seed (called after the timed region).
   */
  readonly expected: Uint8Array | ((seed: Uint8Array) => Uint8Array);
  /**
   * Whether the client also recomputes the mechanism on the agreed bids inside the timed
   * region. Turn it off when `expected` runs the mechanism anyway. @default true
   */
  readonly recompute?: boolean;
  /** How long the client waits for all results. @default COLLECT_TIMEOUT_MS */
  readonly collectTimeoutMs?: number;
}

/**
 * Runs and checks one round: submits `users`, closes, collects. The round is right when every
 * provider signed the same outcome, the client's recomputation agrees (unless turned off), and
 * the outcome's bytes equal the expected centralised outcome on the same bids (and coin).
 *
 * @param check the expected outcome's bytes, or a {@link RoundCheck}
 * @throws WrongResultError naming the label, the round and what was wrong
 */
export async function runRound(
  local: LocalCluster,
  round: bigint,
  users: readonly (UserBid | StandardUser)[],
  check: Uint8Array | RoundCheck,
  label: string,
): Promise<RoundSample> {
  const client = local.client;
  const c: RoundCheck = check instanceof Uint8Array ? { expected: check } : check;
  const recompute = c.recompute ?? true;

  // Timed: bid submission, then close → all signed results verified.
  const t0 = performance.now();
  const refusals = await client.submitBids(round, users);
  const t1 = performance.now();
  await client.closeRound(round);
  const report = await client.collect(round, c.collectTimeoutMs ?? COLLECT_TIMEOUT_MS, {
    recompute,
  });
  const t2 = performance.now();

  const problems = checkReport(report, local.cluster.file.providers.length, c.expected);
  if (refusals.length > 0) {
    const r = refusals[0]!;
    problems.unshift(
      `${refusals.length} bids refused, first by provider ${r.provider}: ${r.message}`,
    );
  }
  if (problems.length > 0) throw new WrongResultError(`${label} round ${round}`, problems);
  return { round: Number(round), submitMs: t1 - t0, roundMs: t2 - t1, ...traffic(report) };
}

/**
 * Why a report is not the expected agreed outcome (empty when it is). With `expected` a
 * function, every provider must have signed the same seed, and the function gets it.
 */
export function checkReport(
  report: RoundReport,
  m: number,
  expected: Uint8Array | ((seed: Uint8Array) => Uint8Array),
): string[] {
  const problems = [...report.problems];
  if (report.results.length !== m) problems.push(`${report.results.length} results for ${m}`);
  if (report.status !== 'outcome') {
    problems.push('the providers did not all sign the same outcome (⊥)');
    return problems;
  }

  let want: Uint8Array;
  if (expected instanceof Uint8Array) {
    want = expected;
  } else {
    const seeds = report.results.flatMap((r) => ('error' in r || !r.seed ? [] : [r.seed]));
    if (seeds.length !== m || seeds.some((s) => !equalBytes(s, seeds[0]!))) {
      problems.push('the providers did not all sign the same coin seed');
      return problems;
    }
    want = expected(seeds[0]!);
  }
  if (!equalBytes(report.outcomeBytes!, want)) {
    problems.push(`the agreed outcome ${report.outcomeHash} differs from the centralised one`);
  }
  return problems;
}

/** Phase ends (slowest provider), CPU, envelopes and bytes of a verified round. */
function traffic(report: RoundReport): Omit<RoundSample, 'round' | 'submitMs' | 'roundMs'> {
  const phaseMs: Record<string, number> = {};
  const cpuMs: number[] = [];
  let envelopes = 0;
  let bytes = 0;
  let resultBytes = 0;
  for (const r of report.results) {
    if ('error' in r) continue;
    cpuMs.push(r.json.cpuMs ?? 0);
    envelopes += r.json.stats.envelopesSent;
    bytes += r.json.stats.bytesSent;
    resultBytes += Buffer.byteLength(JSON.stringify(r.json));
    for (const [p, ms] of Object.entries(r.json.stats.phaseEndMs)) {
      phaseMs[p] = Math.max(phaseMs[p] ?? 0, ms);
    }
  }
  return { phaseMs, cpuMs, envelopes, bytes, resultBytes, outcomeHash: report.outcomeHash! };
}
