/**
 * Fixtures for the daemon tests: a work directory with provider keys, a cluster file on free
 * loopback ports, one provider config per provider, and users with keys and bids from the
 * paper's workload; plus waiting on the round clock.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCluster, type Cluster } from '../../src/node/cluster.js';
import { writeNewKeys } from '../../src/node/keys.js';
import { freePorts } from '../../src/node/ports.js';
import { generateSigningIdentity, type SigningIdentity } from '../../src/protocol/identity.js';
import { paperDoubleWorkload } from '../../src/scenarios/paper.js';
import { userIdOf } from '../../src/daemon/signed-bid.js';
import type { RoundSchedule } from '../../src/daemon/schedule.js';

/** A user of the fixture: its key, id and bid. */
export interface TestUser {
  readonly identity: SigningIdentity;
  readonly id: string;
  readonly price: bigint;
  readonly demand: bigint;
}

/** Everything written for a daemon cluster. */
export interface DaemonFixture {
  readonly dir: string;
  readonly clusterFile: string;
  readonly cluster: Cluster;
  /** Provider config files, by provider index. */
  readonly configs: string[];
  readonly ledgers: string[];
  readonly statusPorts: number[];
  readonly users: TestUser[];
  readonly schedule: RoundSchedule;
}

/** Options of writeDaemonFixture. */
export interface FixtureOptions {
  readonly m: number;
  readonly k: number;
  readonly users: number;
  readonly periodMs: number;
  /** Round 1 opens this long from now (rounded up to a whole second). */
  readonly startInMs: number;
  readonly phaseTimeoutMs: number;
  readonly startTimeoutMs: number;
}

/** Writes keys, a cluster file and provider configs into a fresh temporary directory. */
export async function writeDaemonFixture(o: FixtureOptions): Promise<DaemonFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'auctioneer-daemon-'));
  const scenario = paperDoubleWorkload({ users: o.users, providers: o.m, seed: 'daemon' });
  const ports = await freePorts(3 * o.m);

  const providers = scenario.providers.map((_, i) => {
    const pub = writeNewKeys(join(dir, `keys-${i}`));
    return {
      id: `gw-${String.fromCharCode(97 + i)}`,
      peerAddress: `tcp://127.0.0.1:${ports[3 * i]}`,
      clientAddress: `tcp://127.0.0.1:${ports[3 * i + 1]}`,
      signingKey: pub.signingKey,
      curveKey: pub.curveKey,
    };
  });
  const clusterFile = join(dir, 'cluster.json');
  const file = {
    clusterId: 'daemon-test',
    k: o.k,
    auction: { kind: 'double', rule: 'safe' },
    timing: { phaseTimeoutMs: o.phaseTimeoutMs, startTimeoutMs: o.startTimeoutMs },
    providers,
  };
  writeFileSync(clusterFile, JSON.stringify(file, null, 2) + '\n');

  // One config per provider; the round clock starts on a whole second a little ahead.
  const epochMs = Math.ceil((Date.now() + o.startInMs) / 1000) * 1000;
  const configs: string[] = [];
  const ledgers: string[] = [];
  scenario.providers.forEach((p, i) => {
    const config = join(dir, `provider-${i}.json`);
    ledgers.push(join(dir, `ledger-${i}.sqlite`));
    writeFileSync(
      config,
      JSON.stringify({
        cluster: 'cluster.json',
        id: providers[i]!.id,
        keys: `keys-${i}`,
        report: { ask: String(p.ask), capacity: String(p.capacity) },
        rounds: { periodMs: o.periodMs, epoch: epochMs },
        ledger: `ledger-${i}.sqlite`,
        status: `127.0.0.1:${ports[3 * i + 2]}`,
        log: { level: 'debug', file: `provider-${i}.log` },
      }),
    );
    configs.push(config);
  });

  const users = scenario.users.map((u) => {
    const identity = generateSigningIdentity();
    return { identity, id: userIdOf(identity), price: u.bid, demand: u.demand };
  });
  return {
    dir,
    clusterFile,
    cluster: loadCluster(clusterFile),
    configs,
    ledgers,
    statusPorts: scenario.providers.map((_, i) => ports[3 * i + 2]!),
    users,
    schedule: { epochMs, periodMs: o.periodMs, bidDeadlineMs: o.periodMs },
  };
}

/** Resolves at wall-clock time `t` (ms since the Unix epoch). */
export function until(t: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
}
