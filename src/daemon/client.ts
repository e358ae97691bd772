/**
 * A user's side of a daemon cluster: asks the providers which round is open, signs a bid for
 * it with the user's key and submits it to every provider. Results are fetched and checked
 * with AuctionClient on daemonCluster(cluster) (client/client.ts).
 */
import { InvalidMessageError, TimeoutError } from '../core/errors.js';
import { encodeDoubleBid } from '../mechanisms/double/codec.js';
import type { UserBid } from '../mechanisms/double/types.js';
import type { Cluster } from '../node/cluster.js';
import type { SigningIdentity } from '../protocol/identity.js';
import { RpcClient } from '../transport/rpc.js';
import { signUserBid, userIdOf } from './signed-bid.js';

/** Default time to wait for one provider's reply. */
export const CLIENT_TIMEOUT_MS = 5_000;

/** One provider's answer to a bid. */
export interface BidAnswer {
  readonly provider: number;
  readonly providerId: string;
  readonly accepted: boolean;
  /** When accepted: the round's bid deadline (ISO 8601). */
  readonly deadline?: string;
  /** When refused or unreachable: the error code and the provider's explanation. */
  readonly code?: string;
  readonly message?: string;
}

/** The request a provider daemon takes for one signed bid. */
export function signedBidRequest(
  identity: SigningIdentity,
  clusterId: string,
  round: bigint,
  price: bigint,
  demand: bigint,
): { type: 'bid'; round: string; bid: Record<string, string>; signature: string } {
  const bid: UserBid = { kind: 'user', id: userIdOf(identity), bid: price, demand };
  const signature = signUserBid(identity, clusterId, round, encodeDoubleBid(bid));
  return {
    type: 'bid',
    round: String(round),
    bid: { id: bid.id, bid: String(price), demand: String(demand) },
    signature: Buffer.from(signature).toString('base64url'),
  };
}

/** Connections to every provider daemon of a cluster. */
export class DaemonClient {
  private constructor(
    private readonly cluster: Cluster,
    private readonly rpcs: RpcClient[],
    private readonly timeoutMs: number,
  ) {}

  /** Connects (in the background) to every provider's client socket. */
  static connect(cluster: Cluster, timeoutMs = CLIENT_TIMEOUT_MS): DaemonClient {
    const rpcs = cluster.file.providers.map((p) =>
      RpcClient.connect({ address: p.clientAddress, serverPublicKey: p.curveKey }),
    );
    return new DaemonClient(cluster, rpcs, timeoutMs);
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    await Promise.all(this.rpcs.map((r) => r.close()));
  }

  /** Every provider's status, or null for a provider that does not answer. */
  async statuses(): Promise<(Record<string, unknown> | null)[]> {
    return Promise.all(
      this.rpcs.map(async (rpc) => {
        const rep = await this.ask(rpc, { type: 'status' });
        return isOk(rep) ? (rep as Record<string, unknown>) : null;
      }),
    );
  }

  /**
   * The open round as the providers report it: the round most of the answering providers
   * name (the later one on a tie, as happens at a deadline). Throws TimeoutError when no
   * provider answers.
   */
  async openRound(): Promise<bigint> {
    const counts = new Map<bigint, number>();
    for (const s of await this.statuses()) {
      const r = (s?.openRound as { round?: unknown } | undefined)?.round;
      if (typeof r === 'string' && /^[0-9]+$/.test(r)) {
        counts.set(BigInt(r), (counts.get(BigInt(r)) ?? 0) + 1);
      }
    }
    if (counts.size === 0) throw new TimeoutError('no provider answered with its open round');
    return [...counts].sort((a, b) => b[1] - a[1] || (b[0] > a[0] ? 1 : -1))[0]![0];
  }

  /** Signs a bid for `round` and submits it to every provider. */
  async submitBid(
    identity: SigningIdentity,
    round: bigint,
    price: bigint,
    demand: bigint,
  ): Promise<BidAnswer[]> {
    const request = signedBidRequest(identity, this.cluster.file.clusterId, round, price, demand);
    return Promise.all(
      this.rpcs.map(async (rpc, i) => {
        const rep = await this.ask(rpc, request);
        const providerId = this.cluster.file.providers[i]!.id;
        if (isOk(rep)) {
          const deadline = (rep as { deadline?: unknown }).deadline;
          return {
            provider: i,
            providerId,
            accepted: true,
            ...(typeof deadline === 'string' && { deadline }),
          };
        }
        return { provider: i, providerId, accepted: false, ...errorOf(rep) };
      }),
    );
  }

  private async ask(rpc: RpcClient, request: unknown): Promise<unknown> {
    try {
      return await rpc.request(request, { timeoutMs: this.timeoutMs });
    } catch (err) {
      return { ok: false, error: { code: 'UNREACHABLE', message: (err as Error).message } };
    }
  }
}

function isOk(rep: unknown): boolean {
  return typeof rep === 'object' && rep !== null && (rep as { ok?: unknown }).ok === true;
}

function errorOf(rep: unknown): { code: string; message: string } {
  const e = (rep as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (!e || typeof e.message !== 'string') {
    throw new InvalidMessageError(`malformed reply: ${JSON.stringify(rep)?.slice(0, 200)}`);
  }
  return { code: typeof e.code === 'string' ? e.code : 'UNKNOWN', message: e.message };
}
