/**
 * A cluster of provider processes on this machine, on loopback: fresh identities in a work
 * directory, a cluster file, one OS process per provider (`auctioneer provider`), and a client
 * connected to all of them. The demo and the benchmarks run rounds on it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { AuctionClient } from '../client/client.js';
import { AuctioneerError } from '../core/errors.js';
import { parseCluster, type Cluster, type ClusterFile } from './cluster.js';
import { writeNewKeys } from './keys.js';
import { freePorts } from './ports.js';

/** How long provider processes get to start. */
export const START_TIMEOUT_MS = 30_000;

/** One provider to start: its id and the flags that give its own report (ask, capacity). */
export interface LocalProvider {
  readonly id: string;
  /** Extra `auctioneer provider` flags, e.g. ['--ask', '500000', '--capacity', '120']. */
  readonly reportArgs: readonly string[];
}

/** What a local cluster is made of. */
export interface LocalClusterOptions {
  readonly name: string;
  readonly providers: readonly LocalProvider[];
  /** The cluster file without providers (clusterId, k, auction, timing, …). */
  readonly file: Omit<ClusterFile, 'providers'>;
  readonly logLevel: string;
  /** One-way delay added to every envelope between providers. */
  readonly latencyMs?: number;
  readonly log?: Logger;
}

/** A running local cluster; stop() ends every process and removes the work directory. */
export interface LocalCluster {
  readonly dir: string;
  readonly cluster: Cluster;
  readonly client: AuctionClient;
  /** Stops the providers; keeps the work directory when `keep` is true. */
  stop(keep?: boolean): Promise<void>;
}

/** Writes keys and a cluster file, starts one process per provider and waits until all answer. */
export async function startLocalCluster(o: LocalClusterOptions): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), `auctioneer-${o.name}-`));
  const children: ChildProcess[] = [];
  let client: AuctionClient | undefined;
  const stop = async (keep = false): Promise<void> => {
    await client?.close();
    await stopProcesses(children);
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const cluster = await writeCluster(dir, o);
    children.push(...spawnProviders(dir, cluster, o));
    client = await AuctionClient.connect(cluster, o.log);
    await waitReady(client, children);
    return { dir, cluster, client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function writeCluster(dir: string, o: LocalClusterOptions): Promise<Cluster> {
  const m = o.providers.length;
  const ports = await freePorts(2 * m);
  const providers = o.providers.map((p, i) => {
    const pub = writeNewKeys(join(dir, `keys-${i}`));
    return {
      id: p.id,
      peerAddress: `tcp://127.0.0.1:${ports[2 * i]}`,
      clientAddress: `tcp://127.0.0.1:${ports[2 * i + 1]}`,
      signingKey: pub.signingKey,
      curveKey: pub.curveKey,
    };
  });
  const file = { ...o.file, providers };
  const cluster = parseCluster(file, `${o.name} cluster`);
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(file, null, 2) + '\n');
  return cluster;
}

function spawnProviders(dir: string, cluster: Cluster, o: LocalClusterOptions): ChildProcess[] {
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  return o.providers.map((p, i) => {
    const args = [
      main,
      'provider',
      '--cluster',
      join(dir, 'cluster.json'),
      '--keys',
      join(dir, `keys-${i}`),
      '--id',
      cluster.file.providers[i]!.id,
      ...p.reportArgs,
      '--log-level',
      o.logLevel === 'silent' ? 'info' : o.logLevel,
      '--log-file',
      join(dir, `provider-${i}.log`),
      ...(o.latencyMs !== undefined ? ['--latency-ms', String(o.latencyMs)] : []),
      // The child's stdin is a pipe from us: when we die, however we die, it reads EOF and
      // stops, so no provider outlives the demo or bench that started it.
      '--exit-with-parent',
    ];
    return spawn(process.execPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  });
}

async function waitReady(client: AuctionClient, children: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const stderr = children.map(() => '');
  children.forEach((c, i) => c.stderr?.on('data', (d: Buffer) => (stderr[i] += d.toString())));
  for (let i = 0; i < children.length; i++) {
    for (;;) {
      if (children[i]!.exitCode !== null) {
        throw new AuctioneerError(
          'PROVIDER_EXITED',
          `provider ${i} exited at start:\n${stderr[i]}`,
        );
      }
      if ((await client.status(i, 500)) !== null) break;
      if (Date.now() > deadline) {
        throw new AuctioneerError('PROVIDER_START', `provider ${i} did not start in 30 s`);
      }
    }
  }
}

async function stopProcesses(children: ChildProcess[]): Promise<void> {
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
