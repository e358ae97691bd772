/**
 * A provider's ledger: one SQLite file (better-sqlite3) holding every bid it received with the
 * user's signature, and for every round it finished the agreed vector's hash, the coin's inputs
 * (the revealed ρ_j), the outcome or ⊥ with its evidence, the signed result it gave clients,
 * and the round's transcript (every signed envelope it held), from which `auctioneer verify`
 * recomputes the round.
 *
 * Durability: WAL journal with synchronous = FULL, so a committed round survives `kill -9` and
 * a power loss alike; it costs one fsync per commit, paid once per round and once per batch of
 * bids (bids arriving together share one transaction, and each is acknowledged only after its
 * batch commits). A round is written in one transaction before its result is announced, and
 * never rewritten: rows of finished rounds are insert-only (triggers refuse updates/deletes).
 * See docs/decisions.md D14.
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { toHex } from '../core/bytes.js';
import { ConfigError } from '../core/errors.js';
import { abortCodeName } from '../protocol/abort.js';
import { encodeBidVector } from '../protocol/bid-vector.js';
import type { RoundResult } from '../protocol/fast-round.js';
import { phaseName } from '../protocol/phases.js';
import type { SignedResultJson } from '../node/signed-result.js';
import { revealedRhos, slotTranscript } from './transcript.js';

/** Version of the ledger's tables. */
export const LEDGER_SCHEMA_VERSION = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS bids (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  round INTEGER NOT NULL,
  bidder TEXT NOT NULL,
  signed BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'refused')),
  reason TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS bids_by_round ON bids (round, status);
CREATE TABLE IF NOT EXISTS rounds (
  round INTEGER PRIMARY KEY,
  sid BLOB NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('outcome', 'abort', 'interrupted')),
  bids_hash BLOB,
  agreed BLOB,
  seed BLOB,
  outcome BLOB,
  outcome_hash BLOB,
  abort_code TEXT,
  abort_message TEXT,
  blamed TEXT,
  signed_result TEXT,
  finished_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS coin (
  round INTEGER NOT NULL,
  provider INTEGER NOT NULL,
  rho BLOB NOT NULL,
  PRIMARY KEY (round, provider)
) STRICT;
CREATE TABLE IF NOT EXISTS envelopes (
  round INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  phase TEXT NOT NULL,
  sender INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (round, seq)
) STRICT;
CREATE TABLE IF NOT EXISTS evidence (
  round INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (round, seq)
) STRICT;
`;

const FINISHED_TABLES = ['rounds', 'coin', 'envelopes', 'evidence'] as const;

/** Who a ledger belongs to; a ledger refuses to be opened for anybody else. */
export interface LedgerOwner {
  readonly clusterId: string;
  readonly providerId: string;
  readonly providerIndex: number;
  /** Hex of the cluster parameters' hash as the daemon runs them. */
  readonly paramsHash: string;
  /** The cluster file's JSON, so that a verifier needs nothing else. */
  readonly clusterJson: string;
}

/** One bid as received. */
export interface BidRow {
  readonly round: bigint;
  readonly bidder: string;
  /** The signed bid as it goes into a vector. */
  readonly signed: Uint8Array;
  /** ms since the Unix epoch, by this provider's clock. */
  readonly receivedAt: number;
  readonly status: 'accepted' | 'refused';
  /** Why it was refused (a code and a message). */
  readonly reason?: string;
}

/** Everything the ledger holds about one round. */
export interface RoundRecord {
  readonly round: bigint;
  readonly sid: Uint8Array;
  readonly status: 'outcome' | 'abort' | 'interrupted';
  readonly bidsHash: Uint8Array | null;
  readonly agreed: Uint8Array | null;
  readonly seed: Uint8Array | null;
  readonly outcome: Uint8Array | null;
  readonly outcomeHash: Uint8Array | null;
  readonly abortCode: string | null;
  readonly abortMessage: string | null;
  readonly blamed: number[];
  readonly signedResult: SignedResultJson | null;
  readonly finishedAt: number;
  /** ρ_j by provider index. */
  readonly rhos: Map<number, Uint8Array>;
  readonly envelopes: { phase: string; sender: number; bytes: Uint8Array }[];
  readonly evidence: Uint8Array[];
  readonly bids: BidRow[];
}

interface PendingBatch {
  readonly rows: BidRow[];
  readonly done: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

type Row = Record<string, unknown>;

/** A provider's ledger file. */
export class Ledger {
  private batch: PendingBatch | undefined;
  private m: number | undefined;
  private readonly insertBid: Database.Statement;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly log: Logger | undefined,
  ) {
    this.insertBid = db.prepare(
      'INSERT INTO bids (round, bidder, signed, received_at, status, reason) ' +
        'VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  /**
   * Opens (or creates, owner-only) the ledger of a provider. Throws ConfigError when the file
   * belongs to another provider or was written for other cluster parameters.
   */
  static open(path: string, owner: LedgerOwner, log?: Logger): Ledger {
    closeSync(openSync(path, 'a', 0o600));
    const db = new Database(path);
    db.defaultSafeIntegers(true);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    for (const t of FINISHED_TABLES) {
      for (const op of ['UPDATE', 'DELETE']) {
        db.exec(
          `CREATE TRIGGER IF NOT EXISTS ${t}_no_${op.toLowerCase()} BEFORE ${op} ON ${t} ` +
            `BEGIN SELECT RAISE(ABORT, 'finished rounds are never rewritten'); END`,
        );
      }
    }
    const ledger = new Ledger(db, path, log);
    ledger.claim(owner);
    return ledger;
  }

  /** Opens a ledger for reading only (verification). */
  static openReadOnly(path: string): Ledger {
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw new ConfigError(`cannot open ledger ${path}: ${(err as Error).message}`);
    }
    db.defaultSafeIntegers(true);
    return new Ledger(db, path, undefined);
  }

  /** The ledger's meta entries (owner, cluster, schema version). */
  meta(): Record<string, string> {
    const rows = this.db.prepare('SELECT key, value FROM meta').all() as Row[];
    return Object.fromEntries(rows.map((r) => [String(r.key), String(r.value)]));
  }

  /**
   * Records a bid; resolves once it is durable. Bids recorded in the same turn of the event
   * loop share one transaction.
   */
  recordBid(row: BidRow): Promise<void> {
    if (!this.batch) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      this.batch = { rows: [], done, resolve, reject };
      setImmediate(() => this.flushBids());
    }
    this.batch.rows.push(row);
    return this.batch.done;
  }

  /**
   * Records how a round ended at this provider, in one transaction with every bid still
   * waiting to be written: the result, ρ_j, the transcript and the evidence. Throws when the
   * round is already recorded (a finished round is never rewritten).
   */
  recordRound(result: RoundResult, signed: SignedResultJson, finishedAt: number): void {
    const transcript = result.transcript ?? [];
    const rhos = result.ok ? safeRhos(transcript, this.providers()) : null;
    const batch = this.takeBatch();

    const write = this.db.transaction(() => {
      for (const b of batch?.rows ?? []) this.writeBid(b);
      const insert = this.db.prepare(
        'INSERT INTO rounds (round, sid, status, bids_hash, agreed, seed, outcome, ' +
          'outcome_hash, abort_code, abort_message, blamed, signed_result, finished_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      if (result.ok) {
        insert.run(
          result.round,
          result.sid,
          'outcome',
          result.bidsHash,
          encodeBidVector(result.agreedBids),
          result.seed,
          result.outcomeBytes,
          result.outcomeHash,
          null,
          null,
          '[]',
          JSON.stringify(signed),
          BigInt(finishedAt),
        );
      } else {
        insert.run(
          result.round,
          result.sid,
          'abort',
          null,
          null,
          null,
          null,
          null,
          abortCodeName(result.reason.code),
          result.reason.message,
          JSON.stringify(result.reason.blamed),
          JSON.stringify(signed),
          BigInt(finishedAt),
        );
        const ev = this.db.prepare('INSERT INTO evidence (round, seq, bytes) VALUES (?, ?, ?)');
        result.reason.evidence.forEach((e, i) => ev.run(result.round, BigInt(i), e));
      }
      const coin = this.db.prepare('INSERT INTO coin (round, provider, rho) VALUES (?, ?, ?)');
      rhos?.forEach((rho, i) => coin.run(result.round, BigInt(i), rho));
      const env = this.db.prepare(
        'INSERT INTO envelopes (round, seq, phase, sender, bytes) VALUES (?, ?, ?, ?, ?)',
      );
      transcript.forEach((bytes, i) => {
        const phase = bytes.length > 3 ? phaseName(bytes[3]!) : 'UNKNOWN';
        const sender = bytes.length >= 38 ? (bytes[36]! << 8) | bytes[37]! : 0xffff;
        env.run(result.round, BigInt(i), phase, BigInt(sender), bytes);
      });
    });
    settle(batch, () => write());
  }

  /** Records that this provider stopped during a round and has no result for it. */
  recordInterrupted(round: bigint, sid: Uint8Array, finishedAt: number, message: string): void {
    this.db
      .prepare(
        'INSERT INTO rounds (round, sid, status, abort_message, blamed, finished_at) ' +
          "VALUES (?, ?, 'interrupted', ?, '[]', ?)",
      )
      .run(round, sid, message, BigInt(finishedAt));
  }

  /** Number of providers of the ledger's cluster. */
  providers(): number {
    if (this.m === undefined) {
      const cluster = JSON.parse(this.meta().cluster ?? '{}') as { providers?: unknown[] };
      this.m = cluster.providers?.length ?? 0;
    }
    return this.m;
  }

  /** The last round recorded, or null for a new ledger. */
  lastRound(): bigint | null {
    const row = this.db.prepare('SELECT MAX(round) AS r FROM rounds').get() as Row;
    return row.r === null ? null : (row.r as bigint);
  }

  /** Rounds below `before` with bids but no record: this provider stopped during them. */
  unfinishedRounds(before: bigint): bigint[] {
    const rows = this.db
      .prepare(
        'SELECT DISTINCT round FROM bids ' +
          'WHERE round < ? AND round NOT IN (SELECT round FROM rounds) ' +
          'ORDER BY round',
      )
      .all(before) as Row[];
    return rows.map((r) => r.round as bigint);
  }

  /** The bids this provider accepted for a round, in arrival order. */
  acceptedBids(round: bigint): { bidder: string; signed: Uint8Array }[] {
    const rows = this.db
      .prepare(
        "SELECT bidder, signed FROM bids WHERE round = ? AND status = 'accepted' ORDER BY seq",
      )
      .all(round) as Row[];
    return rows.map((r) => ({ bidder: String(r.bidder), signed: bytesOf(r.signed) }));
  }

  /** Everything recorded about a round, or null when it has no record. */
  readRound(round: bigint): RoundRecord | null {
    const r = this.db.prepare('SELECT * FROM rounds WHERE round = ?').get(round) as Row | undefined;
    if (!r) return null;
    const q = (sql: string) => this.db.prepare(sql).all(round) as Row[];
    const coin = q('SELECT provider, rho FROM coin WHERE round = ? ORDER BY provider');
    const envs = q('SELECT phase, sender, bytes FROM envelopes WHERE round = ? ORDER BY seq');
    const ev = q('SELECT bytes FROM evidence WHERE round = ? ORDER BY seq');
    const bids = q(
      'SELECT round, bidder, signed, received_at, status, reason FROM bids WHERE round = ? ' +
        'ORDER BY seq',
    );
    return {
      round,
      sid: bytesOf(r.sid),
      status: String(r.status) as RoundRecord['status'],
      bidsHash: maybeBytes(r.bids_hash),
      agreed: maybeBytes(r.agreed),
      seed: maybeBytes(r.seed),
      outcome: maybeBytes(r.outcome),
      outcomeHash: maybeBytes(r.outcome_hash),
      abortCode: r.abort_code === null ? null : String(r.abort_code),
      abortMessage: r.abort_message === null ? null : String(r.abort_message),
      blamed: JSON.parse(String(r.blamed ?? '[]')) as number[],
      signedResult:
        r.signed_result === null ? null : (JSON.parse(String(r.signed_result)) as SignedResultJson),
      finishedAt: Number(r.finished_at),
      rhos: new Map(coin.map((c) => [Number(c.provider), bytesOf(c.rho)])),
      envelopes: envs.map((e) => ({
        phase: String(e.phase),
        sender: Number(e.sender),
        bytes: bytesOf(e.bytes),
      })),
      evidence: ev.map((e) => bytesOf(e.bytes)),
      bids: bids.map((b) => ({
        round: b.round as bigint,
        bidder: String(b.bidder),
        signed: bytesOf(b.signed),
        receivedAt: Number(b.received_at),
        status: String(b.status) as BidRow['status'],
        ...(b.reason !== null && { reason: String(b.reason) }),
      })),
    };
  }

  /** The signed result a round ended with here, its status, and why when there is none. */
  roundSummary(
    round: bigint,
  ): { status: RoundRecord['status']; signed: SignedResultJson | null; message: string } | null {
    const r = this.db
      .prepare('SELECT status, signed_result, abort_message FROM rounds WHERE round = ?')
      .get(round) as Row | undefined;
    if (!r) return null;
    return {
      status: String(r.status) as RoundRecord['status'],
      signed:
        r.signed_result === null ? null : (JSON.parse(String(r.signed_result)) as SignedResultJson),
      message: r.abort_message === null ? '' : String(r.abort_message),
    };
  }

  /** The last `limit` rounds recorded, newest first: status, H_o or why there is none. */
  recentRounds(limit: number): {
    round: bigint;
    status: RoundRecord['status'];
    outcomeHash: string | null;
    message: string;
  }[] {
    const rows = this.db
      .prepare(
        'SELECT round, status, outcome_hash, abort_code, abort_message FROM rounds ' +
          'ORDER BY round DESC LIMIT ?',
      )
      .all(BigInt(limit)) as Row[];
    return rows.map((r) => ({
      round: r.round as bigint,
      status: String(r.status) as RoundRecord['status'],
      outcomeHash: r.outcome_hash === null ? null : toHex(bytesOf(r.outcome_hash)),
      message: [r.abort_code, r.abort_message].filter((x) => x !== null).join(': '),
    }));
  }

  /** Writes waiting bids and closes the file. */
  close(): void {
    if (!this.db.open) return;
    if (!this.db.readonly) this.flushBids();
    this.db.close();
  }

  private claim(owner: LedgerOwner): void {
    const want: Record<string, string> = {
      schema: LEDGER_SCHEMA_VERSION,
      clusterId: owner.clusterId,
      providerId: owner.providerId,
      providerIndex: String(owner.providerIndex),
      paramsHash: owner.paramsHash,
      cluster: owner.clusterJson,
    };
    const have = this.meta();
    if (Object.keys(have).length === 0) {
      const put = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      this.db.transaction(() => Object.entries(want).forEach(([k, v]) => put.run(k, v)))();
      return;
    }

    for (const key of ['schema', 'clusterId', 'providerId', 'paramsHash'] as const) {
      if (have[key] === want[key]) continue;
      throw new ConfigError(
        `ledger ${this.path} was written with ${key} = ${have[key]}, not ${want[key]} ` +
          '(a ledger belongs to one provider of one cluster configuration; use a new file)',
      );
    }
  }

  private takeBatch(): PendingBatch | undefined {
    const b = this.batch;
    this.batch = undefined;
    return b;
  }

  private flushBids(): void {
    const batch = this.takeBatch();
    if (!batch) return;
    try {
      settle(batch, () => this.db.transaction(() => batch.rows.forEach((b) => this.writeBid(b)))());
    } catch (err) {
      this.log?.error({ err }, 'could not record bids');
    }
  }

  private writeBid(b: BidRow): void {
    this.insertBid.run(
      b.round,
      b.bidder,
      b.signed,
      BigInt(b.receivedAt),
      b.status,
      b.reason ?? null,
    );
  }
}

/** Runs a write and settles the bids that were waiting for it. */
function settle(batch: PendingBatch | undefined, write: () => void): void {
  try {
    write();
  } catch (err) {
    batch?.reject(err as Error);
    throw err;
  }
  batch?.resolve();
}

function safeRhos(transcript: readonly Uint8Array[], m: number): Uint8Array[] | null {
  try {
    return revealedRhos(slotTranscript(transcript, m), m);
  } catch {
    return null;
  }
}

function bytesOf(v: unknown): Uint8Array {
  const b = v as Buffer;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function maybeBytes(v: unknown): Uint8Array | null {
  return v === null || v === undefined ? null : bytesOf(v);
}
