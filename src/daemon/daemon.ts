/**
 * The provider daemon (#6): a ProviderCore on the ZeroMQ mesh, driven by a round clock instead
 * of a client's `close`, taking users' signed bids on its client socket, writing every bid and
 * every finished round to its ledger before announcing a result, and serving its status over
 * HTTP. Round r closes at its bid deadline by this provider's clock; the START phase absorbs
 * the skew between providers, and frames of a round not closed here yet are kept (the core
 * holds them; the daemon opens the next rounds ahead so that it recognises them).
 *
 * Client requests (JSON over the CURVE request/reply socket, see transport/rpc.ts):
 *   { type: "bid", round, bid: { id, bid, demand }, signature }  → { ok, accepted, deadline }
 *   { type: "result", round, waitMs }                           → { ok, ready, result? }
 *   { type: "status" }                                          → { ok, ...status }
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { toHex } from '../core/bytes.js';
import { AuctioneerError, InvalidInputError } from '../core/errors.js';
import { toBoundedInteger } from '../core/units.js';
import { encodeDoubleBid } from '../mechanisms/double/codec.js';
import { parseUserBid } from '../mechanisms/double/star.js';
import type { ProviderAsk } from '../mechanisms/double/types.js';
import type { Cluster } from '../node/cluster.js';
import type { ProviderKeys } from '../node/keys.js';
import { BidRefusedError, ProviderCore } from '../node/provider-core.js';
import { signResult, type SignedResultJson } from '../node/signed-result.js';
import { clusterParamsHash, sessionId } from '../protocol/session.js';
import { RpcServer } from '../transport/rpc.js';
import { ZmqTransport } from '../transport/zmq.js';
import { Ledger } from './ledger.js';
import {
  MAX_ROUNDS_AHEAD,
  openRound,
  roundDeadline,
  roundOpensAt,
  scheduleJson,
  type RoundSchedule,
} from './schedule.js';
import {
  checkSignedBid,
  daemonCluster,
  encodeSignedBid,
  screenSignedBids,
  userKey,
  SIGNATURE_BYTES,
} from './signed-bid.js';
import { DaemonMetrics, startStatusServer, type StatusServer } from './status.js';

/** Longest a client may wait for a result in one request. */
export const MAX_RESULT_WAIT_MS = 120_000;

/** Largest client request accepted, in bytes. */
export const MAX_REQUEST_BYTES = 16 * 1024;

/** Finished rounds whose signed results stay in memory (older ones are read from the ledger). */
export const RECENT_RESULTS = 64;

/** How long stop() lets running rounds finish before ending them with ⊥. */
export const STOP_GRACE_MS = 10_000;

const RoundField = z.union([z.string(), z.number()]);
const Request = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bid'), round: RoundField, bid: z.unknown(), signature: z.string() }),
  z.object({
    type: z.literal('result'),
    round: RoundField,
    waitMs: z.number().int().min(0).max(MAX_RESULT_WAIT_MS).default(0),
  }),
  z.object({ type: z.literal('status') }),
]);

/** What a provider daemon runs with. */
export interface ProviderDaemonOptions {
  /** The cluster as its file describes it; the daemon adds signed user bids. */
  readonly cluster: Cluster;
  readonly self: number;
  readonly keys: ProviderKeys;
  /** This provider's own ask and capacity. */
  readonly report: ProviderAsk;
  readonly schedule: RoundSchedule;
  readonly ledgerPath: string;
  /** Where the status endpoint listens (port 0: any free port); null for none. */
  readonly status: { readonly host: string; readonly port: number } | null;
  readonly log: Logger;
  /** This provider's clock in ms since the Unix epoch. @default Date.now */
  readonly now?: () => number;
  /** @default STOP_GRACE_MS */
  readonly stopGraceMs?: number;
}

/** A running provider daemon. */
export class ProviderDaemon {
  private readonly metrics = new DaemonMetrics();
  private readonly running = new Map<bigint, { since: number; done: Promise<void> }>();
  private readonly announced = new Map<bigint, SignedResultJson>();
  private readonly waiters = new Map<bigint, Set<() => void>>();
  private readonly now: () => number;
  private nextClose: bigint;
  private timer: NodeJS.Timeout | undefined;
  private rpc: RpcServer | undefined;
  private statusServer: StatusServer | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly opts: ProviderDaemonOptions,
    /** The cluster with signed user bids (daemonCluster). */
    private readonly cluster: Cluster,
    private readonly ledger: Ledger,
    private readonly transport: ZmqTransport,
    private readonly core: ProviderCore,
    /** The first round this process takes part in. */
    private readonly firstRound: bigint,
  ) {
    this.now = opts.now ?? Date.now;
    this.nextClose = firstRound;
  }

  /**
   * Opens the ledger, binds the mesh, the client socket and the status endpoint, and starts the
   * round clock. A round the ledger already holds is never run again: the daemon takes part
   * from the open round on (or the round after the last recorded one, if that is later).
   */
  static async start(opts: ProviderDaemonOptions): Promise<ProviderDaemon> {
    const cluster = daemonCluster(opts.cluster);
    const me = cluster.file.providers[opts.self]!;
    const now = opts.now ?? Date.now;
    const ledger = Ledger.open(
      opts.ledgerPath,
      {
        clusterId: cluster.file.clusterId,
        providerId: me.id,
        providerIndex: opts.self,
        paramsHash: toHex(clusterParamsHash(cluster.params)),
        clusterJson: JSON.stringify(cluster.file),
      },
      opts.log.child({ component: 'ledger' }),
    );

    let transport: ZmqTransport | undefined;
    let daemon: ProviderDaemon | undefined;
    try {
      const last = ledger.lastRound();
      const open = openRound(opts.schedule, now());
      const first = last !== null && open <= last ? last + 1n : open;
      transport = await ZmqTransport.create({
        self: opts.self,
        peers: cluster.file.providers.map((p) => ({
          address: p.peerAddress,
          curvePublicKey: p.curveKey,
        })),
        curvePublicKey: opts.keys.curve.publicKey,
        curveSecretKey: opts.keys.curve.secretKey,
        log: opts.log.child({ component: 'mesh' }),
      });
      const ownBid = encodeDoubleBid(opts.report);
      const core = new ProviderCore({
        params: cluster.params,
        self: opts.self,
        identity: opts.keys.signing,
        transport,
        mechanism: cluster.mechanism,
        ownBid: () => ownBid,
        phaseTimeoutMs: cluster.file.timing.phaseTimeoutMs,
        startTimeoutMs: cluster.file.timing.startTimeoutMs,
        screenBids: screenSignedBids(
          cluster.file.clusterId,
          new Set(cluster.file.providers.map((p) => p.id)),
        ),
        log: opts.log.child({ component: 'round' }),
      });
      daemon = new ProviderDaemon(opts, cluster, ledger, transport, core, first);
      daemon.recover();

      daemon.rpc = await RpcServer.bind({
        address: me.clientAddress,
        curvePublicKey: opts.keys.curve.publicKey,
        curveSecretKey: opts.keys.curve.secretKey,
        maxRequestBytes: MAX_REQUEST_BYTES,
        handler: (req) => daemon!.handle(req),
        log: opts.log.child({ component: 'rpc' }),
      });
      if (opts.status) {
        const d = daemon;
        d.statusServer = await startStatusServer({
          ...opts.status,
          status: () => d.status(),
          metrics: () => d.metricsText(),
          log: opts.log.child({ component: 'status' }),
        });
      }
    } catch (err) {
      await daemon?.rpc?.close();
      await transport?.close();
      ledger.close();
      throw err;
    }

    daemon.scheduleNext();
    opts.log.info(
      {
        index: opts.self,
        firstRound: String(daemon.firstRound),
        deadline: new Date(roundDeadline(opts.schedule, daemon.firstRound)).toISOString(),
        status: daemon.statusUrl,
        ledger: opts.ledgerPath,
      },
      'provider daemon ready',
    );
    return daemon;
  }

  /** The status endpoint's base URL, or null when there is none. */
  get statusUrl(): string | null {
    return this.statusServer?.url ?? null;
  }

  /**
   * Stops taking bids and closing rounds, lets running rounds finish (up to stopGraceMs, then
   * ends them with ⊥, which is recorded), and closes every socket and the ledger.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.timer);
      const grace = this.opts.stopGraceMs ?? STOP_GRACE_MS;
      const runs = () => Promise.allSettled([...this.running.values()].map((r) => r.done));
      await Promise.race([runs(), sleep(grace)]);

      this.core.shutdown();
      await runs();
      await this.rpc?.close();
      await this.statusServer?.close();
      await this.transport.close();
      this.ledger.close();
    })();
    return this.stopping;
  }

  /** Answers one client request; never throws. */
  async handle(raw: unknown): Promise<unknown> {
    try {
      return await this.dispatch(raw);
    } catch (err) {
      return errorReply(err);
    }
  }

  /** What the status endpoint and the `status` request report. */
  status(): Record<string, unknown> {
    const s = this.opts.schedule;
    const now = this.now();
    const open = this.acceptingRound(now);
    const me = this.cluster.file.providers[this.opts.self]!;
    return {
      provider: me.id,
      index: this.opts.self,
      clusterId: this.cluster.file.clusterId,
      now: new Date(now).toISOString(),
      schedule: scheduleJson(s),
      openRound: {
        round: String(open),
        phase: 'bidding',
        deadline: new Date(roundDeadline(s, open)).toISOString(),
        bids: this.core.bidCount(open),
      },
      running: [...this.running].map(([round, r]) => ({
        round: String(round),
        phase: 'protocol',
        since: new Date(r.since).toISOString(),
      })),
      firstRound: String(this.firstRound),
      lastRound: nullableString(this.ledger.lastRound()),
      bids: {
        received: this.metrics.bidsReceived,
        accepted: this.metrics.bidsAccepted,
        refused: Object.fromEntries(this.metrics.bidsRefused),
      },
      rounds: Object.fromEntries(this.metrics.rounds),
      lastOutcomes: this.ledger.recentRounds(10).map((r) => ({
        round: String(r.round),
        status: r.status,
        ...(r.outcomeHash && { outcomeHash: r.outcomeHash }),
        ...(r.status !== 'outcome' && { reason: r.message }),
      })),
    };
  }

  /** The Prometheus text of the daemon's counters. */
  metricsText(): string {
    const open = this.acceptingRound(this.now());
    return this.metrics.render({
      openRound: open,
      lastRound: this.ledger.lastRound(),
      running: this.running.size,
      bidsOpen: this.core.bidCount(open),
    });
  }

  // --- rounds ------------------------------------------------------------------------------

  /** Marks rounds this provider stopped during, opens the next rounds, reloads their bids. */
  private recover(): void {
    const now = this.now();
    for (const round of this.ledger.unfinishedRounds(this.firstRound)) {
      const sid = sessionId(this.cluster.params, round);
      this.ledger.recordInterrupted(round, sid, now, 'this provider stopped during the round');
      this.opts.log.warn({ round: String(round) }, 'round interrupted by a stop; no result');
    }

    for (const round of [this.firstRound, this.firstRound + 1n]) {
      this.core.prepare(round);
      for (const b of this.ledger.acceptedBids(round)) {
        try {
          this.core.submitBid(round, b.bidder, b.signed);
        } catch (err) {
          this.opts.log.warn({ err, round: String(round) }, 'could not reload a recorded bid');
        }
      }
    }
  }

  private scheduleNext(): void {
    if (this.stopping) return;
    const wait = roundDeadline(this.opts.schedule, this.nextClose) - this.now();
    this.timer = setTimeout(() => this.onDeadline(), Math.max(0, wait));
  }

  private onDeadline(): void {
    const s = this.opts.schedule;
    const round = this.nextClose;
    const late = this.now() - roundDeadline(s, round);
    if (late < 0) return this.scheduleNext();

    // Deadlines missed by more than a period (a suspended machine): skip to the open round.
    if (late > s.periodMs) {
      const open = openRound(s, this.now());
      this.opts.log.warn(
        { from: String(round), to: String(open), lateMs: late },
        'missed round deadlines; skipping to the open round',
      );
      for (const r of this.ledger.unfinishedRounds(open)) {
        const sid = sessionId(this.cluster.params, r);
        this.ledger.recordInterrupted(r, sid, this.now(), `skipped: ${late} ms late`);
      }
      for (let r = round; r < open; r++) this.core.forget(r);
      this.nextClose = open;
      this.core.prepare(open);
      this.core.prepare(open + 1n);
      return this.scheduleNext();
    }

    this.nextClose = round + 1n;
    this.core.prepare(round + 2n);
    this.scheduleNext();
    this.runRound(round);
  }

  /** Runs a round, records it, then announces its signed result. */
  private runRound(round: bigint): void {
    const since = this.now();
    const cpu0 = process.cpuUsage();
    const log = this.opts.log.child({ round: String(round) });
    const done = (async () => {
      const result = await this.core.close(round);
      const cpu = process.cpuUsage(cpu0);
      const signed = signResult(
        this.cluster.params,
        this.opts.self,
        this.opts.keys.signing,
        result,
        (cpu.user + cpu.system) / 1000,
      );

      // The ledger first: a result nobody can find in the ledger is never announced.
      try {
        this.ledger.recordRound(result, signed, this.now());
      } catch (err) {
        log.error({ err }, 'could not record the round; its result is not announced');
        return;
      }
      this.announce(round, signed);
      this.core.forget(round);
      this.metrics.finished(signed.status, (this.now() - since) / 1000);
      if (result.ok) {
        const bids = result.agreedBids.length;
        log.info({ outcomeHash: signed.outcomeHash, bids }, `round ${round}: outcome`);
      } else {
        const a = signed.abort!;
        log.warn({ code: a.code, blamed: a.blamedIds }, `round ${round}: ⊥ ${a.message}`);
      }
    })();
    const entry = { since, done: done.finally(() => this.running.delete(round)) };
    this.running.set(round, entry);
    entry.done.catch((err: unknown) => log.error({ err }, 'round failed'));
  }

  private announce(round: bigint, signed: SignedResultJson): void {
    this.announced.set(round, signed);
    for (const r of [...this.announced.keys()]) {
      if (this.announced.size <= RECENT_RESULTS) break;
      this.announced.delete(r);
    }
    this.wake(round);
  }

  private wake(round: bigint): void {
    for (const w of this.waiters.get(round) ?? []) w();
    this.waiters.delete(round);
  }

  // --- client requests ---------------------------------------------------------------------

  private async dispatch(raw: unknown): Promise<unknown> {
    const parsed = Request.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.map(String).join('.') || 'request';
      throw new InvalidInputError(field, undefined, issue.message);
    }
    const req = parsed.data;

    switch (req.type) {
      case 'bid':
        return this.takeBid(req.round, req.bid, req.signature);
      case 'result':
        return this.result(parseRound(req.round), req.waitMs);
      case 'status':
        return { ok: true, ...this.status() };
    }
  }

  private async takeBid(roundField: unknown, rawBid: unknown, signatureText: string) {
    this.metrics.bidsReceived++;
    try {
      // A well-formed bid by a user id, signed by that user for this round of this cluster.
      const round = parseRound(roundField);
      const bid = parseUserBid(rawBid, 'bid');
      if (!userKey(bid.id)) {
        const expected = 'a user id: the signingKey keygen printed (43 base64url characters)';
        throw new InvalidInputError('bid.id', bid.id, expected);
      }
      const signed = encodeSignedBid(encodeDoubleBid(bid), parseSignature(signatureText));
      const clusterId = this.cluster.file.clusterId;
      if (checkSignedBid(clusterId, round, bid.id, signed) !== null) {
        throw new BidRefusedError(
          'BAD_SIGNATURE',
          `the signature does not verify: it must sign this bid for round ${round} of cluster ` +
            `${clusterId} with the key ${bid.id}`,
        );
      }

      // Before the round's deadline by this provider's clock, and not too far ahead.
      if (this.stopping) throw new BidRefusedError('STOPPING', 'this provider is stopping');
      const now = this.now();
      this.checkTakesBids(round, now);
      try {
        this.core.submitBid(round, bid.id, signed);
      } catch (err) {
        if (err instanceof BidRefusedError) {
          const reason = `${err.code}: ${err.message}`;
          const row = {
            round,
            bidder: bid.id,
            signed,
            receivedAt: now,
            status: 'refused',
          } as const;
          await this.ledger.recordBid({ ...row, reason });
        }
        throw err;
      }
      await this.ledger.recordBid({
        round,
        bidder: bid.id,
        signed,
        receivedAt: now,
        status: 'accepted',
      });

      this.metrics.bidsAccepted++;
      const deadline = new Date(roundDeadline(this.opts.schedule, round)).toISOString();
      return { ok: true, accepted: true, round: String(round), deadline };
    } catch (err) {
      this.metrics.refused(err instanceof AuctioneerError ? err.code : 'INTERNAL');
      throw err;
    }
  }

  private checkTakesBids(round: bigint, now: number): void {
    const s = this.opts.schedule;
    const open = this.acceptingRound(now);
    const iso = (t: number) => new Date(t).toISOString();
    const deadline = roundDeadline(s, round);
    if (round < this.firstRound || now >= deadline) {
      const when =
        now >= deadline
          ? `its bids were due at ${iso(deadline)}, ${now - deadline} ms ago by this ` +
            "provider's clock"
          : 'this provider already ran it';
      throw new BidRefusedError(
        'ROUND_CLOSED',
        `round ${round} is closed for bids: ${when}; the open round is ${open}, due at ` +
          iso(roundDeadline(s, open)),
      );
    }
    if (round > open + MAX_ROUNDS_AHEAD) {
      throw new BidRefusedError(
        'ROUND_NOT_OPEN',
        `round ${round} does not take bids yet (it opens at ${iso(roundOpensAt(s, round))}); ` +
          `the open round is ${open}`,
      );
    }
  }

  /** The round bids go to now: the open round by the clock, never one this process skipped. */
  private acceptingRound(now: number): bigint {
    const open = openRound(this.opts.schedule, now);
    return open < this.firstRound ? this.firstRound : open;
  }

  private async result(round: bigint, waitMs: number): Promise<unknown> {
    const have = this.announced.get(round);
    if (have) return { ok: true, ready: true, result: have };
    const recorded = this.ledger.roundSummary(round);
    if (recorded?.signed) return { ok: true, ready: true, result: recorded.signed };

    // No result here, and none will come: the round is over or this provider was not running.
    const me = this.cluster.file.providers[this.opts.self]!.id;
    if (recorded)
      return noResult(`provider ${me} has no result for round ${round}: ${recorded.message}`);
    const over = round < this.nextClose && !this.running.has(round);
    if (round < this.firstRound || over) {
      return noResult(`provider ${me} did not take part in round ${round} (it was not running)`);
    }
    if (waitMs === 0) return { ok: true, ready: false };

    await new Promise<void>((resolve) => {
      const set = this.waiters.get(round) ?? new Set();
      this.waiters.set(round, set);
      const wake = (): void => {
        clearTimeout(timer);
        set.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, waitMs);
      set.add(wake);
    });
    return this.result(round, 0);
  }
}

function parseRound(v: unknown): bigint {
  return toBoundedInteger('round', v, 1n, (1n << 63n) - 1n);
}

function parseSignature(text: string): Uint8Array {
  const bytes = /^[A-Za-z0-9_-]{86}$/.test(text) ? Buffer.from(text, 'base64url') : null;
  if (!bytes || bytes.length !== SIGNATURE_BYTES) {
    throw new InvalidInputError('signature', text, 'an Ed25519 signature in base64url (86 chars)');
  }
  return new Uint8Array(bytes);
}

function noResult(message: string): unknown {
  return { ok: false, error: { code: 'NO_RESULT', message } };
}

function errorReply(err: unknown): unknown {
  if (err instanceof AuctioneerError) {
    return {
      ok: false,
      error: {
        code: err.code,
        message: err.message,
        ...(err instanceof InvalidInputError && { field: err.field }),
      },
    };
  }
  return { ok: false, error: { code: 'INTERNAL', message: String(err) } };
}

function nullableString(v: bigint | null): string | null {
  return v === null ? null : String(v);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}
