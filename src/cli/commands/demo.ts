/**
 * `auctioneer demo`: one full distributed round on this machine. It generates an identity per
 * provider, writes a cluster file, starts every provider as its own OS process on loopback,
 * submits every user's bid to every provider, closes bidding, collects the signed results,
 * checks them against each other and against the mechanism run centrally, and prints a summary.
 */
import { existsSync } from 'node:fs';
import type { RoundReport } from '../../client/client.js';
import { equalBytes } from '../../core/bytes.js';
import { ConfigError } from '../../core/errors.js';
import { decodeDoubleOutcome } from '../../mechanisms/double/codec.js';
import type { DoubleAuctionOutcome, WinnerRule } from '../../mechanisms/double/types.js';
import { decodeStandardOutcome } from '../../mechanisms/standard/codec.js';
import {
  DEFAULT_EPSILON_PPM,
  type StandardAuctionOutcome,
  type StandardMode,
} from '../../mechanisms/standard/types.js';
import type { Cluster } from '../../node/cluster.js';
import { scenarioReports } from '../../node/reports.js';
import type { VerifiedResult } from '../../node/signed-result.js';
import { paperStandardWorkload, type StandardScenario } from '../../scenarios/standard.js';
import { standardFromDouble } from '../../scenarios/standard-map.js';
import { sha256 } from '../../core/hash.js';
import { utf8 } from '../../core/bytes.js';
import { startLocalCluster } from '../../node/local-cluster.js';
import type { DecisionRule, KsFlavour } from '../../protocol/faithful/params.js';
import {
  BUNDLED_MAPS,
  bundledMapPath,
  loadScenario,
  type BundledMap,
  type DoubleScenario,
} from '../../scenarios/index.js';
import { createLogger } from '../logger.js';

/** A scenario of either auction. */
type AnyScenario = DoubleScenario | StandardScenario;

/** Options of the demo, as the CLI parsed them. */
export interface DemoOptions {
  scenario?: string;
  providers?: number;
  users?: number;
  k?: number;
  seed: string;
  /** Which auction. @default 'double' */
  auction?: 'double' | 'standard';
  rule: WinnerRule;
  /** Standard auction: ε in ppm, mode, groups p. */
  epsilonPpm?: number;
  mode?: StandardMode;
  groups?: number;
  /** Bid agreement. @default 'fast' */
  agreement?: 'fast' | 'faithful';
  /** Faithful mode's knowledge sharing. @default 'it' */
  ks?: KsFlavour;
  /** Faithful mode's per-lane rule. @default 'majority' */
  decisionRule?: DecisionRule;
  json: boolean;
  timeoutMs: number;
  latencyMs?: number;
  keep: boolean;
  logLevel: string;
}

/** The machine-readable summary of a demo round (`--json`). */
export interface DemoSummary {
  scenario: string;
  source: string;
  providers: number;
  users: number;
  k: number;
  auction: 'double' | 'standard';
  /** Double auction: the STAR-Padding winner rule. */
  rule?: WinnerRule;
  /** Standard auction: the provider groups p and which tasks each provider ran. */
  groups?: number;
  perProviderTasks?: string[][];
  /** Standard auction: winners before the lottery, users served, revenue. */
  winners?: number;
  served?: number;
  revenue?: string;
  solver?: string;
  agreement: 'fast' | 'faithful';
  /** Faithful mode only. */
  ks?: KsFlavour;
  /** Faithful mode only. */
  decisionRule?: DecisionRule;
  status: 'outcome' | 'abort';
  outcomeHash: string | null;
  matchesCentralised: boolean;
  recomputedMatches: boolean;
  submitMs: number;
  roundMs: number;
  phaseMs: Record<string, number>;
  /** CPU time each provider process spent from close to its result. */
  perProviderCpuMs: number[];
  envelopes: number;
  bytes: number;
  /** Envelopes sent by all providers, by phase. */
  phaseEnvelopes: Record<string, number>;
  /** Bytes of the envelopes sent by all providers, by phase. */
  phaseBytes: Record<string, number>;
  bidsRefused: number;
  winningProviders?: number;
  winningUsers?: number;
  clearingAsk?: string | null;
  clearingBid?: string | null;
  surplus?: string | null;
  welfare?: string | null;
  notes: string[];
  problems: string[];
  workDir?: string;
}

const ROUND = 1n;

/** Runs the demo and returns its exit status. */
export async function demoCommand(o: DemoOptions): Promise<number> {
  const log = createLogger(o.json ? 'warn' : o.logLevel);
  const scenario = o.auction === 'standard' ? chooseStandardScenario(o) : chooseScenario(o);
  const m = scenario.providers.length;
  const k = o.k ?? Math.floor((m - 1) / 2);
  const say = (line: string): void => {
    if (!o.json) process.stdout.write(line + '\n');
  };

  say(`scenario ${scenario.name}: ${m} providers, ${scenario.users.length} users, k = ${k}`);
  // Faithful mode: the bidder registry is every user and provider of the scenario.
  const faithful = o.agreement === 'faithful' && {
    ks: o.ks ?? 'it',
    decisionRule: o.decisionRule ?? 'majority',
    bidders: [...scenario.users.map((u) => u.id), ...scenario.providers.map((p) => p.id)],
  };
  const local = await startLocalCluster({
    name: 'demo',
    providers: scenario.providers.map((p) => ({
      id: p.id,
      reportArgs:
        'ask' in p
          ? ['--ask', String(p.ask), '--capacity', String(p.capacity)]
          : ['--capacity', p.capacity.join(',')],
    })),
    file: {
      clusterId: `demo-${scenario.name}-${o.seed}`,
      k,
      agreement: o.agreement ?? 'fast',
      ...faithful,
      auction:
        o.auction === 'standard'
          ? {
              kind: 'standard',
              epsilonPpm: o.epsilonPpm ?? DEFAULT_EPSILON_PPM,
              mode: o.mode ?? 'midr',
              resources: 1,
              ...(o.groups !== undefined && { groups: o.groups }),
            }
          : { kind: 'double', rule: o.rule },
      timing: { phaseTimeoutMs: 15_000, startTimeoutMs: 30_000 },
    },
    logLevel: o.logLevel,
    log,
    ...(o.latencyMs !== undefined && { latencyMs: o.latencyMs }),
  });
  // Killed from outside: stop the providers and remove the work directory before exiting.
  const onSignal = (signal: NodeJS.Signals, status: number) => (): void => {
    log.warn({ signal }, 'stopping the demo');
    void local.stop(o.keep).finally(() => process.exit(status));
  };
  const signals = [
    ['SIGTERM', onSignal('SIGTERM', 143)],
    ['SIGHUP', onSignal('SIGHUP', 129)],
  ] as const;
  for (const [signal, handler] of signals) process.once(signal, handler);
  try {
    const where = o.keep ? `logs in ${local.dir}` : 'logs kept with --keep';
    say(`started ${m} provider processes on loopback (${where})`);
    const client = local.client;

    // Bids from every user to every provider, then close bidding and time the round.
    const t0 = performance.now();
    const refusals = await client.submitBids(ROUND, scenario.users);
    const submitMs = performance.now() - t0;
    for (const r of refusals.slice(0, 5)) log.warn(r, 'bid refused');
    const t1 = performance.now();
    await client.closeRound(ROUND);
    const report = await client.collect(ROUND, o.timeoutMs);
    const roundMs = performance.now() - t1;

    const summary = summarise(
      local.cluster,
      scenario,
      k,
      o,
      report,
      { submitMs, roundMs },
      refusals.length,
    );
    if (o.keep) summary.workDir = local.dir;
    if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else printSummary(summary);
    return summary.status === 'outcome' && summary.matchesCentralised ? 0 : 1;
  } finally {
    for (const [signal, handler] of signals) process.off(signal, handler);
    await local.stop(o.keep);
    log.flush();
  }
}

function chooseScenario(o: DemoOptions): DoubleScenario {
  // With no scenario named, the Bremen map runs unless a size was asked for: then the paper's.
  const name =
    o.scenario ?? (o.providers !== undefined || o.users !== undefined ? 'paper' : 'bremen');
  if (name === 'paper') {
    return loadScenario({
      kind: 'paper',
      users: o.users ?? 100,
      providers: o.providers ?? 5,
      seed: o.seed,
    });
  }

  const bundled = (BUNDLED_MAPS as readonly string[]).includes(name);
  if (!bundled && !existsSync(name)) {
    throw new ConfigError(
      `--scenario: "${name}" is neither a bundled map (${BUNDLED_MAPS.join(', ')}), nor ` +
        `'paper', nor an existing meshviewer.json file`,
    );
  }
  const path = bundled ? bundledMapPath(name as BundledMap) : name;
  const s = loadScenario({
    kind: 'file',
    path,
    seed: o.seed,
    ...(o.users !== undefined && { users: o.users }),
  });
  if (o.providers !== undefined && o.providers !== s.providers.length) {
    throw new ConfigError(
      `--providers: the map ${s.name} has ${s.providers.length} gateways, so it runs with ` +
        `${s.providers.length} providers (use --scenario paper for another number)`,
    );
  }
  return s;
}

function chooseStandardScenario(o: DemoOptions): StandardScenario {
  const name =
    o.scenario ?? (o.providers !== undefined || o.users !== undefined ? 'paper' : 'bremen');
  if (name !== 'paper') return standardFromDouble(chooseScenario(o), o.seed);
  const seed = /^[0-9]{1,19}$/.test(o.seed) ? BigInt(o.seed) : sha256(utf8(o.seed));
  return paperStandardWorkload({ users: o.users ?? 50, providers: o.providers ?? 8, seed });
}

function summarise(
  cluster: Cluster,
  scenario: AnyScenario,
  k: number,
  o: DemoOptions,
  report: RoundReport,
  times: { submitMs: number; roundMs: number },
  bidsRefused: number,
): DemoSummary {
  // The centralised run: the mechanism on every submitted report, with the round's coin.
  const first = report.results.find((r): r is VerifiedResult => !('error' in r) && !!r.seed);
  const seed = first?.seed ?? new Uint8Array(32);
  const centralBytes = cluster.mechanism.run(scenarioReports(cluster, scenario), seed).outcomeBytes;
  const matches = report.outcomeBytes !== null && equalBytes(report.outcomeBytes, centralBytes);
  const { submitMs, roundMs } = times;
  const perProviderTasks: string[][] = [];

  // Per-phase times (slowest provider) and the protocol's envelopes and bytes, all providers.
  const phaseMs: Record<string, number> = {};
  const perProviderCpuMs: number[] = [];
  const phaseEnvelopes: Record<string, number> = {};
  const phaseBytes: Record<string, number> = {};
  let envelopes = 0;
  let bytes = 0;
  for (const r of report.results) {
    if ('error' in r) continue;
    perProviderCpuMs.push(r.json.cpuMs ?? 0);
    perProviderTasks.push(r.json.tasks ?? []);
    envelopes += r.json.stats.envelopesSent;
    bytes += r.json.stats.bytesSent;
    for (const [p, ms] of Object.entries(r.json.stats.phaseEndMs)) {
      phaseMs[p] = Math.max(phaseMs[p] ?? 0, ms);
    }
    for (const [p, n] of Object.entries(r.json.stats.phaseEnvelopes ?? {})) {
      phaseEnvelopes[p] = (phaseEnvelopes[p] ?? 0) + n;
    }
    for (const [p, n] of Object.entries(r.json.stats.phaseBytes ?? {})) {
      phaseBytes[p] = (phaseBytes[p] ?? 0) + n;
    }
  }
  const agreement = o.agreement ?? 'fast';

  const ok = report.status === 'outcome';
  const kindFields =
    cluster.file.auction.kind === 'standard'
      ? standardFields(decodeStandardOutcome(centralBytes), cluster, perProviderTasks)
      : doubleFields(decodeDoubleOutcome(centralBytes), ok);
  return {
    scenario: scenario.name,
    source: scenario.source,
    providers: scenario.providers.length,
    users: scenario.users.length,
    k,
    auction: cluster.file.auction.kind,
    ...(cluster.file.auction.kind === 'double' && { rule: o.rule }),
    agreement,
    ...(agreement === 'faithful' && {
      ks: o.ks ?? 'it',
      decisionRule: o.decisionRule ?? 'majority',
    }),
    status: report.status,
    outcomeHash: report.outcomeHash,
    matchesCentralised: matches,
    recomputedMatches: report.recomputedMatches,
    submitMs: round2(submitMs),
    roundMs: round2(roundMs),
    phaseMs,
    perProviderCpuMs,
    envelopes,
    bytes,
    phaseEnvelopes,
    phaseBytes,
    bidsRefused,
    ...kindFields,
    notes: [...scenario.notes],
    problems: [...report.problems],
  };
}

function doubleFields(o: DoubleAuctionOutcome, ok: boolean): Partial<DemoSummary> {
  return {
    winningProviders: ok ? o.winningProviders.length : 0,
    winningUsers: ok ? o.winningUsers.length : 0,
    clearingAsk: ok && o.clearingAsk !== null ? String(o.clearingAsk) : null,
    clearingBid: ok && o.clearingBid !== null ? String(o.clearingBid) : null,
    surplus: ok ? String(o.surplus) : null,
    welfare: ok ? String(o.welfare) : null,
  };
}

function standardFields(
  o: StandardAuctionOutcome,
  cluster: Cluster,
  perProviderTasks: string[][],
): Partial<DemoSummary> {
  return {
    groups: cluster.groups,
    perProviderTasks,
    winners: o.winners.length,
    served: o.placements.length,
    revenue: String(o.revenue),
    welfare: String(o.servedBid),
    solver: o.solver,
  };
}

function printSummary(s: DemoSummary): void {
  const lines = [
    '',
    `Round 1 of ${s.scenario} (${s.source})`,
    s.auction === 'standard'
      ? `  providers ${s.providers}, users ${s.users}, k = ${s.k}, standard auction (PVCG-ε)`
      : `  providers ${s.providers}, users ${s.users}, k = ${s.k}, rule ${s.rule}`,
  ];
  if (s.agreement === 'faithful') {
    lines.push(`  agreement faithful: ks ${s.ks}, decision rule ${s.decisionRule}`);
  }
  for (const n of s.notes) lines.push(`  note: ${n}`);
  if (s.status === 'outcome') {
    lines.push(`  outcome agreed by all ${s.providers} providers: ${s.outcomeHash!.slice(0, 16)}…`);
    if (s.auction === 'standard') {
      lines.push(
        `  winners ${s.winners}, served after the lottery ${s.served} of ${s.users} users`,
        `  revenue ${micro(s.revenue ?? null)}, welfare served ${micro(s.welfare ?? null)}`,
        `  solver ${s.solver}; ${s.groups} groups; tasks per provider: ` +
          (s.perProviderTasks ?? []).map((t, i) => `${i}:[${t.join(' ')}]`).join(' '),
        `  CPU ms per provider: ${s.perProviderCpuMs.join(', ')}`,
      );
    } else {
      lines.push(
        `  winners: ${s.winningProviders} providers, ${s.winningUsers} of ${s.users} users`,
        `  clearing ask ${micro(s.clearingAsk)} and bid ${micro(s.clearingBid)} per unit`,
        `  auctioneer surplus Φ ${micro(s.surplus)}, welfare ${micro(s.welfare)}`,
      );
    }
  } else {
    lines.push('  no agreed outcome (⊥ at a provider, or a result missing at --timeout-ms):');
    for (const p of s.problems) lines.push(`    ${p}`);
  }
  lines.push(
    `  time: bids submitted in ${s.submitMs} ms; round ${s.roundMs} ms from close to all results`,
    `  phases (ms since close, slowest provider): ` +
      Object.entries(s.phaseMs)
        .map(([p, ms]) => `${p} ${ms}`)
        .join(', '),
    `  protocol traffic: ${s.envelopes} envelopes, ${s.bytes} bytes`,
    `  per phase (envelopes / bytes): ` +
      Object.entries(s.phaseEnvelopes)
        .map(([p, n]) => `${p} ${n} / ${s.phaseBytes[p] ?? 0}`)
        .join(', '),
    `  distributed outcome equals the centralised one: ${s.matchesCentralised ? 'yes' : 'NO'}`,
    '',
  );
  process.stdout.write(lines.join('\n'));
}

function micro(v: string | null | undefined): string {
  if (v === null || v === undefined) return '–';
  const n = BigInt(v);
  const sign = n < 0n ? '-' : '';
  const a = n < 0n ? -n : n;
  return `${sign}${a / 1_000_000n}.${String(a % 1_000_000n).padStart(6, '0')}`;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
