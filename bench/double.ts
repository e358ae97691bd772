/**
 * `bench double`: the paper's Figure 4 side by side with this implementation. For each n, the
 * centralised run and the distributed runs for k = 1, 2, 3 (3, 5, 8 provider processes over
 * ZeroMQ on loopback), several runs per point, on the paper's double-auction workload.
 *
 * What is timed, per run:
 * - genMs: generating the paper's workload for n users at the client (the paper's clock
 *   started at input generation);
 * - distributed: submitMs and roundMs as in rounds.ts (bid submission; close of bidding → all
 *   m signed results verified at the client);
 * - centralised: roundMs is STAR-Padding on the same bids in the bench process, plus encoding
 *   and hashing the outcome (a one-provider cluster would be the closer analogue, but the
 *   ZeroMQ mesh needs at least 2 providers); there is no submission;
 * - endToEndMs = genMs + submitMs + roundMs, the span the paper measured.
 *
 * One cluster per k stays up for every n and run (a new round number each time); its first
 * round, at the largest n, is a JIT warm-up that is checked but not recorded. The providers'
 * asks and capacities are process flags, fixed at start, so they are the paper workload's at
 * the largest n; the users at each n are the paper workload's (the generator is prefix-stable).
 */
import { encodeDoubleOutcome } from '../src/mechanisms/double/codec.js';
import { runStarPadding } from '../src/mechanisms/double/star.js';
import type { ProviderAsk, UserBid, WinnerRule } from '../src/mechanisms/double/types.js';
import { outcomeHash } from '../src/protocol/fast-round.js';
import { toHex } from '../src/core/bytes.js';
import { paperDoubleWorkload } from '../src/scenarios/paper.js';
import { machineLine } from './machine.js';
import {
  PAPER_DOUBLE_SECONDS,
  PAPER_DOUBLE_USERS,
  PAPER_PROVIDERS_FOR_K,
  paperMs,
  type DoubleSeries,
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
import { runRound, startDoubleCluster, type RoundSample } from './rounds.js';
import { ratio, round2, roundSpread, spread, type Spread } from './stats.js';
import { count, num, spreadCell, type Table } from './table.js';

/** Providers of the centralised series' workload: the paper's m = 8. */
export const CENTRAL_PROVIDERS = 8;

/** Unrecorded in-process runs before the centralised series (JIT warm-up). */
export const CENTRAL_WARMUP_RUNS = 3;

/** Options of the double bench, as the CLI parsed them. */
export interface DoubleBenchOptions {
  readonly users: readonly number[];
  readonly ks: readonly number[];
  readonly runs: number;
  readonly latencyMs: number;
  readonly seed: string;
  readonly rule: WinnerRule;
  /** The command line that reproduces the run, recorded in the JSON. */
  readonly command: string;
}

/** One run of one point: the distributed round's sample, or the centralised run's times. */
export type DoubleSample =
  | (RoundSample & { readonly genMs: number })
  | { readonly genMs: number; readonly roundMs: number; readonly outcomeHash: string };

/** One point of the plot: a series at n users, summarised over its runs. */
export interface DoublePoint {
  /** Every parameter: "double k=3 m=8 n=1000 latency=0ms" or "double centralised m=8 n=1000". */
  readonly label: string;
  readonly series: DoubleSeries;
  readonly k: number | null;
  readonly m: number;
  readonly n: number;
  readonly genMs: Spread;
  /** Null for the centralised series, which submits nothing. */
  readonly submitMs: Spread | null;
  readonly roundMs: Spread;
  readonly endToEndMs: Spread;
  /** Largest per-provider CPU time of a run (null for the centralised series). */
  readonly cpuMaxMs: Spread | null;
  /** Envelopes and bytes between providers per round (equal in every run). */
  readonly envelopes: number | null;
  readonly bytes: number | null;
  readonly paperMs: number | null;
  /** paper / ours, on the medians. */
  readonly ratioRound: number | null;
  readonly ratioEndToEnd: number | null;
  readonly samples: readonly DoubleSample[];
}

/** The JSON result file of the double bench. */
export interface DoubleResults extends ResultHeader {
  readonly options: Omit<DoubleBenchOptions, 'command'>;
  readonly points: readonly DoublePoint[];
}

/** Runs the sweep; throws WrongResultError at the first round with a wrong result. */
export async function runDoubleBench(o: DoubleBenchOptions): Promise<DoubleResults> {
  const started = startMark();
  const maxN = Math.max(...o.users);
  const perCluster = 1 + o.users.length * o.runs;
  const progress = createProgress(
    CENTRAL_WARMUP_RUNS + o.users.length * o.runs + o.ks.length * perCluster,
  );
  const points: DoublePoint[] = [];

  try {
    points.push(...(await centralSeries(o, maxN, progress)));
    for (const k of o.ks) points.push(...(await distributedSeries(o, k, maxN, progress)));
  } finally {
    progress.stop();
  }

  const { command, ...options } = o;
  return { ...resultHeader('double', command, started, []), options, points };
}

/** Providers of the paper's workload for m providers, at the sweep's largest n. */
function fixedProviders(o: DoubleBenchOptions, m: number, maxN: number): readonly ProviderAsk[] {
  return paperDoubleWorkload({ users: maxN, providers: m, seed: o.seed }).providers;
}

/** Generates the users of n; returns them and the time it took. */
function generate(o: DoubleBenchOptions, n: number, m: number): { users: UserBid[]; ms: number } {
  const t0 = performance.now();
  const w = paperDoubleWorkload({ users: n, providers: m, seed: o.seed });
  return { users: [...w.users], ms: performance.now() - t0 };
}

/** STAR-Padding on the bids, encoded: the centralised outcome every round must equal. */
function centralOutcome(
  providers: readonly ProviderAsk[],
  users: readonly UserBid[],
  rule: WinnerRule,
): Uint8Array {
  return encodeDoubleOutcome(runStarPadding({ providers, users, rule }));
}

async function centralSeries(
  o: DoubleBenchOptions,
  maxN: number,
  progress: Progress,
): Promise<DoublePoint[]> {
  const providers = fixedProviders(o, CENTRAL_PROVIDERS, maxN);
  const m = CENTRAL_PROVIDERS;

  // Warm-up: the same code path at the largest n, not recorded.
  for (let i = 0; i < CENTRAL_WARMUP_RUNS; i++) {
    outcomeHash(centralOutcome(providers, generate(o, maxN, m).users, o.rule));
    progress.tick(`double centralised m=${m} n=${maxN} warm-up`);
  }

  const label = (n: number): string => `double centralised m=${m} n=${n}`;
  const samples = await sweep(o, (n) => {
    const { users, ms: genMs } = generate(o, n, m);
    const t0 = performance.now();
    const hash = outcomeHash(centralOutcome(providers, users, o.rule));
    const roundMs = performance.now() - t0;
    progress.tick(label(n));
    return { genMs, roundMs, outcomeHash: toHex(hash) };
  });
  return o.users.map((n) => summarise(label(n), 'centralised', null, m, n, samples.get(n)!));
}

/**
 * Runs `measure` for every n, `runs` times, with the runs outermost: a burst of load from
 * elsewhere on the machine then spreads over every n instead of skewing one point.
 */
async function sweep(
  o: DoubleBenchOptions,
  measure: (n: number) => DoubleSample | Promise<DoubleSample>,
): Promise<Map<number, DoubleSample[]>> {
  const samples = new Map(o.users.map((n) => [n, [] as DoubleSample[]]));
  for (let run = 0; run < o.runs; run++) {
    for (const n of o.users) samples.get(n)!.push(await measure(n));
  }
  return samples;
}

async function distributedSeries(
  o: DoubleBenchOptions,
  k: number,
  maxN: number,
  progress: Progress,
): Promise<DoublePoint[]> {
  const m = PAPER_PROVIDERS_FOR_K[k] ?? 2 * k + 1;
  const providers = fixedProviders(o, m, maxN);
  const tag = (n: number): string => `double k=${k} m=${m} n=${n} latency=${o.latencyMs}ms`;

  // The right outcome of every n, computed before any clock runs.
  const expected = new Map(
    o.users.map((n) => [n, centralOutcome(providers, generate(o, n, m).users, o.rule)]),
  );
  const local = await startDoubleCluster({
    name: `double-k${k}`,
    k,
    providers,
    rule: o.rule,
    latencyMs: o.latencyMs,
  });
  try {
    let round = 1n;
    const warm = generate(o, maxN, m).users;
    await runRound(local, round++, warm, expected.get(maxN)!, `${tag(maxN)} warm-up`);
    progress.tick(`${tag(maxN)} warm-up`);

    const samples = await sweep(o, async (n) => {
      const { users, ms: genMs } = generate(o, n, m);
      const s = await runRound(local, round++, users, expected.get(n)!, tag(n));
      progress.tick(tag(n));
      return { ...s, genMs };
    });
    const series = `k=${k}` as DoubleSeries;
    return o.users.map((n) => summarise(tag(n), series, k, m, n, samples.get(n)!));
  } finally {
    await local.stop();
  }
}

function summarise(
  label: string,
  series: DoubleSeries,
  k: number | null,
  m: number,
  n: number,
  samples: DoubleSample[],
): DoublePoint {
  const rounds = samples.filter((s): s is RoundSample & { genMs: number } => 'submitMs' in s);
  const submit = rounds.map((s) => s.submitMs);
  const endToEnd = samples.map((s) => s.genMs + ('submitMs' in s ? s.submitMs : 0) + s.roundMs);
  const roundMs = roundSpread(spread(samples.map((s) => s.roundMs)));
  const endToEndMs = roundSpread(spread(endToEnd));
  const paper = paperMs(PAPER_DOUBLE_USERS, PAPER_DOUBLE_SECONDS[series], n);
  return {
    label,
    series,
    k,
    m,
    n,
    genMs: roundSpread(spread(samples.map((s) => s.genMs))),
    submitMs: submit.length > 0 ? roundSpread(spread(submit)) : null,
    roundMs,
    endToEndMs,
    cpuMaxMs:
      rounds.length > 0 ? roundSpread(spread(rounds.map((s) => Math.max(...s.cpuMs)))) : null,
    envelopes: rounds[0]?.envelopes ?? null,
    bytes: rounds[0]?.bytes ?? null,
    paperMs: paper,
    ratioRound: ratio(paper, roundMs.median),
    ratioEndToEnd: ratio(paper, endToEndMs.median),
    samples: samples.map(roundSample),
  };
}

function roundSample(s: DoubleSample): DoubleSample {
  return 'submitMs' in s
    ? { ...s, submitMs: round2(s.submitMs), roundMs: round2(s.roundMs), genMs: round2(s.genMs) }
    : { ...s, roundMs: round2(s.roundMs), genMs: round2(s.genMs) };
}

/** The table printed and written as double.md: ours beside the paper, with the ratios. */
export function doubleTable(points: readonly DoublePoint[]): Table {
  return {
    headers: [
      'series',
      'm',
      'n',
      'round ms',
      'submit ms',
      'end-to-end ms',
      'paper ms',
      'paper/ours round',
      'paper/ours e2e',
    ],
    rows: points.map((p) => [
      p.series,
      String(p.m),
      String(p.n),
      spreadCell(p.roundMs),
      spreadCell(p.submitMs),
      num(p.endToEndMs.median),
      num(p.paperMs, 0),
      num(p.ratioRound, 2),
      num(p.ratioEndToEnd, 2),
    ]),
    numeric: [false, true, true, true, true, true, true, true, true],
  };
}

/**
 * The result files: double.json, double.md, double.svg (round) and double-e2e.svg (end to
 * end); with a latency, `double-latency5ms.json` and so on.
 */
export async function doubleFiles(r: DoubleResults): Promise<ResultFiles> {
  const stem = fileStem('double', r.options.latencyMs);
  const caption =
    `${machineLine(r.machine)}; ${count(r.options.runs, 'run')} per point, ` +
    `latency ${r.options.latencyMs} ms, rule ${r.options.rule}, seed ${r.options.seed}`;
  const md = markdownReport(
    `Double auction (paper Figure 4), times in ms: median [min–max] of ${count(r.options.runs, 'run')}.`,
    caption,
    r,
    doubleTable(r.points),
  );

  const plot = (which: 'roundMs' | 'endToEndMs', what: string): Promise<string> =>
    renderLinePlot({
      title: `Double auction (paper Figure 4): ${what}`,
      subtitle: caption,
      xTitle: 'users n',
      yTitle: 'seconds per round',
      series: doubleSeries(r.points, which),
    });
  return {
    [`${stem}.json`]: toJson(r),
    [`${stem}.md`]: md,
    [`${stem}.svg`]: await plot('roundMs', 'close of bidding → all signed results verified'),
    [`${stem}-e2e.svg`]: await plot('endToEndMs', 'input generation → all results (end to end)'),
  };
}

function doubleSeries(
  points: readonly DoublePoint[],
  which: 'roundMs' | 'endToEndMs',
): PlotSeries[] {
  const names = [...new Set(points.map((p) => p.series))];
  const ours: PlotSeries[] = names.map((name) => ({
    name,
    source: 'ours',
    points: points
      .filter((p) => p.series === name)
      .map((p) => ({
        x: p.n,
        y: p[which].median / 1000,
        lo: p[which].min / 1000,
        hi: p[which].max / 1000,
      })),
  }));
  const paper: PlotSeries[] = names.map((name) => ({
    name,
    source: 'paper',
    points: PAPER_DOUBLE_USERS.map((n, i) => ({ x: n, y: PAPER_DOUBLE_SECONDS[name][i]! })),
  }));
  return [...ours, ...paper];
}
