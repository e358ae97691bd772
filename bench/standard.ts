/**
 * `bench standard`: the paper's Figure 5 — the standard auction (PVCG-ε) with m = 8 providers
 * for p = 1 (centralised, serial), p = 2 (k = 3) and p = 4 (k = 1), by default the paper's
 * n = 25 … 125 and then 250 … 1000; wall time and the largest per-provider CPU time, beside
 * the paper's numbers.
 *
 * What is timed, per run:
 * - p = 2 and p = 4: a round on 8 provider processes over ZeroMQ on loopback, from the close of
 *   bidding until the client holds all 8 signed results and has checked their signatures and
 *   hashes and that they are equal (rounds.ts). Every provider runs task 1 (the exact
 *   allocation); the winners' Clarke pivots are split over the p groups of k + 1 providers;
 *   every provider gathers them (task 3). CPU max is the largest provider's CPU time from its
 *   close to its signed result.
 * - p = 1: the whole mechanism (`mechanism.run`: decode, allocation, every pivot, outcome) in
 *   the bench process on the same bids and the coin seed of a distributed round, serially; CPU
 *   is the bench process's CPU time during it. It is the check of that round: every p = 2 and
 *   p = 4 round must equal it, so p = 1 has two samples per run (one per distributed round).
 *
 * The client's own recomputation of the mechanism (collect's default) is turned off for these
 * rounds: it would add a whole p = 1 run to every timed round. The check against p = 1, run
 * just after the timed region, covers it: it runs on the bids the client submitted rather than
 * on the agreed ones, with the seed that all 8 providers signed.
 *
 * A provider's capacity is a flag of its process, and the paper's capacities depend on n
 * (total demand / m × U[0, 0.25]), so each n gets its own two clusters (p = 2 and p = 4, 16
 * processes), which stay up for all the runs at that n; each cluster's first round is an
 * unrecorded warm-up. Runs alternate between the two clusters.
 */
import { toHex, utf8 } from '../src/core/bytes.js';
import { sha256 } from '../src/core/hash.js';
import type { AuctionMechanism, BidReport } from '../src/mechanisms/mechanism.js';
import { searchStats } from '../src/mechanisms/standard/bnb.js';
import { decodeStandardOutcome } from '../src/mechanisms/standard/codec.js';
import type { StandardUser } from '../src/mechanisms/standard/types.js';
import type { LocalCluster } from '../src/node/local-cluster.js';
import { scenarioReports } from '../src/node/reports.js';
import { outcomeHash } from '../src/protocol/fast-round.js';
import { paperStandardWorkload, type StandardScenario } from '../src/scenarios/standard.js';
import { machineLine } from './machine.js';
import {
  PAPER_K_FOR_P,
  PAPER_STANDARD_SECONDS,
  PAPER_STANDARD_USERS,
  paperMs,
  type StandardSeries,
} from './paper.js';
import { renderLinePlot, type PlotSeries } from './plot.js';
import { createProgress, type Progress } from './progress.js';
import {
  fileStem,
  markdownReport,
  resultHeader,
  startMark,
  toJson,
  type ResultFiles,
  type ResultHeader,
} from './results.js';
import { runRound, startStandardCluster } from './rounds.js';
import { ratio, round2, roundSpread, spread, type Spread } from './stats.js';
import { count, num, spreadCell, type Table } from './table.js';

/** Providers m, as in the paper's Figure 5. */
export const STANDARD_PROVIDERS = 8;

/**
 * Phase deadline of the bench clusters: the exact allocation runs inside one phase, and for
 * some coins at n ≈ 150–200 (not in the default sweep, #5) it can take minutes per provider
 * on a shared 2-core machine.
 */
export const STANDARD_PHASE_TIMEOUT_MS = 3_600_000;

/** How long the client waits for all results of one round. */
export const STANDARD_COLLECT_TIMEOUT_MS = 4 * STANDARD_PHASE_TIMEOUT_MS;

/** The distributed series of Figure 5 with m = 8: p = ⌊m/(k+1)⌋ groups. */
const DISTRIBUTED = (['p=2', 'p=4'] as const).map((series) => ({
  series,
  p: Number(series.slice(2)),
  k: PAPER_K_FOR_P[series]!,
}));

/** Options of the standard bench, as the CLI parsed them. */
export interface StandardBenchOptions {
  readonly users: readonly number[];
  readonly runs: number;
  readonly latencyMs: number;
  readonly seed: string;
  readonly command: string;
}

/** One run of one series at n users. */
export interface StandardSample {
  /** The distributed round (p = 1: the round it checked; its series is `checks`). */
  readonly round: number;
  /** p = 1 only: the series of the round whose bids and coin it ran on. */
  readonly checks?: StandardSeries;
  /** The round's common-coin seed, hex: with the workload, enough to rerun the mechanism. */
  readonly seed: string;
  readonly wallMs: number;
  readonly cpuMaxMs: number;
  /** Distributed only: every provider's CPU time from its close to its signed result. */
  readonly cpuMs?: readonly number[];
  /** Distributed only: submitting the n bids to the 8 providers (not in wallMs). */
  readonly submitMs?: number;
  /** Winners before the lottery: the mechanism solves 1 + winners exact problems. */
  readonly winners: number;
  /** p = 1 only: of those solves, how many the surrogate method did not settle (the search). */
  readonly searchSolves?: number;
  readonly outcomeHash: string;
}

/** One series at n users, summarised over its runs. */
export interface StandardPoint {
  /** Every parameter: "standard p=4 k=1 m=8 n=125 latency=0ms". */
  readonly label: string;
  readonly series: StandardSeries;
  readonly p: number;
  readonly k: number | null;
  readonly m: number;
  readonly n: number;
  /** Close of bidding → all signed results verified (p = 1: the mechanism in-process). */
  readonly wallMs: Spread;
  /** Largest CPU time of one provider in a run (p = 1: the process's CPU time). */
  readonly cpuMaxMs: Spread;
  readonly paperMs: number | null;
  /** paper / ours on the medians of the wall time. */
  readonly ratio: number | null;
  /** p = 1 only: exact solves of all runs, and how many of them went to the search. */
  readonly solves?: { readonly total: number; readonly search: number };
  /** Every run (absent in files written before samples were recorded). */
  readonly samples?: readonly StandardSample[];
}

/** The JSON result file of the standard bench. */
export interface StandardResults extends ResultHeader {
  readonly options: Omit<StandardBenchOptions, 'command'>;
  readonly points: readonly StandardPoint[];
}

/**
 * Runs the sweep: for each n, two clusters of 8 (p = 2 and p = 4), `runs` rounds on each, and
 * the centralised run (p = 1) on the bids and coin of every round.
 *
 * @throws WrongResultError at the first round whose outcome is not the centralised one
 */
export async function runStandardBench(o: StandardBenchOptions): Promise<StandardResults> {
  const started = startMark();
  const progress = createProgress(o.users.length * DISTRIBUTED.length * (1 + o.runs));
  const points: StandardPoint[] = [];

  try {
    for (const n of o.users) points.push(...(await measureUsers(o, n, progress)));
  } finally {
    progress.stop();
  }

  const order: readonly StandardSeries[] = ['p=1', 'p=2', 'p=4'];
  points.sort((a, b) => order.indexOf(a.series) - order.indexOf(b.series) || a.n - b.n);
  const { command, ...options } = o;
  return { ...resultHeader('standard', command, started, []), options, points };
}

/** The paper's standard workload for n users and m = 8 (the demo's reading of the seed). */
export function standardWorkload(seed: string, n: number): StandardScenario {
  const s = /^[0-9]{1,19}$/.test(seed) ? BigInt(seed) : sha256(utf8(seed));
  return paperStandardWorkload({ users: n, providers: STANDARD_PROVIDERS, seed: s });
}

/** A distributed series: p = 2 (k = 3) or p = 4 (k = 1). */
type Distributed = (typeof DISTRIBUTED)[number];

/** A running cluster of one series at one n, and its next round number. */
interface BenchCluster {
  readonly s: Distributed;
  readonly local: LocalCluster;
  round: bigint;
}

/** Every series at n users: p = 2 and p = 4 on their clusters, p = 1 as their check. */
async function measureUsers(
  o: StandardBenchOptions,
  n: number,
  progress: Progress,
): Promise<StandardPoint[]> {
  const scenario = standardWorkload(o.seed, n);
  const m = STANDARD_PROVIDERS;
  const tag = (s: Distributed): string =>
    `standard ${s.series} k=${s.k} m=${m} n=${n} latency=${o.latencyMs}ms`;
  const clusters: BenchCluster[] = [];
  const central: StandardSample[] = [];
  const distributed = new Map(DISTRIBUTED.map((s) => [s.series, [] as StandardSample[]]));

  try {
    for (const s of DISTRIBUTED) {
      const local = await startStandardCluster({
        name: `standard-p${s.p}-n${n}`,
        k: s.k,
        groups: s.p,
        providers: scenario.providers,
        latencyMs: o.latencyMs,
        phaseTimeoutMs: STANDARD_PHASE_TIMEOUT_MS,
      });
      clusters.push({ s, local, round: 1n });
    }
    const reports = scenarioReports(clusters[0]!.local.cluster, scenario);

    // One round per cluster: the first is an unrecorded warm-up, then `runs` alternating.
    for (let run = -1; run < o.runs; run++) {
      for (const c of clusters) {
        const label = `${tag(c.s)}${run < 0 ? ' warm-up' : ''}`;
        const r = await measureRound(c, scenario.users, reports, label);
        progress.tick(label);
        if (run < 0) continue;
        central.push(r.central);
        distributed.get(c.s.series)!.push(r.distributed);
      }
    }
  } finally {
    for (const c of clusters) await c.local.stop();
  }

  return [
    summarise(`standard p=1 centralised m=${m} n=${n}`, 'p=1', 1, null, n, central),
    ...DISTRIBUTED.map((s) => summarise(tag(s), s.series, s.p, s.k, n, distributed.get(s.series)!)),
  ];
}

/**
 * One round on a cluster, and its check: the centralised run (p = 1) on the same bids with the
 * seed the providers signed, which the round's outcome must equal.
 *
 * @throws WrongResultError when the round is not an agreed outcome equal to the centralised one
 */
async function measureRound(
  c: BenchCluster,
  users: readonly StandardUser[],
  reports: readonly BidReport[],
  label: string,
): Promise<{ central: StandardSample; distributed: StandardSample }> {
  const round = c.round++;
  let central: StandardSample | undefined;
  const expected = (seed: Uint8Array): Uint8Array => {
    const run = centralRun(c.local.cluster.mechanism, reports, seed);
    central = { round: Number(round), checks: c.s.series, ...run.sample };
    return run.outcomeBytes;
  };

  // Timed inside runRound: close → all signed results verified; then the check, untimed there.
  const r = await runRound(
    c.local,
    round,
    users,
    { expected, recompute: false, collectTimeoutMs: STANDARD_COLLECT_TIMEOUT_MS },
    label,
  );

  return {
    central: central!,
    distributed: {
      round: Number(round),
      seed: central!.seed,
      wallMs: round2(r.roundMs),
      cpuMaxMs: round2(Math.max(...r.cpuMs)),
      cpuMs: r.cpuMs.map(round2),
      submitMs: round2(r.submitMs),
      winners: central!.winners,
      outcomeHash: r.outcomeHash,
    },
  };
}

/**
 * p = 1: the mechanism on `reports` with the coin `seed`, serially in this process, timed
 * (wall and this process's CPU time).
 */
function centralRun(
  mechanism: AuctionMechanism,
  reports: readonly BidReport[],
  seed: Uint8Array,
): { outcomeBytes: Uint8Array; sample: Omit<StandardSample, 'round' | 'checks'> } {
  const search0 = searchStats.fallback;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { outcomeBytes } = mechanism.run(reports, seed);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const winners = decodeStandardOutcome(outcomeBytes).winners.length;

  return {
    outcomeBytes,
    sample: {
      seed: toHex(seed),
      wallMs: round2(wallMs),
      cpuMaxMs: round2((cpu.user + cpu.system) / 1000),
      winners,
      searchSolves: searchStats.fallback - search0,
      outcomeHash: toHex(outcomeHash(outcomeBytes)),
    },
  };
}

function summarise(
  label: string,
  series: StandardSeries,
  p: number,
  k: number | null,
  n: number,
  samples: readonly StandardSample[],
): StandardPoint {
  const wallMs = roundSpread(spread(samples.map((s) => s.wallMs)));
  const paper = paperMs(PAPER_STANDARD_USERS, PAPER_STANDARD_SECONDS[series], n);
  return {
    label,
    series,
    p,
    k,
    m: STANDARD_PROVIDERS,
    n,
    wallMs,
    cpuMaxMs: roundSpread(spread(samples.map((s) => s.cpuMaxMs))),
    paperMs: paper,
    ratio: ratio(paper, wallMs.median),
    ...(series === 'p=1' ? { solves: solveCounts(samples) } : {}),
    samples,
  };
}

/** Exact solves of the p = 1 runs (1 + winners each) and those the search settled. */
function solveCounts(samples: readonly StandardSample[]): { total: number; search: number } {
  let total = 0;
  let search = 0;
  for (const s of samples) {
    total += 1 + s.winners;
    search += s.searchSolves!;
  }
  return { total, search };
}

/** The table printed and written as standard.md. */
export function standardTable(points: readonly StandardPoint[]): Table {
  return {
    headers: [
      'series',
      'k',
      'n',
      'wall ms',
      'CPU max ms',
      'paper ms',
      'paper/ours',
      'solves by search',
    ],
    rows: points.map((p) => [
      p.series,
      p.k === null ? '–' : String(p.k),
      String(p.n),
      spreadCell(p.wallMs),
      spreadCell(p.cpuMaxMs),
      num(p.paperMs, 0),
      num(p.ratio, 2),
      p.solves ? `${p.solves.search} of ${p.solves.total}` : '–',
    ]),
  };
}

/** The result files: standard.json, standard.md and standard.svg (log-scale time). */
export async function standardFiles(r: StandardResults): Promise<ResultFiles> {
  const runs = r.options.runs;
  const caption =
    `${machineLine(r.machine)}; m = 8, ${count(runs, 'run')} per point (p = 1: ${2 * runs}), ` +
    `latency ${r.options.latencyMs} ms, seed ${r.options.seed}`;
  const md = markdownReport(
    `Standard auction (paper Figure 5), times in ms: median [min–max] of ${count(runs, 'run')} ` +
      `(p = 1: ${2 * runs}, the centralised check of every p = 2 and p = 4 round).`,
    caption,
    r,
    standardTable(r.points),
  );

  const names = [...new Set(r.points.map((p) => p.series))];
  const series: PlotSeries[] = [
    ...names.map((name) => ({
      name,
      source: 'ours' as const,
      points: r.points
        .filter((p) => p.series === name)
        .map((p) => ({
          x: p.n,
          y: p.wallMs.median / 1000,
          lo: p.wallMs.min / 1000,
          hi: p.wallMs.max / 1000,
        })),
    })),
    ...names.map((name) => ({
      name,
      source: 'paper' as const,
      points: PAPER_STANDARD_USERS.map((n) => ({
        x: n,
        y: paperMs(PAPER_STANDARD_USERS, PAPER_STANDARD_SECONDS[name], n)! / 1000,
      })),
    })),
  ];
  const svg = await renderLinePlot({
    title: 'Standard auction (paper Figure 5): close → all results verified; p = 1 in-process',
    subtitle: caption,
    xTitle: 'users n',
    yTitle: 'seconds per round (log)',
    yLog: true,
    series,
  });
  const stem = fileStem('standard', r.options.latencyMs);
  return { [`${stem}.json`]: toJson(r), [`${stem}.md`]: md, [`${stem}.svg`]: svg };
}
