/**
 * A provider process: the round keeper (ProviderCore) on a ZeroMQ mesh with the other
 * providers, plus a request/reply socket where clients submit bids, close a round (demo and
 * operator use) and fetch the signed result.
 *
 * Client requests are JSON objects, each validated before use:
 *   { type: "bid", round, bid: { id, bid, demand } }   → { ok, accepted } or { ok: false, error }
 *   { type: "close", round }                            → { ok }
 *   { type: "result", round, waitMs }                   → { ok, ready, result? }
 *   { type: "status" }                                  → { ok, provider, rounds }
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { AuctioneerError, InvalidInputError } from '../core/errors.js';
import { toBoundedInteger } from '../core/units.js';
import type { RoundResult } from '../protocol/fast-round.js';
import { RpcServer } from '../transport/rpc.js';
import { ZmqTransport } from '../transport/zmq.js';
import type { Cluster } from './cluster.js';
import type { ProviderKeys } from './keys.js';
import { ProviderCore } from './provider-core.js';
import { ownReportBytes, userBidBytes, type ProviderReport } from './reports.js';
import { signResult, type SignedResultJson } from './signed-result.js';

/** Longest a client may wait for a result in one request. */
export const MAX_RESULT_WAIT_MS = 120_000;

/** Largest client request accepted, in bytes. */
export const MAX_REQUEST_BYTES = 64 * 1024;

const RoundField = z.union([z.string(), z.number()]);
const Request = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('bid'), round: RoundField, bid: z.unknown() }),
  z.strictObject({ type: z.literal('close'), round: RoundField }),
  z.strictObject({
    type: z.literal('result'),
    round: RoundField,
    waitMs: z.number().int().min(0).max(MAX_RESULT_WAIT_MS).default(0),
  }),
  z.strictObject({ type: z.literal('status') }),
]);

/** What a provider process is started with. */
export interface ProviderServerOptions {
  readonly cluster: Cluster;
  readonly self: number;
  readonly keys: ProviderKeys;
  /** This provider's own report: its ask (double auction) and capacities. */
  readonly report: ProviderReport;
  readonly log: Logger;
  /** One-way delay added to every envelope (benchmarks). */
  readonly latencyMs?: number;
}

/** A running provider process. */
export class ProviderServer {
  private readonly cpuAtClose = new Map<bigint, NodeJS.CpuUsage>();
  private readonly signed = new Map<bigint, SignedResultJson>();

  private constructor(
    private readonly opts: ProviderServerOptions,
    private readonly core: ProviderCore,
    private readonly transport: ZmqTransport,
    private rpc: RpcServer | undefined,
  ) {}

  /** Binds the mesh and the client socket and starts serving. */
  static async start(opts: ProviderServerOptions): Promise<ProviderServer> {
    const { cluster, self, keys, log } = opts;
    const me = cluster.file.providers[self]!;
    const ownReport = ownReportBytes(cluster, me.id, opts.report);

    const transport = await ZmqTransport.create({
      self,
      peers: cluster.file.providers.map((p) => ({
        address: p.peerAddress,
        curvePublicKey: p.curveKey,
      })),
      curvePublicKey: keys.curve.publicKey,
      curveSecretKey: keys.curve.secretKey,
      log: log.child({ component: 'mesh' }),
      ...(opts.latencyMs !== undefined && { latencyMs: opts.latencyMs }),
    });
    const core = new ProviderCore({
      params: cluster.params,
      self,
      identity: keys.signing,
      transport,
      mechanism: cluster.mechanism,
      ownBid: () => ownReport,
      groups: cluster.groups,
      phaseTimeoutMs: cluster.file.timing.phaseTimeoutMs,
      startTimeoutMs: cluster.file.timing.startTimeoutMs,
      log: log.child({ component: 'round' }),
    });

    const server = new ProviderServer(opts, core, transport, undefined);
    server.rpc = await RpcServer.bind({
      address: me.clientAddress,
      curvePublicKey: keys.curve.publicKey,
      curveSecretKey: keys.curve.secretKey,
      maxRequestBytes: MAX_REQUEST_BYTES,
      handler: (req) => server.handle(req),
      log: log.child({ component: 'rpc' }),
    });
    log.info(
      { provider: me.id, index: self, peer: me.peerAddress, client: me.clientAddress },
      'provider ready',
    );
    return server;
  }

  /** Ends running rounds with ⊥ and closes every socket. */
  async stop(): Promise<void> {
    this.core.shutdown();
    await this.rpc?.close();
    await this.transport.close();
  }

  /** Answers one client request; never throws. */
  async handle(raw: unknown): Promise<unknown> {
    try {
      return await this.dispatch(raw);
    } catch (err) {
      return errorReply(err);
    }
  }

  private async dispatch(raw: unknown): Promise<unknown> {
    const parsed = Request.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.map(String).join('.') || 'request';
      throw new InvalidInputError(field, undefined, issue.message);
    }
    const req = parsed.data;

    switch (req.type) {
      case 'bid': {
        const round = parseRound(req.round);
        const bid = userBidBytes(this.opts.cluster, req.bid, 'bid');
        this.core.submitBid(round, bid.id, bid.bytes);
        return { ok: true, accepted: true };
      }
      case 'close': {
        const round = parseRound(req.round);
        this.closeRound(round);
        return { ok: true, bids: this.core.bidCount(round) };
      }
      case 'result': {
        const round = parseRound(req.round);
        const result = await this.waitResult(round, req.waitMs);
        return result ? { ok: true, ready: true, result } : { ok: true, ready: false };
      }
      case 'status':
        return {
          ok: true,
          provider: this.opts.self,
          id: this.opts.cluster.file.providers[this.opts.self]!.id,
          transport: this.transport.stats(),
        };
    }
  }

  private closeRound(round: bigint): Promise<RoundResult> {
    if (!this.cpuAtClose.has(round)) this.cpuAtClose.set(round, process.cpuUsage());
    return this.core.close(round);
  }

  private async waitResult(round: bigint, waitMs: number): Promise<SignedResultJson | null> {
    const have = this.signed.get(round);
    if (have) return have;
    if (!this.cpuAtClose.has(round)) {
      if (waitMs === 0) return null;
      await sleep(Math.min(waitMs, 50));
      return this.waitResult(round, Math.max(0, waitMs - 50));
    }

    const result = await Promise.race([this.core.close(round), sleep(waitMs).then(() => null)]);
    if (!result) return null;
    return this.sign(round, result);
  }

  private sign(round: bigint, result: RoundResult): SignedResultJson {
    const have = this.signed.get(round);
    if (have) return have;
    const cpu = process.cpuUsage(this.cpuAtClose.get(round));
    const json = signResult(
      this.opts.cluster.params,
      this.opts.self,
      this.opts.keys.signing,
      result,
      (cpu.user + cpu.system) / 1000,
    );
    this.signed.set(round, json);
    return json;
  }
}

function parseRound(v: string | number): bigint {
  return toBoundedInteger('round', v, 1n, (1n << 63n) - 1n);
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}
