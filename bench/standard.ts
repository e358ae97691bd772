/**
 * `bench standard`: the paper's Figure 5 — the standard auction (PVCG-ε) with m = 8 providers
 * for p = 1 (centralised, serial), p = 2 (k = 3) and p = 4 (k = 1), n = 25 … 125, then larger
 * n; wall time and the largest per-provider CPU time, beside the paper's numbers.
 *
 * It needs a `standard` auction kind in the cluster file (with its number of groups p), which
 * issue #3 is adding; until a cluster file can describe one, the command stops with a
 * "blocked" message and status 1 rather than measure something else.
 */
import { BlockedError } from './errors.js';
import { machineLine } from './machine.js';
import {
  PAPER_STANDARD_SECONDS,
  PAPER_STANDARD_USERS,
  paperMs,
  type StandardSeries,
} from './paper.js';
import { renderLinePlot, type PlotSeries } from './plot.js';
import {
  fileStem,
  markdownReport,
  toJson,
  type ResultFiles,
  type ResultHeader,
} from './results.js';
import type { Spread } from './stats.js';
import { num, spreadCell, type Table } from './table.js';

/** Options of the standard bench, as the CLI parsed them. */
export interface StandardBenchOptions {
  readonly users: readonly number[];
  readonly runs: number;
  readonly latencyMs: number;
  readonly seed: string;
  readonly command: string;
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
}

/** The JSON result file of the standard bench. */
export interface StandardResults extends ResultHeader {
  readonly options: Omit<StandardBenchOptions, 'command'>;
  readonly points: readonly StandardPoint[];
}

/**
 * Runs the bench.
 *
 * @throws BlockedError while the cluster file has no standard auction (#3)
 */
export async function runStandardBench(_o: StandardBenchOptions): Promise<StandardResults> {
  // TODO(#3): run p = 1 in-process and p = 2, 4 on clusters of 8 once the cluster file has a
  // `standard` auction with its `groups`; the table, JSON and plot below are ready for it.
  throw new BlockedError(
    'blocked: needs the standard auction in the cluster file (#3); ' +
      'the cluster file accepts only { "kind": "double" } auctions for now',
  );
}

/** The table printed and written as standard.md. */
export function standardTable(points: readonly StandardPoint[]): Table {
  return {
    headers: ['series', 'k', 'n', 'wall ms', 'CPU max ms', 'paper ms', 'paper/ours'],
    rows: points.map((p) => [
      p.series,
      p.k === null ? '–' : String(p.k),
      String(p.n),
      spreadCell(p.wallMs),
      spreadCell(p.cpuMaxMs),
      num(p.paperMs, 0),
      num(p.ratio, 2),
    ]),
  };
}

/** The result files: standard.json, standard.md and standard.svg (log-scale time). */
export async function standardFiles(r: StandardResults): Promise<ResultFiles> {
  const caption = `${machineLine(r.machine)}; m = 8, ${r.options.runs} runs per point`;
  const md = markdownReport(
    `Standard auction (paper Figure 5), times in ms: median [min–max] of ${r.options.runs} runs.`,
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
    title: 'Standard auction (paper Figure 5): close of bidding → all results verified',
    subtitle: caption,
    xTitle: 'users n',
    yTitle: 'seconds per round (log)',
    yLog: true,
    series,
  });
  const stem = fileStem('standard', r.options.latencyMs);
  return { [`${stem}.json`]: toJson(r), [`${stem}.md`]: md, [`${stem}.svg`]: svg };
}
