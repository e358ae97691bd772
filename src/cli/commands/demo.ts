/**
 * `auctioneer demo`: one full distributed round on this machine. It generates an identity per
 * provider, writes a cluster file, starts every provider as its own OS process on loopback,
 * submits every user's bid to every provider, closes bidding, collects the signed results,
 * checks them against each other and against the mechanism run centrally, and prints a summary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuctionClient, type RoundReport } from '../../client/client.js';
import { equalBytes } from '../../core/bytes.js';
import { ConfigError } from '../../core/errors.js';
import { encodeDoubleOutcome } from '../../mechanisms/double/codec.js';
import { runStarPadding } from '../../mechanisms/double/star.js';
import type { WinnerRule } from '../../mechanisms/double/types.js';
import { parseCluster, type Cluster, type ClusterFile } from '../../node/cluster.js';
import { writeNewKeys } from '../../node/keys.js';
import { freePorts } from '../../node/ports.js';
import {
  BUNDLED_MAPS,
  bundledMapPath,
  loadScenario,
  type BundledMap,
  type DoubleScenario,
} from '../../scenarios/index.js';
import { ExitError } from '../errors.js';
import { createLogger } from '../logger.js';

/** Options of the demo, as the CLI parsed them. */
export interface DemoOptions {
  scenario?: string;
  providers?: number;
  users?: number;
  k?: number;
  seed: string;
  rule: WinnerRule;
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
  rule: WinnerRule;
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
  bidsRefused: number;
  winningProviders: number;
  winningUsers: number;
  clearingAsk: string | null;
  clearingBid: string | null;
  surplus: string | null;
  welfare: string | null;
  notes: string[];
  problems: string[];
  workDir?: string;
}

const ROUND = 1n;

/** Runs the demo and returns its exit status. */
export async function demoCommand(o: DemoOptions): Promise<number> {
  const log = createLogger(o.json ? 'warn' : o.logLevel);
  const scenario = chooseScenario(o);
  const m = scenario.providers.length;
  const k = o.k ?? Math.floor((m - 1) / 2);
  const dir = mkdtempSync(join(tmpdir(), 'auctioneer-demo-'));
  const say = (line: string): void => {
    if (!o.json) process.stdout.write(line + '\n');
  };

  const children: ChildProcess[] = [];
  let client: AuctionClient | undefined;
  try {
    say(`scenario ${scenario.name}: ${m} providers, ${scenario.users.length} users, k = ${k}`);
    const cluster = await writeCluster(dir, scenario, k, o);
    children.push(...startProviders(dir, cluster, scenario, o));
    client = await AuctionClient.connect(cluster, log);
    await waitReady(client, m, children);
    say(`started ${m} provider processes on loopback (logs in ${dir})`);

    // Bids from every user to every provider, then close bidding and time the round.
    const t0 = performance.now();
    const refusals = await client.submitBids(ROUND, scenario.users);
    const submitMs = performance.now() - t0;
    for (const r of refusals.slice(0, 5)) log.warn(r, 'bid refused');
    const t1 = performance.now();
    await client.closeRound(ROUND);
    const report = await client.collect(ROUND, o.timeoutMs);
    const roundMs = performance.now() - t1;

    const summary = summarise(scenario, k, o, report, submitMs, roundMs, refusals.length);
    if (o.keep) summary.workDir = dir;
    if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else printSummary(summary);
    return summary.status === 'outcome' && summary.matchesCentralised ? 0 : 1;
  } finally {
    await client?.close();
    await stopProviders(children);
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
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

  const path = (BUNDLED_MAPS as readonly string[]).includes(name)
    ? bundledMapPath(name as BundledMap)
    : name;
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

async function writeCluster(
  dir: string,
  scenario: DoubleScenario,
  k: number,
  o: DemoOptions,
): Promise<Cluster> {
  const m = scenario.providers.length;
  const ports = await freePorts(2 * m);
  const providers = scenario.providers.map((p, i) => {
    const pub = writeNewKeys(join(dir, `keys-${i}`));
    return {
      id: p.id,
      peerAddress: `tcp://127.0.0.1:${ports[2 * i]}`,
      clientAddress: `tcp://127.0.0.1:${ports[2 * i + 1]}`,
      signingKey: pub.signingKey,
      curveKey: pub.curveKey,
    };
  });
  const file: ClusterFile = {
    clusterId: `demo-${scenario.name}-${o.seed}`,
    k,
    agreement: 'fast',
    auction: { kind: 'double', rule: o.rule },
    timing: { phaseTimeoutMs: 15_000, startTimeoutMs: 30_000 },
    providers,
  };
  const cluster = parseCluster(file, 'demo cluster');
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(file, null, 2) + '\n');
  return cluster;
}

function startProviders(
  dir: string,
  cluster: Cluster,
  scenario: DoubleScenario,
  o: DemoOptions,
): ChildProcess[] {
  const main = fileURLToPath(new URL('../main.js', import.meta.url));
  return scenario.providers.map((p, i) => {
    const args = [
      main,
      'provider',
      '--cluster',
      join(dir, 'cluster.json'),
      '--keys',
      join(dir, `keys-${i}`),
      '--id',
      cluster.file.providers[i]!.id,
      '--ask',
      String(p.ask),
      '--capacity',
      String(p.capacity),
      '--log-level',
      o.logLevel === 'silent' ? 'info' : o.logLevel,
      '--log-file',
      join(dir, `provider-${i}.log`),
      ...(o.latencyMs !== undefined ? ['--latency-ms', String(o.latencyMs)] : []),
    ];
    return spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  });
}

async function waitReady(
  client: AuctionClient,
  m: number,
  children: ChildProcess[],
): Promise<void> {
  const deadline = Date.now() + 30_000;
  const stderr = children.map(() => '');
  children.forEach((c, i) => c.stderr?.on('data', (d: Buffer) => (stderr[i] += d.toString())));
  for (let i = 0; i < m; i++) {
    for (;;) {
      if (children[i]!.exitCode !== null) {
        throw new ExitError(1, `provider ${i} exited at start:\n${stderr[i]}`);
      }
      if ((await client.status(i, 500)) !== null) break;
      if (Date.now() > deadline) throw new ExitError(1, `provider ${i} did not start in 30 s`);
    }
  }
}

async function stopProviders(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const kill = setTimeout(() => c.kill('SIGKILL'), 5_000);
          c.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}

function summarise(
  scenario: DoubleScenario,
  k: number,
  o: DemoOptions,
  report: RoundReport,
  submitMs: number,
  roundMs: number,
  bidsRefused: number,
): DemoSummary {
  const central = runStarPadding({
    providers: scenario.providers,
    users: scenario.users,
    rule: o.rule,
  });
  const centralBytes = encodeDoubleOutcome(central);
  const matches = report.outcomeBytes !== null && equalBytes(report.outcomeBytes, centralBytes);

  // Per-phase times (slowest provider) and the protocol's envelopes and bytes, all providers.
  const phaseMs: Record<string, number> = {};
  const perProviderCpuMs: number[] = [];
  let envelopes = 0;
  let bytes = 0;
  for (const r of report.results) {
    if ('error' in r) continue;
    perProviderCpuMs.push(r.json.cpuMs ?? 0);
    envelopes += r.json.stats.envelopesSent;
    bytes += r.json.stats.bytesSent;
    for (const [p, ms] of Object.entries(r.json.stats.phaseEndMs)) {
      phaseMs[p] = Math.max(phaseMs[p] ?? 0, ms);
    }
  }

  const ok = report.status === 'outcome';
  return {
    scenario: scenario.name,
    source: scenario.source,
    providers: scenario.providers.length,
    users: scenario.users.length,
    k,
    rule: o.rule,
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
    bidsRefused,
    winningProviders: ok ? central.winningProviders.length : 0,
    winningUsers: ok ? central.winningUsers.length : 0,
    clearingAsk: ok && central.clearingAsk !== null ? String(central.clearingAsk) : null,
    clearingBid: ok && central.clearingBid !== null ? String(central.clearingBid) : null,
    surplus: ok ? String(central.surplus) : null,
    welfare: ok ? String(central.welfare) : null,
    notes: [...scenario.notes],
    problems: [...report.problems],
  };
}

function printSummary(s: DemoSummary): void {
  const lines = [
    '',
    `Round 1 of ${s.scenario} (${s.source})`,
    `  providers ${s.providers}, users ${s.users}, k = ${s.k}, rule ${s.rule}`,
  ];
  for (const n of s.notes) lines.push(`  note: ${n}`);
  if (s.status === 'outcome') {
    lines.push(
      `  outcome agreed by all ${s.providers} providers: ${s.outcomeHash!.slice(0, 16)}…`,
      `  winners: ${s.winningProviders} providers, ${s.winningUsers} of ${s.users} users`,
      `  clearing ask ${micro(s.clearingAsk)} and bid ${micro(s.clearingBid)} per unit`,
      `  auctioneer surplus Φ ${micro(s.surplus)}, welfare ${micro(s.welfare)}`,
    );
  } else {
    lines.push('  outcome: ⊥ (aborted)');
    for (const p of s.problems) lines.push(`    ${p}`);
  }
  lines.push(
    `  time: bids submitted in ${s.submitMs} ms; round ${s.roundMs} ms from close to all results`,
    `  phases (ms since close, slowest provider): ` +
      Object.entries(s.phaseMs)
        .map(([p, ms]) => `${p} ${ms}`)
        .join(', '),
    `  protocol traffic: ${s.envelopes} envelopes, ${s.bytes} bytes`,
    `  distributed outcome equals the centralised one: ${s.matchesCentralised ? 'yes' : 'NO'}`,
    '',
  );
  process.stdout.write(lines.join('\n'));
}

function micro(v: string | null): string {
  if (v === null) return '–';
  const n = BigInt(v);
  const sign = n < 0n ? '-' : '';
  const a = n < 0n ? -n : n;
  return `${sign}${a / 1_000_000n}.${String(a % 1_000_000n).padStart(6, '0')}`;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
