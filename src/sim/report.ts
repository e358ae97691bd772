/**
 * Counting runs: the tallies of a simulation, overall, per strategy and per cluster size, the
 * first examples of each kind of violation (with the run index that replays it), and the
 * text table `auctioneer simulate` prints.
 */
import type { AuctionKind } from './auctions.js';
import type { SimAgreement } from './plan.js';
import type { RunDetail } from './run.js';
import { STRATEGIES } from './strategies.js';

/** Counters over a set of runs. */
export interface Tally {
  runs: number;
  /** Runs in which some honest provider output ⊥. */
  aborts: number;
  /** Runs in which every honest provider output an outcome. */
  outcomes: number;
  /** Runs in which some honest providers output and others ⊥. */
  mixed: number;
  /** Runs in which an honest output differs from the trusted auctioneer's. */
  wrongOutcomes: number;
  /** Runs in which two honest providers output different outcomes. */
  splits: number;
  /** Runs in which a provider never finished. */
  hangs: number;
  /** Runs in which an honest provider's round failed with a local error. */
  localFailures: number;
  /** Runs ending in ⊥ where an honest ⊥ named a deviator and none named an honest provider. */
  blameCorrect: number;
  /** Runs where an honest ⊥ named an honest provider (own finding or relayed claim). */
  blameWrong: number;
  /** Of blameWrong: an honest provider's own finding named an honest one. */
  blameWrongOwn: number;
  /** Of blameWrong: only relayed claims (PEER_ABORT) named an honest one. */
  blameWrongRelayed: number;
  /** Runs ending in ⊥ where no honest ⊥ named anyone. */
  blameUnattributed: number;
  /** Honest providers' ⊥s (all runs) that named a deviator and no honest provider. */
  honestAbortsNamingDeviators: number;
  /** Honest providers' ⊥s that named nobody (an unverifiable claim, peers that left). */
  honestAbortsNamingNobody: number;
  /** Honest providers' ⊥s that named an honest provider. */
  honestAbortsNamingHonest: number;
  /** Runs whose ⊥-or-outcome differs from what the strategy's variant should give. */
  unexpected: number;
}

/** One run worth looking at, with what to replay it with. */
export interface RunExample {
  readonly index: number;
  readonly kind: string;
  readonly m: number;
  readonly coalition: readonly number[];
  readonly strategy: string;
  readonly variant: string;
  readonly problem: string;
}

/** What a simulation found. */
export interface SimulationReport extends Tally {
  readonly seed: string;
  readonly auction: AuctionKind;
  readonly agreement: SimAgreement;
  readonly firstRun: number;
  readonly phaseTimeoutMs: number;
  readonly startTimeoutMs: number;
  /** Worker threads used (0: in the calling thread). */
  workers: number;
  /** Wall-clock time of the whole simulation. */
  elapsedMs: number;
  perStrategy: Record<string, Tally>;
  perSize: Record<string, Tally>;
  /** Faithful runs by KS flavour and decision rule, e.g. "it/majority"; empty in fast mode. */
  perFlavour: Record<string, Tally>;
  /** Strategies of the catalogue that do not apply to this auction, and why. */
  readonly notApplicable: readonly { strategy: string; reason: string }[];
  /** The first examples of each kind of violation, by run index. */
  examples: RunExample[];
}

/** Examples kept per kind of violation. */
export const EXAMPLES_PER_KIND = 3;

/** A tally of nothing. */
export function emptyTally(): Tally {
  return {
    runs: 0,
    aborts: 0,
    outcomes: 0,
    mixed: 0,
    wrongOutcomes: 0,
    splits: 0,
    hangs: 0,
    localFailures: 0,
    blameCorrect: 0,
    blameWrong: 0,
    blameWrongOwn: 0,
    blameWrongRelayed: 0,
    blameUnattributed: 0,
    honestAbortsNamingDeviators: 0,
    honestAbortsNamingNobody: 0,
    honestAbortsNamingHonest: 0,
    unexpected: 0,
  };
}

/** An empty report for a simulation. */
export function emptyReport(o: {
  seed: string;
  auction: AuctionKind;
  agreement: SimAgreement;
  firstRun: number;
  phaseTimeoutMs: number;
  startTimeoutMs: number;
}): SimulationReport {
  return {
    ...emptyTally(),
    seed: o.seed,
    auction: o.auction,
    agreement: o.agreement,
    firstRun: o.firstRun,
    phaseTimeoutMs: o.phaseTimeoutMs,
    startTimeoutMs: o.startTimeoutMs,
    workers: 0,
    elapsedMs: 0,
    perStrategy: {},
    perSize: {},
    perFlavour: {},
    notApplicable: STRATEGIES.filter((s) => s.auctions && !s.auctions.includes(o.auction)).map(
      (s) => ({
        strategy: s.name,
        reason: `${o.auction} auction has no data-transfer phase (use --auction standard)`,
      }),
    ),
    examples: [],
  };
}

/** Counts one run into a report. */
export function countRun(report: SimulationReport, d: RunDetail): void {
  const v = d.verdict;
  const strategy = (report.perStrategy[d.plan.strategy] ??= emptyTally());
  const size = (report.perSize[`m=${d.plan.m}`] ??= emptyTally());
  const f = d.plan.faithful;
  const flavour = f ? [(report.perFlavour[`${f.ks}/${f.rule}`] ??= emptyTally())] : [];
  for (const t of [report as Tally, strategy, size, ...flavour]) {
    t.runs++;
    if (v.aborted) t.aborts++;
    if (v.outcome) t.outcomes++;
    if (v.mixed) t.mixed++;
    if (v.wrongOutcome) t.wrongOutcomes++;
    if (v.split) t.splits++;
    if (v.hang) t.hangs++;
    if (v.localFailure) t.localFailures++;
    if (v.blame === 'correct') t.blameCorrect++;
    if (v.blame === 'wrong-own' || v.blame === 'wrong-relayed') t.blameWrong++;
    if (v.blame === 'wrong-own') t.blameWrongOwn++;
    if (v.blame === 'wrong-relayed') t.blameWrongRelayed++;
    if (v.blame === 'unattributed') t.blameUnattributed++;
    t.honestAbortsNamingDeviators += v.honestAborts.namingDeviators;
    t.honestAbortsNamingNobody += v.honestAborts.namingNobody;
    t.honestAbortsNamingHonest += v.honestAborts.namingHonest;
    if (v.unexpected) t.unexpected++;
  }

  // Examples: the first few of each kind, to replay with --first <index> --runs 1.
  const kinds: [boolean, string][] = [
    [v.wrongOutcome, 'wrong-outcome'],
    [v.split, 'split'],
    [v.hang, 'hang'],
    [v.localFailure, 'local-failure'],
    [v.blame === 'wrong-own', 'blame-wrong-own'],
    [v.blame === 'wrong-relayed', 'blame-wrong-relayed'],
    [v.unexpected, `unexpected-${v.aborted ? 'abort' : 'outcome'}`],
  ];
  for (const [hit, kind] of kinds) {
    if (!hit || report.examples.filter((e) => e.kind === kind).length >= EXAMPLES_PER_KIND) {
      continue;
    }
    report.examples.push({
      index: d.plan.index,
      kind,
      m: d.plan.m,
      coalition: d.plan.coalition,
      strategy: d.plan.strategy,
      variant: d.plan.variant.label,
      problem: v.problems[0] ?? `codes ${v.codes.join(', ') || 'none'}`,
    });
  }
}

/** Adds the counts of `part` (another worker's runs) into `into`. */
export function mergeReport(into: SimulationReport, part: SimulationReport): void {
  addTally(into, part);
  for (const [k, t] of Object.entries(part.perStrategy)) {
    addTally((into.perStrategy[k] ??= emptyTally()), t);
  }
  for (const [k, t] of Object.entries(part.perSize))
    addTally((into.perSize[k] ??= emptyTally()), t);
  for (const [k, t] of Object.entries(part.perFlavour)) {
    addTally((into.perFlavour[k] ??= emptyTally()), t);
  }

  // Keep the examples with the lowest run indices, as one thread would have.
  const all = [...into.examples, ...part.examples].sort((a, b) => a.index - b.index);
  into.examples = [];
  for (const e of all) {
    if (into.examples.filter((x) => x.kind === e.kind).length < EXAMPLES_PER_KIND) {
      into.examples.push(e);
    }
  }
}

const TALLY_KEYS = Object.keys(emptyTally()) as (keyof Tally)[];

function addTally(into: Tally, t: Tally): void {
  for (const key of TALLY_KEYS) into[key] += t[key];
}

/** The report as the text `auctioneer simulate` prints. */
export function formatReport(r: SimulationReport): string {
  const pct = (n: number, of: number) => (of === 0 ? '-' : `${((100 * n) / of).toFixed(1)}%`);
  const honestAborts =
    r.honestAbortsNamingDeviators + r.honestAbortsNamingNobody + r.honestAbortsNamingHonest;
  const lines = [
    `Simulation seed ${JSON.stringify(r.seed)}, runs ${r.firstRun}..${r.firstRun + r.runs - 1}, ` +
      `auction ${r.auction}, agreement ${r.agreement}`,
    `  deadlines (virtual time): START ${r.startTimeoutMs} ms, then ${r.phaseTimeoutMs} ms a phase`,
    `  runs                          ${r.runs}`,
    `  runs ending in ⊥              ${r.aborts} (${pct(r.aborts, r.runs)})` +
      (r.mixed > 0 ? `, ${r.mixed} of them with some honest outputs` : ''),
    `  wrong outcomes                ${r.wrongOutcomes}`,
    `  split outcomes                ${r.splits}`,
    `  ⊥ named a deviator, never an honest provider   ${r.blameCorrect} of ${r.aborts} runs`,
    `  ⊥ named nobody (unverifiable claims only)      ${r.blameUnattributed} runs`,
    `  ⊥ named an honest provider    ${r.blameWrong} runs (own finding ${r.blameWrongOwn}, ` +
      `relayed claim ${r.blameWrongRelayed})`,
    `  honest providers' ⊥s          ${honestAborts}: naming a deviator ` +
      `${r.honestAbortsNamingDeviators}, nobody ${r.honestAbortsNamingNobody}, ` +
      `an honest provider ${r.honestAbortsNamingHonest}`,
    `  hangs                         ${r.hangs}`,
    `  local failures                ${r.localFailures}`,
    `  time                          ${(r.elapsedMs / 1000).toFixed(1)} s` +
      (r.workers > 0 ? ` with ${r.workers} worker threads` : ''),
  ];
  const flavours = Object.entries(r.perFlavour).map(([f, t]) => `${f} ${t.runs} (⊥ ${t.aborts})`);
  for (let i = 0; i < flavours.length; i += 2) {
    const head = i === 0 ? '  runs by ks/decision rule' : '';
    lines.push(`${head.padEnd(32)}${flavours.slice(i, i + 2).join(', ')}`);
  }
  lines.push('');

  // The per-strategy table.
  const header = ['strategy', 'runs', '⊥', 'outcome', 'mixed', 'wrong', 'split', 'named'];
  header.push('nobody');
  const rows = STRATEGIES.map((s) => {
    const t = r.perStrategy[s.name];
    const na = r.notApplicable.find((p) => p.strategy === s.name);
    if (na) return [s.name, 'n/a', '', '', '', '', '', '', ''];
    if (!t) return [s.name, '0', '', '', '', '', '', '', ''];
    return [
      s.name,
      String(t.runs),
      String(t.aborts),
      String(t.outcomes),
      String(t.mixed),
      String(t.wrongOutcomes),
      String(t.splits),
      `${t.blameCorrect}${t.blameWrong > 0 ? ` (+${t.blameWrong} honest)` : ''}`,
      String(t.blameUnattributed),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) =>
    (
      '  ' + row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
    ).trimEnd();
  lines.push(fmt(header), ...rows.map(fmt));
  lines.push(
    '  (named: runs whose ⊥ named a deviator and no honest provider; nobody: runs whose ⊥s',
    '   named nobody)',
  );
  for (const p of r.notApplicable) lines.push(`  n/a: ${p.strategy}: the ${p.reason}`);

  if (r.examples.length > 0) {
    lines.push('', '  examples (replay one with --first <index> --runs 1 --verbose):');
    for (const e of r.examples) {
      lines.push(
        `    run ${e.index} [${e.kind}] m=${e.m} coalition {${e.coalition.join(',')}} ` +
          `${e.strategy} ${e.variant}: ${e.problem}`,
      );
    }
  }
  return lines.join('\n');
}
