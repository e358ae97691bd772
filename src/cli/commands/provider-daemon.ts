/**
 * `auctioneer provider --config FILE`: runs the provider daemon (src/daemon) of a config file
 * until SIGINT or SIGTERM; a second signal exits at once.
 */
import { loadDaemonConfig } from '../../daemon/config.js';
import { ProviderDaemon } from '../../daemon/daemon.js';
import { createLogger } from '../logger.js';

/** Options of the provider command that the daemon uses. */
export interface ProviderDaemonCommandOptions {
  config: string;
  /** Overrides the config's log level. */
  logLevel?: string;
  /** Overrides the config's log file. */
  logFile?: string;
}

/** Starts the daemon of a config file and resolves once it has stopped. */
export async function providerDaemonCommand(o: ProviderDaemonCommandOptions): Promise<void> {
  const config = loadDaemonConfig(o.config);
  const me = config.cluster.file.providers[config.self]!;
  const log = createLogger(o.logLevel ?? config.log.level, o.logFile ?? config.log.file).child({
    provider: me.id,
  });

  const daemon = await ProviderDaemon.start({
    cluster: config.cluster,
    self: config.self,
    keys: config.keys,
    report: config.report,
    schedule: config.schedule,
    ledgerPath: config.ledgerPath,
    status: config.status,
    log,
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping: running rounds may finish first');
      process.once(signal, () => process.exit(130));
      void daemon.stop().finally(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  log.flush();
}
