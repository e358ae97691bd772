/**
 * `bench scale`: the double auction with m = 8 providers (k = 3) from n = 10^2 to 10^5 users.
 * It reports, per n, the time to submit the bids (one request per user and provider), the
 * round time (close of bidding → all signed results verified, as in rounds.ts), the envelopes
 * and bytes the providers exchanged in the round, and what the client downloads.
 *
 * The fast path batches every bidder into one envelope per provider and phase, so envelopes per
 * round must not grow with n: a run where they do is reported as a problem (exit status 1).
 * As in the double bench, one cluster serves every n (asks and capacities are those of the
 * paper workload at the largest n) and its first round is an unrecorded warm-up.
 */
import { encodeDoubleOutcome } from '../src/mechanisms/double/codec.js';
import { runStarPadding } from '../src/mechanisms/double/star.js';
import type { UserBid, WinnerRule } from '../src/mechanisms/double/types.js';
import { paperDoubleWorkload } from '../src/scenarios/paper.js';
import { machineLine } from './machine.js';
import { renderLinePlot, type PlotSeries } from './plot.js';
import { createProgress } from './progress.js';
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
import { round2, roundSpread, spread, type Spread } from './stats.js';
import { bytesCell, count, num, spreadCell, type Table } from './table.js';

/** Users in the warm-up round (or the largest n, when smaller). */
export const SCALE_WARMUP_USERS = 1000;

/** Options of the scale bench, as the CLI parsed them. */
export interface ScaleBenchOptions {
  readonly users: readonly number[];
  readonly providers: number;
  readonly runs: number;
  readonly latencyMs: number;
  readonly seed: string;
  readonly rule: WinnerRule;
  readonly command: string;
}

/** One n, summarised over its runs. */
export interface ScalePoint {
  /** Every parameter: "double-scale k=3 m=8 n=100000 latency=0ms". */
  readonly label: string;
  readonly k: number;
  readonly m: number;
  readonly n: number;
  readonly submitMs: Spread;
  /** Bid requests (n × m) per second of submission, on the median. */
  readonly bidRequestsPerS: number;
  /** JSON bodies of the n × m bid requests, in bytes (without framing and encryption). */
  readonly bidRequestBytes: number;
  readonly roundMs: Spread;
  /**
   * Close → the slowest provider's end of its last phase: the rest of roundMs is the client
   * fetching and checking the m signed results.
   */
  readonly providersDoneMs: Spread;
  readonly cpuMaxMs: Spread;
  /** Envelopes between providers in one round, all providers together. */
  readonly envelopes: number;
  /** Bytes of those envelopes. */
  readonly bytes: number;
  readonly bytesPerUser: number;
  /** Bytes of the m signed results as JSON. */
  readonly resultBytes: number;
  readonly samples: readonly RoundSample[];
}

/** The JSON result file of the scale bench. */
export interface ScaleResults extends ResultHeader {
  readonly options: Omit<ScaleBenchOptions, 'command'>;
  readonly points: readonly ScalePoint[];
}

/** Runs the bench; throws WrongResultError at the first round with a wrong result. */
export async function runScaleBench(o: ScaleBenchOptions): Promise<ScaleResults> {
  const started = startMark();
  const m = o.providers;
  const k = Math.floor((m - 1) / 2);
  const maxN = Math.max(...o.users);
  const tag = (n: number): string => `double-scale k=${k} m=${m} n=${n} latency=${o.latencyMs}ms`;
  const progress = createProgress(1 + o.users.length * o.runs);

  // Providers of the largest n's workload (fixed at start); users of each n's own workload.
  const full = paperDoubleWorkload({ users: maxN, providers: m, seed: o.seed });
  const usersOf = (n: number): readonly UserBid[] =>
    n === maxN ? full.users : paperDoubleWorkload({ users: n, providers: m, seed: o.seed }).users;
  const expected = (users: readonly UserBid[]): Uint8Array =>
    encodeDoubleOutcome(runStarPadding({ providers: full.providers, users, rule: o.rule }));

  const local = await startDoubleCluster({
    name: 'scale',
    k,
    providers: full.providers,
    rule: o.rule,
    latencyMs: o.latencyMs,
  });
  const points: ScalePoint[] = [];
  try {
    let round = 1n;
    const warmN = Math.min(SCALE_WARMUP_USERS, maxN);
    const warm = usersOf(warmN);
    await runRound(local, round++, warm, expected(warm), `${tag(warmN)} warm-up`);
    progress.tick(`${tag(warmN)} warm-up`);

    for (const n of o.users) {
      const users = usersOf(n);
      const want = expected(users);
      const samples: RoundSample[] = [];
      for (let run = 0; run < o.runs; run++) {
        samples.push(await runRound(local, round++, users, want, tag(n)));
        progress.tick(tag(n));
      }
      points.push(summarise(tag(n), k, m, users, samples));
    }
  } finally {
    progress.stop();
    await local.stop();
  }

  const { command, ...options } = o;
  return { ...resultHeader('scale', command, started, envelopeProblems(points)), options, points };
}

/** The fast path's promise: the same number of envelopes per round whatever n. */
export function envelopeProblems(points: readonly ScalePoint[]): string[] {
  const counts = new Set(points.flatMap((p) => p.samples.map((s) => s.envelopes)));
  if (counts.size <= 1) return [];
  const seen = points.map((p) => `n=${p.n}: ${p.envelopes}`).join(', ');
  return [`envelopes per round changed with n (${seen})`];
}

function summarise(
  label: string,
  k: number,
  m: number,
  users: readonly UserBid[],
  samples: RoundSample[],
): ScalePoint {
  const n = users.length;
  const submitMs = roundSpread(spread(samples.map((s) => s.submitMs)));
  const first = samples[0]!;
  return {
    label,
    k,
    m,
    n,
    submitMs,
    bidRequestsPerS: Math.round((n * m * 1000) / submitMs.median),
    bidRequestBytes: m * users.reduce((sum, u) => sum + bidRequestBytes(u), 0),
    roundMs: roundSpread(spread(samples.map((s) => s.roundMs))),
    providersDoneMs: roundSpread(spread(samples.map((s) => Math.max(...Object.values(s.phaseMs))))),
    cpuMaxMs: roundSpread(spread(samples.map((s) => Math.max(...s.cpuMs)))),
    envelopes: first.envelopes,
    bytes: first.bytes,
    bytesPerUser: round2(first.bytes / n),
    resultBytes: first.resultBytes,
    samples: samples.map((s) => ({
      ...s,
      submitMs: round2(s.submitMs),
      roundMs: round2(s.roundMs),
    })),
  };
}

/** The JSON body the client sends for one bid to one provider (client.ts submitBid). */
function bidRequestBytes(u: UserBid): number {
  const body = {
    type: 'bid',
    round: '1',
    bid: { id: u.id, bid: String(u.bid), demand: String(u.demand) },
  };
  return Buffer.byteLength(JSON.stringify(body));
}

/** The table printed and written as scale.md. */
export function scaleTable(points: readonly ScalePoint[]): Table {
  return {
    headers: [
      'n',
      'submit ms',
      'bid requests/s',
      'round ms',
      'providers done ms',
      'CPU max ms',
      'envelopes',
      'mesh bytes',
      'bytes/user',
      'results bytes',
      'bid request bytes',
    ],
    rows: points.map((p) => [
      String(p.n),
      spreadCell(p.submitMs, 0),
      String(p.bidRequestsPerS),
      spreadCell(p.roundMs, 0),
      num(p.providersDoneMs.median, 0),
      num(p.cpuMaxMs.median, 0),
      String(p.envelopes),
      bytesCell(p.bytes),
      num(p.bytesPerUser, 0),
      bytesCell(p.resultBytes),
      bytesCell(p.bidRequestBytes),
    ]),
    numeric: Array.from({ length: 11 }, () => true),
  };
}

/** The result files: scale.json, scale.md and scale.svg (times against n, log–log). */
export async function scaleFiles(r: ScaleResults): Promise<ResultFiles> {
  const m = r.options.providers;
  const caption =
    `${machineLine(r.machine)}; m = ${m}, ${count(r.options.runs, 'run')} per point, ` +
    `latency ${r.options.latencyMs} ms`;
  const md = markdownReport(
    `Double auction at scale, m = ${m}: times in ms, median [min–max] of ` +
      `${count(r.options.runs, 'run')}.`,
    caption,
    r,
    scaleTable(r.points),
  );

  const line = (name: string, pick: (p: ScalePoint) => Spread): PlotSeries => ({
    name,
    source: 'ours',
    points: r.points.map((p) => {
      const s = pick(p);
      return { x: p.n, y: s.median / 1000, lo: s.min / 1000, hi: s.max / 1000 };
    }),
  });
  const svg = await renderLinePlot({
    title: `Double auction at scale (m = ${m}): time against users`,
    subtitle: caption,
    xTitle: 'users n (log)',
    yTitle: 'seconds (log)',
    xLog: true,
    yLog: true,
    series: [
      line('bid submission (n × m requests)', (p) => p.submitMs),
      line('round: close → all results verified', (p) => p.roundMs),
      line('providers done: the last phase ends', (p) => p.providersDoneMs),
    ],
  });
  const stem = fileStem('scale', r.options.latencyMs);
  return { [`${stem}.json`]: toJson(r), [`${stem}.md`]: md, [`${stem}.svg`]: svg };
}
