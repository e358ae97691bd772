/**
 * What one simulated run does, drawn from (seed, run index) alone: the cluster size, the
 * coalition and its strategy, the users and their bids, and the network's schedule. Every draw
 * comes from a Drbg stream labelled for its purpose, never from Math.random, so run i of seed s
 * is the same run on every machine and in every worker, whatever ran before it.
 */
import { Writer, utf8 } from '../core/bytes.js';
import { ConfigError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { Drbg } from '../protocol/drbg.js';
import {
  DECISION_RULES,
  KS_FLAVOURS,
  type DecisionRule,
  type KsFlavour,
} from '../protocol/faithful/params.js';
import type { AuctionKind } from './auctions.js';
import {
  FAST_MODE,
  STRATEGIES,
  strategySpec,
  variant,
  type SimMode,
  type StrategyName,
  type StrategyVariant,
} from './strategies.js';

/** Cluster sizes a run draws from; k = ⌊(m−1)/2⌋. */
export const SIM_SIZES = [3, 5, 8] as const;

/** Deadlines of the cluster file's defaults (cluster.ts), used in virtual time. */
export const SIM_PHASE_TIMEOUT_MS = 10_000;

/** Deadline of START in the cluster file's defaults. */
export const SIM_START_TIMEOUT_MS = 30_000;

/** A user whose bid differs between providers: value a, value b, or nothing, per provider. */
export interface InconsistentUser {
  readonly user: number;
  readonly values: readonly ('a' | 'b' | 'none')[];
}

/** The bid agreements a simulation can run. */
export const SIM_AGREEMENTS = ['fast', 'faithful'] as const;

/** One of SIM_AGREEMENTS. */
export type SimAgreement = (typeof SIM_AGREEMENTS)[number];

/** The faithful agreement's choices in one run. */
export interface FaithfulChoice {
  readonly ks: KsFlavour;
  readonly rule: DecisionRule;
}

/** The network's behaviour in one run (all times in virtual milliseconds). */
export interface Schedule {
  /** Largest random extra delay per frame. */
  readonly maxDelayMs: number;
  /** Fixed one-way latency. */
  readonly latencyMs: number;
  /** Percentage of frames the network delivers twice. */
  readonly dupPercent: number;
  /** When each provider closes bidding (skew between providers). */
  readonly closeAtMs: readonly number[];
}

/** Everything one run does. */
export interface RunPlan {
  readonly seed: string;
  readonly index: number;
  readonly auction: AuctionKind;
  /** The bid agreement of the run. */
  readonly agreement: SimAgreement;
  /** Faithful mode: the KS flavour and decision rule of the run; null in fast mode. */
  readonly faithful: FaithfulChoice | null;
  readonly m: number;
  readonly k: number;
  /** Provider groups p of the mechanism's parallel tasks (1 for the double auction). */
  readonly groups: number;
  readonly users: number;
  /** Seed of the paper workload of this run. */
  readonly scenarioSeed: string;
  /** Indices of the deviating providers, ascending; 1..k of them. */
  readonly coalition: readonly number[];
  readonly strategy: StrategyName;
  readonly variant: StrategyVariant;
  readonly inconsistentUser: InconsistentUser | null;
  readonly schedule: Schedule;
  readonly phaseTimeoutMs: number;
  readonly startTimeoutMs: number;
  /** The round the strategy plays in: 2 when it replays frames of round 1, else 1. */
  readonly round: bigint;
}

/** Options that apply to every run of a simulation. */
export interface PlanOptions {
  /** @default "double" */
  readonly auction?: AuctionKind;
  /** @default "fast" */
  readonly agreement?: SimAgreement;
  /** Faithful mode: the KS flavour of every run. @default drawn per run */
  readonly ks?: KsFlavour;
  /** Faithful mode: the decision rule of every run. @default drawn per run */
  readonly decisionRule?: DecisionRule;
  /** @default SIM_PHASE_TIMEOUT_MS */
  readonly phaseTimeoutMs?: number;
  /** @default SIM_START_TIMEOUT_MS */
  readonly startTimeoutMs?: number;
  /** Strategies to draw from. @default every strategy that is not pending */
  readonly strategies?: readonly StrategyName[];
}

/** The Drbg stream `label` of run `index` of simulation `seed`. */
export function runRng(seed: string, index: number, label: string): Drbg {
  const key = sha256(
    utf8('auctioneer/sim/v1'),
    utf8(seed),
    new Writer(8).u64(BigInt(index)).finish(),
  );
  return new Drbg(key, label);
}

/**
 * Draws run `index` of simulation `seed`.
 *
 * @throws ConfigError when `strategies` names a pending or unknown strategy, or is empty.
 */
export function drawPlan(seed: string, index: number, opts: PlanOptions = {}): RunPlan {
  const rng = runRng(seed, index, 'sim/plan');
  const auction = opts.auction ?? 'double';
  const enabled = enabledStrategies(opts.strategies, auction);

  // Faithful mode: KS flavour and decision rule, each from its own stream (so fixing one keeps
  // the other's draws), and none in fast mode (so fast runs are drawn as they always were).
  const agreement = opts.agreement ?? 'fast';
  const faithful: FaithfulChoice | null =
    agreement === 'faithful'
      ? {
          ks: opts.ks ?? pick(runRng(seed, index, 'sim/faithful/ks'), KS_FLAVOURS),
          rule: opts.decisionRule ?? pick(runRng(seed, index, 'sim/faithful/rule'), DECISION_RULES),
        }
      : null;

  // Strategy first: one that deviates in the data transfer needs p ≥ 2 groups of k+1, so m = 8.
  const strategy = pick(rng, enabled);
  const spec = strategySpec(strategy);
  const m = spec.needsGroups ? 8 : pick(rng, SIM_SIZES);
  const variant = spec.draw(runRng(seed, index, 'sim/variant'), m, simMode(faithful));

  // Coalition: k = ⌊(m−1)/2⌋, 1..k deviators anywhere in the order.
  const k = Math.floor((m - 1) / 2);
  const size = 1 + int(rng, k);
  const coalition = rng
    .shuffle([...Array(m).keys()])
    .slice(0, size)
    .sort((a, b) => a - b);

  // Users: a few, sometimes one who sent different bids to different providers.
  const users = (auction === 'standard' ? 4 : 2) + int(rng, 5);
  const inconsistentUser: InconsistentUser | null =
    int(rng, 3) === 0
      ? {
          user: int(rng, users),
          values: Array.from({ length: m }, () => pick(rng, ['a', 'a', 'b', 'b', 'none'] as const)),
        }
      : null;

  // Schedule: reordering always; sometimes delays, latency, duplicates and close skew.
  const skew = pick(rng, [0, 0, 2, 20, 200]);
  const schedule: Schedule = {
    maxDelayMs: pick(rng, [0, 0, 1, 5, 20, 100]),
    latencyMs: pick(rng, [0, 0, 1, 10]),
    dupPercent: pick(rng, [0, 0, 0, 5, 25]),
    closeAtMs: Array.from({ length: m }, () => int(rng, skew + 1)),
  };

  return {
    seed,
    index,
    auction,
    agreement,
    faithful,
    m,
    k,
    groups: groupsFor(auction, m, k),
    users,
    scenarioSeed: `${seed}/${index}`,
    coalition,
    strategy,
    variant,
    inconsistentUser,
    schedule,
    phaseTimeoutMs: opts.phaseTimeoutMs ?? SIM_PHASE_TIMEOUT_MS,
    startTimeoutMs: opts.startTimeoutMs ?? SIM_START_TIMEOUT_MS,
    round: spec.earlier?.(variant) ? 2n : 1n,
  };
}

/** The strategies' view of a run's agreement (FAST_MODE when `faithful` is null). */
export function simMode(faithful: FaithfulChoice | null): SimMode {
  return faithful ? { agreement: 'faithful', ks: faithful.ks } : FAST_MODE;
}

/** p as a cluster file would default it: ⌊m/(k+1)⌋ groups for the standard auction, else 1. */
export function groupsFor(auction: AuctionKind, m: number, k: number): number {
  return auction === 'standard' ? Math.max(1, Math.floor(m / (k + 1))) : 1;
}

/** What a hand-made plan may set; everything else takes a quiet default. */
export interface PlanSpec {
  readonly strategy: StrategyName;
  /** @default "double" */
  readonly auction?: AuctionKind;
  /** The faithful agreement's flavour and rule. @default the fast agreement */
  readonly faithful?: FaithfulChoice;
  /** Variant parameters (see the strategy's draw()). @default {} */
  readonly params?: Record<string, string>;
  /** @default 3 */
  readonly m?: number;
  /** @default [1] */
  readonly coalition?: readonly number[];
  /** @default 4 */
  readonly users?: number;
  /** @default no delay, no duplicates, every provider closes at 0 */
  readonly schedule?: Partial<Schedule>;
  readonly inconsistentUser?: InconsistentUser | null;
  readonly seed?: string;
  readonly index?: number;
  readonly phaseTimeoutMs?: number;
  readonly startTimeoutMs?: number;
}

/** A plan built by hand (tests and examples) rather than drawn. */
export function makePlan(o: PlanSpec): RunPlan {
  const m = o.m ?? 3;
  const k = Math.floor((m - 1) / 2);
  const auction = o.auction ?? 'double';
  const seed = o.seed ?? 'plan';
  const index = o.index ?? 0;
  const spec = strategySpec(o.strategy);
  const v = variant(o.params ?? {});
  return {
    seed,
    index,
    auction,
    agreement: o.faithful ? 'faithful' : 'fast',
    faithful: o.faithful ?? null,
    m,
    k,
    groups: groupsFor(auction, m, k),
    users: o.users ?? 4,
    scenarioSeed: `${seed}/${index}`,
    coalition: [...(o.coalition ?? [1])].sort((a, b) => a - b),
    strategy: o.strategy,
    variant: v,
    inconsistentUser: o.inconsistentUser ?? null,
    schedule: {
      maxDelayMs: 0,
      latencyMs: 0,
      dupPercent: 0,
      closeAtMs: new Array<number>(m).fill(0),
      ...o.schedule,
    },
    phaseTimeoutMs: o.phaseTimeoutMs ?? SIM_PHASE_TIMEOUT_MS,
    startTimeoutMs: o.startTimeoutMs ?? SIM_START_TIMEOUT_MS,
    round: spec.earlier?.(v) ? 2n : 1n,
  };
}

/**
 * The strategies a simulation of `auction` draws from, checked.
 *
 * @throws ConfigError for an unknown strategy, one that does not apply to the auction, or none.
 */
export function enabledStrategies(
  names: readonly StrategyName[] | undefined,
  auction: AuctionKind = 'double',
): StrategyName[] {
  const applies = (s: (typeof STRATEGIES)[number]) => !s.auctions || s.auctions.includes(auction);
  if (names === undefined) return STRATEGIES.filter(applies).map((s) => s.name);
  if (names.length === 0) throw new ConfigError('strategies: expected at least one');
  for (const n of names) {
    const spec = STRATEGIES.find((s) => s.name === n);
    if (!spec) throw new ConfigError(`strategies: unknown strategy ${JSON.stringify(n)}`);
    if (!applies(spec)) {
      throw new ConfigError(`strategies: ${n} does not apply to the ${auction} auction`);
    }
  }
  return [...names];
}

/** A uniform integer in [0, n). */
export function int(rng: Drbg, n: number): number {
  return Number(rng.uniformInt(BigInt(n)));
}

/** A uniform element of a non-empty list. */
export function pick<T>(rng: Drbg, xs: readonly T[]): T {
  return xs[int(rng, xs.length)]!;
}
