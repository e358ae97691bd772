/**
 * The client side: submits bids to every provider of a cluster, and collects every provider's
 * signed result of a round, checks each signature and hash, checks that all providers output
 * the same outcome, and recomputes the mechanism locally on the agreed bids to compare.
 */
import type { Logger } from 'pino';
import { equalBytes } from '../core/bytes.js';
import { AuctioneerError, InvalidMessageError, TimeoutError } from '../core/errors.js';
import type { UserBid } from '../mechanisms/double/types.js';
import type { StandardUser } from '../mechanisms/standard/types.js';
import { userBidJson } from '../node/reports.js';
import { Verifier } from '../protocol/identity.js';
import { sessionId } from '../protocol/session.js';
import { RpcClient } from '../transport/rpc.js';
import type { Cluster } from '../node/cluster.js';
import { verifyResult, type SignedResultJson, type VerifiedResult } from '../node/signed-result.js';

/** Default time a client waits for one reply. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** A provider's refusal of a bid, as it explained it. */
export interface BidRefusal {
  readonly provider: number;
  readonly code: string;
  readonly message: string;
  readonly field?: string;
}

/** How one round ended, as seen by the client after checking every provider. */
export interface RoundReport {
  /** One entry per provider: its verified result, or why it could not be used. */
  readonly results: (VerifiedResult | { error: string })[];
  /** 'outcome' when every provider signed the same outcome; otherwise 'abort'. */
  readonly status: 'outcome' | 'abort';
  /** The outcome every provider signed (when status is 'outcome'). */
  readonly outcomeBytes: Uint8Array | null;
  readonly outcomeHash: string | null;
  /**
   * True when recomputing the mechanism on the agreed bids gave the same bytes; false when it
   * did not, or when the recomputation was skipped (collect's `recompute: false`).
   */
  readonly recomputedMatches: boolean;
  /** Human-readable reasons why the round is not an agreed outcome. */
  readonly problems: readonly string[];
}

/** A client of every provider in a cluster. */
export class AuctionClient {
  private constructor(
    private readonly cluster: Cluster,
    private readonly rpcs: RpcClient[],
    private readonly log: Logger | undefined,
  ) {}

  /** Connects to every provider's client socket. */
  static async connect(cluster: Cluster, log?: Logger): Promise<AuctionClient> {
    const rpcs = await Promise.all(
      cluster.file.providers.map((p) =>
        RpcClient.connect({ address: p.clientAddress, serverPublicKey: p.curveKey }),
      ),
    );
    return new AuctionClient(cluster, rpcs, log);
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    await Promise.all(this.rpcs.map((r) => r.close()));
  }

  /** Asks one provider for its status; null when it does not answer in time. */
  async status(provider: number, timeoutMs = 1_000): Promise<unknown> {
    try {
      return await this.rpcs[provider]!.request({ type: 'status' }, { timeoutMs });
    } catch (err) {
      if (err instanceof TimeoutError) return null;
      throw err;
    }
  }

  /** Submits one user's bid to every provider; returns the refusals (empty when all took it). */
  async submitBid(round: bigint, bid: UserBid | StandardUser): Promise<BidRefusal[]> {
    const request = { type: 'bid', round: String(round), bid: userBidJson(bid) };
    const replies = await Promise.all(
      this.rpcs.map((r, i) => this.ask(r, request).then((rep) => ({ i, rep }))),
    );

    const refusals: BidRefusal[] = [];
    for (const { i, rep } of replies) {
      if (isOk(rep)) continue;
      const e = errorOf(rep);
      refusals.push({ provider: i, ...e });
    }
    return refusals;
  }

  /** Submits many bids with bounded concurrency; returns every refusal. */
  async submitBids(
    round: bigint,
    bids: readonly (UserBid | StandardUser)[],
    concurrency = 64,
  ): Promise<BidRefusal[]> {
    const refusals: BidRefusal[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < bids.length) {
        const bid = bids[next++]!;
        refusals.push(...(await this.submitBid(round, bid)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, bids.length) }, worker));
    return refusals;
  }

  /** Tells every provider to close bidding for a round now. */
  async closeRound(round: bigint): Promise<void> {
    const replies = await Promise.all(
      this.rpcs.map((r) => this.ask(r, { type: 'close', round: String(round) })),
    );
    replies.forEach((rep, i) => {
      if (!isOk(rep))
        throw new AuctioneerError('CLOSE_FAILED', `provider ${i}: ${errorOf(rep).message}`);
    });
  }

  /**
   * Waits for every provider's result (up to timeoutMs) and checks them against each other.
   * Unless `recompute` is false, it then recomputes the mechanism on the agreed bids with the
   * agreed seed and requires the same outcome; a caller that checks the outcome itself (a
   * benchmark timing the round without a second, centralised run of an expensive mechanism)
   * may skip that.
   */
  async collect(
    round: bigint,
    timeoutMs: number,
    options: { readonly recompute?: boolean } = {},
  ): Promise<RoundReport> {
    const sid = sessionId(this.cluster.params, round);
    const deadline = Date.now() + timeoutMs;
    const results = await Promise.all(
      this.rpcs.map((r, i) => this.fetchResult(r, i, round, sid, deadline)),
    );
    return this.compare(results, options.recompute ?? true);
  }

  private async fetchResult(
    rpc: RpcClient,
    i: number,
    round: bigint,
    sid: Uint8Array,
    deadline: number,
  ): Promise<VerifiedResult | { error: string }> {
    while (Date.now() < deadline) {
      const waitMs = Math.max(0, Math.min(60_000, deadline - Date.now()));
      let rep: unknown;
      try {
        rep = await rpc.request(
          { type: 'result', round: String(round), waitMs },
          { timeoutMs: waitMs + REQUEST_TIMEOUT_MS },
        );
      } catch (err) {
        return { error: `provider ${i} did not answer: ${(err as Error).message}` };
      }
      if (!isOk(rep)) return { error: `provider ${i}: ${errorOf(rep).message}` };
      const r = rep as { ready: boolean; result?: SignedResultJson };
      if (!r.ready || !r.result) continue;
      try {
        const verifier = new Verifier(this.cluster.params.providers[i]!.signingKey);
        return verifyResult(r.result, i, sid, verifier);
      } catch (err) {
        return { error: (err as Error).message };
      }
    }
    return { error: `provider ${i} gave no result before the deadline` };
  }

  private compare(
    results: (VerifiedResult | { error: string })[],
    recompute: boolean,
  ): RoundReport {
    const problems: string[] = [];
    results.forEach((r) => {
      if ('error' in r) problems.push(r.error);
      else if (r.json.status === 'abort') {
        const a = r.json.abort!;
        problems.push(
          `provider ${r.json.provider} (${r.json.providerId}) output ⊥: ${a.code}: ${a.message}`,
        );
      }
    });

    const good = results.filter((r): r is VerifiedResult => !('error' in r) && !!r.outcomeBytes);
    const first = good[0];
    for (const r of good) {
      if (first && r.json.outcomeHash !== first.json.outcomeHash) {
        problems.push(`provider ${r.json.provider} signed another outcome than provider 0`);
      }
    }
    if (problems.length > 0 || !first) {
      return {
        results,
        status: 'abort',
        outcomeBytes: null,
        outcomeHash: null,
        recomputedMatches: false,
        problems,
      };
    }

    if (!recompute) {
      return {
        results,
        status: 'outcome',
        outcomeBytes: first.outcomeBytes,
        outcomeHash: first.json.outcomeHash,
        recomputedMatches: false,
        problems,
      };
    }

    // Recompute the mechanism on the agreed bids with the agreed seed, as a trusted party would.
    const local = this.cluster.mechanism.run(first.agreedBids, first.seed!);
    const recomputedMatches = equalBytes(local.outcomeBytes, first.outcomeBytes!);
    if (!recomputedMatches) problems.push('the mechanism recomputed locally gives another outcome');
    this.log?.debug({ outcomeHash: first.json.outcomeHash }, 'round verified');
    return {
      results,
      status: recomputedMatches ? 'outcome' : 'abort',
      outcomeBytes: first.outcomeBytes,
      outcomeHash: first.json.outcomeHash,
      recomputedMatches,
      problems,
    };
  }

  private async ask(rpc: RpcClient, request: unknown): Promise<unknown> {
    try {
      return await rpc.request(request, { timeoutMs: REQUEST_TIMEOUT_MS });
    } catch (err) {
      return { ok: false, error: { code: 'UNREACHABLE', message: (err as Error).message } };
    }
  }
}

function isOk(rep: unknown): boolean {
  return typeof rep === 'object' && rep !== null && (rep as { ok?: unknown }).ok === true;
}

function errorOf(rep: unknown): { code: string; message: string; field?: string } {
  const e = (rep as { error?: { code?: unknown; message?: unknown; field?: unknown } })?.error;
  if (!e || typeof e.message !== 'string') {
    throw new InvalidMessageError(`malformed reply: ${JSON.stringify(rep)?.slice(0, 200)}`);
  }
  return {
    code: typeof e.code === 'string' ? e.code : 'UNKNOWN',
    message: e.message,
    ...(typeof e.field === 'string' && { field: e.field }),
  };
}
