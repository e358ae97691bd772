/** `auctioneer provider`: runs one provider until it is told to stop (SIGINT/SIGTERM). */
import { toBoundedInteger, MAX_PRICE, MAX_QUANTITY } from '../../core/units.js';
import { loadCluster, providerIndex } from '../../node/cluster.js';
import { loadKeys } from '../../node/keys.js';
import { ProviderServer } from '../../node/provider-server.js';
import type { ProviderReport } from '../../node/reports.js';
import { createLogger } from '../logger.js';

/** Options of the provider command. */
export interface ProviderCommandOptions {
  cluster: string;
  keys: string;
  id: string;
  ask?: string;
  capacity: string;
  logLevel: string;
  logFile?: string;
  latencyMs?: string;
  /** Stop when stdin reaches EOF: the parent that spawned us (demo, bench) has gone. */
  exitWithParent?: boolean;
}

/** Starts a provider and resolves when it has stopped. */
export async function providerCommand(o: ProviderCommandOptions): Promise<void> {
  const cluster = loadCluster(o.cluster);
  const self = providerIndex(cluster, o.id);
  const keys = loadKeys(o.keys);
  const report: ProviderReport = {
    ...(o.ask !== undefined && { ask: toBoundedInteger('--ask', o.ask, 0n, MAX_PRICE) }),
    capacity: o.capacity
      .split(',')
      .map((c, i) => toBoundedInteger(`--capacity[${i}]`, c, 0n, MAX_QUANTITY)),
  };
  const latencyMs =
    o.latencyMs === undefined
      ? undefined
      : Number(toBoundedInteger('--latency-ms', o.latencyMs, 0n, 10_000n));
  const log = createLogger(o.logLevel, o.logFile).child({ provider: o.id });

  const server = await ProviderServer.start({
    cluster,
    self,
    keys,
    report,
    log,
    ...(latencyMs !== undefined && { latencyMs }),
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping');
      void server.stop().finally(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (o.exitWithParent) {
      process.stdin.once('close', () => stop('parent gone'));
      process.stdin.resume();
    }
  });
  log.flush();
}
