/**
 * The provider config file of `auctioneer provider --config FILE`: which cluster (inline, or a
 * path to the shared cluster file), which provider of it this is, its key directory, its own
 * report, the round clock, the ledger and the status address. Validated by a schema; a wrong
 * file fails at start with the field and the reason. Relative paths are read from the config
 * file's directory.
 *
 * @example
 *   {
 *     "cluster": "cluster.json",
 *     "id": "gw-a",
 *     "keys": "keys-gw-a",
 *     "report": { "ask": "400000", "capacity": "2000" },
 *     "rounds": { "periodMs": 10000, "bidDeadlineMs": 8000, "epoch": "2025-01-01T00:00:00Z" },
 *     "ledger": "gw-a.ledger.sqlite",
 *     "status": "127.0.0.1:9470"
 *   }
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { AuctioneerError, ConfigError } from '../core/errors.js';
import { parseProviderAsk } from '../mechanisms/double/star.js';
import type { ProviderAsk } from '../mechanisms/double/types.js';
import { ClusterFileSchema, parseCluster, providerIndex, type Cluster } from '../node/cluster.js';
import { loadKeys, type ProviderKeys } from '../node/keys.js';
import { formatPublicKey } from '../protocol/identity.js';
import type { RoundSchedule } from './schedule.js';

/** Where the status endpoint listens unless the config says otherwise: loopback only. */
export const DEFAULT_STATUS_ADDRESS = '127.0.0.1:9470';

/** Log levels a config may choose. */
export const CONFIG_LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug', 'trace'] as const;

const AMOUNT = 'expected an integer ≥ 0 (a number or a string of digits)';
const Amount = z.union(
  [z.string().regex(/^[0-9]{1,19}$/, AMOUNT), z.number().int(AMOUNT).min(0, AMOUNT)],
  { error: AMOUNT },
);
const EPOCH = 'expected an ISO 8601 time (2025-01-01T00:00:00Z) or ms since the Unix epoch';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

/** The schema of a provider config file. */
export const ProviderConfigSchema = z.strictObject({
  /** The cluster: a path to the shared cluster file, or the same object inline. */
  cluster: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  /** This provider's id in the cluster. */
  id: z.string().min(1),
  /** This provider's key directory (from `auctioneer keygen`). */
  keys: z.string().min(1),
  /** This provider's own report in the double auction: micro-units per unit, and units. */
  report: z.strictObject({ ask: Amount, capacity: Amount }),
  /** k; when the cluster also gives it, both must be equal. */
  k: z.number().int().min(0).optional(),
  /** The auction kind and parameters; when the cluster also gives them, both must be equal. */
  auction: z.unknown().optional(),
  /** The round clock; every provider of the cluster must use the same. */
  rounds: z.strictObject({
    /** Time between the openings of two rounds. */
    periodMs: z.number().int().min(200).max(86_400_000),
    /** Time from a round's opening to its bid deadline. @default periodMs */
    bidDeadlineMs: z.number().int().min(100).max(86_400_000).optional(),
    /** When round 1 opens: an ISO 8601 time or ms since the Unix epoch. @default 0 */
    epoch: z
      .union(
        [z.iso.datetime({ offset: true, error: EPOCH }), z.number().int(EPOCH).min(0, EPOCH)],
        {
          error: EPOCH,
        },
      )
      .default(0),
  }),
  /** The SQLite ledger file (created when absent). */
  ledger: z.string().min(1),
  /** host:port of the status HTTP endpoint. @default DEFAULT_STATUS_ADDRESS */
  status: z
    .string()
    .regex(HOST_PORT, 'host:port, e.g. 127.0.0.1:9470')
    .default(DEFAULT_STATUS_ADDRESS),
  log: z
    .strictObject({
      level: z.enum(CONFIG_LOG_LEVELS).default('info'),
      /** A file to write the log to instead of stderr. */
      file: z.string().min(1).optional(),
    })
    .optional(),
});

/** A provider config as written. */
export type ProviderConfigFile = z.infer<typeof ProviderConfigSchema>;

/** A provider config ready to run: cluster, identity, report, clock, files. */
export interface DaemonConfig {
  /** The config file it came from. */
  readonly source: string;
  /** The cluster as its file describes it (without the daemon's signed bids). */
  readonly cluster: Cluster;
  readonly self: number;
  readonly keys: ProviderKeys;
  readonly report: ProviderAsk;
  readonly schedule: RoundSchedule;
  readonly ledgerPath: string;
  readonly status: { readonly host: string; readonly port: number };
  readonly log: { readonly level: string; readonly file?: string };
}

/** Reads and validates a provider config file. */
export function loadDaemonConfig(path: string): DaemonConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read provider config ${path}: ${(err as Error).message}`);
  }
  return parseDaemonConfig(json, path);
}

/**
 * Validates a parsed provider config; `source` is its file, whose directory relative paths
 * start from. Throws ConfigError naming the file, the field and the reason.
 */
export function parseDaemonConfig(json: unknown, source: string): DaemonConfig {
  const parsed = ProviderConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.') || '(root)';
    throw new ConfigError(`${source}: ${field}: ${issue.message}`);
  }
  const c = parsed.data;
  const base = dirname(resolve(source));
  const fail = (field: string, reason: string): never => {
    throw new ConfigError(`${source}: ${field}: ${reason}`);
  };

  // The cluster, with k and the auction from the config where the cluster leaves them out.
  const cluster = loadClusterPart(c, base, source);
  if (cluster.file.agreement !== 'fast') {
    fail('cluster.agreement', 'the daemon runs the fast agreement only (signed bids, #6)');
  }
  const self = within(source, 'id', () => providerIndex(cluster, c.id));
  const keys = within(source, 'keys', () => loadKeys(resolve(base, c.keys)));
  checkKeysMatch(cluster, self, keys, c.keys, fail);

  // This provider's report, the round clock and where things go.
  const report = within(source, 'report', () =>
    parseProviderAsk({ id: c.id, ask: c.report.ask, capacity: c.report.capacity }, 'report'),
  );
  const periodMs = c.rounds.periodMs;
  const bidDeadlineMs = c.rounds.bidDeadlineMs ?? periodMs;
  if (bidDeadlineMs > periodMs) {
    fail('rounds.bidDeadlineMs', `${bidDeadlineMs} exceeds rounds.periodMs (${periodMs})`);
  }
  const epochMs = typeof c.rounds.epoch === 'number' ? c.rounds.epoch : Date.parse(c.rounds.epoch);
  const [, host, port] = HOST_PORT.exec(c.status)!;
  if (Number(port) > 65535) fail('status', `port ${port} is above 65535`);

  return {
    source,
    cluster,
    self,
    keys,
    report,
    schedule: { epochMs, periodMs, bidDeadlineMs },
    ledgerPath: resolve(base, c.ledger),
    status: { host: host!.replace(/^\[|\]$/g, ''), port: Number(port) },
    log: {
      level: c.log?.level ?? 'info',
      ...(c.log?.file !== undefined && { file: resolve(base, c.log.file) }),
    },
  };
}

function loadClusterPart(c: ProviderConfigFile, base: string, source: string): Cluster {
  let raw: Record<string, unknown>;
  let where: string;
  if (typeof c.cluster === 'string') {
    where = resolve(base, c.cluster);
    try {
      raw = JSON.parse(readFileSync(where, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`${source}: cluster: cannot read ${where}: ${(err as Error).message}`);
    }
  } else {
    raw = c.cluster;
    where = `${source} (cluster)`;
  }

  // k and the auction belong to the cluster; the config may repeat them, never change them.
  const merged: Record<string, unknown> = { ...raw };
  for (const field of ['k', 'auction'] as const) {
    const mine = c[field];
    if (mine === undefined) continue;
    if (raw[field] === undefined) {
      merged[field] = mine;
      continue;
    }
    const schema = ClusterFileSchema.shape[field];
    const a = JSON.stringify(schema.safeParse(mine).data ?? mine);
    const b = JSON.stringify(schema.safeParse(raw[field]).data ?? raw[field]);
    if (a !== b) {
      throw new ConfigError(
        `${source}: ${field}: ${a} differs from ${b} in ${where}; every provider must run ` +
          "the cluster's",
      );
    }
  }
  return parseCluster(merged, where);
}

function checkKeysMatch(
  cluster: Cluster,
  self: number,
  keys: ProviderKeys,
  dir: string,
  fail: (field: string, reason: string) => never,
): void {
  const entry = cluster.file.providers[self]!;
  if (formatPublicKey(keys.signing.publicKey) !== entry.signingKey) {
    fail('keys', `the signing key in ${dir} is not the one the cluster gives for ${entry.id}`);
  }
  if (keys.curve.publicKey !== entry.curveKey) {
    fail('keys', `the CURVE key in ${dir} is not the one the cluster gives for ${entry.id}`);
  }
}

/** Runs `f`, prefixing any of our errors with the config file and the field. */
function within<T>(source: string, field: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (!(err instanceof AuctioneerError)) throw err;
    const named = err.message.startsWith(`${field}.`) || err.message.startsWith(`${field}:`);
    throw new ConfigError(`${source}: ${named ? '' : `${field}: `}${err.message}`);
  }
}
