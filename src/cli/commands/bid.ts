/** `auctioneer bid`: signs a user's bid and submits it to every provider of a cluster. */
import { MAX_PRICE, MAX_QUANTITY, toBoundedInteger } from '../../core/units.js';
import { DaemonClient, type BidAnswer } from '../../daemon/client.js';
import { daemonCluster, userIdOf } from '../../daemon/signed-bid.js';
import { loadCluster } from '../../node/cluster.js';
import { loadKeys } from '../../node/keys.js';

/** Options of the bid command. */
export interface BidCommandOptions {
  cluster: string;
  key: string;
  price: string;
  demand: string;
  round?: string;
  json: boolean;
}

/**
 * Submits the bid (to the open round by default, as the providers report it) and prints every
 * provider's answer. Returns 0 when every provider accepted it, 1 otherwise.
 */
export async function bidCommand(o: BidCommandOptions): Promise<number> {
  const cluster = daemonCluster(loadCluster(o.cluster));
  const keys = loadKeys(o.key);
  const price = toBoundedInteger('--price', o.price, 0n, MAX_PRICE);
  const demand = toBoundedInteger('--demand', o.demand, 1n, MAX_QUANTITY);
  const explicit =
    o.round === undefined ? null : toBoundedInteger('--round', o.round, 1n, 2n ** 63n - 1n);

  const client = DaemonClient.connect(cluster);
  try {
    const round = explicit ?? (await client.openRound());
    const answers = await client.submitBid(keys.signing, round, price, demand);
    const id = userIdOf(keys.signing);
    const accepted = answers.filter((a) => a.accepted).length;
    if (o.json) {
      process.stdout.write(JSON.stringify({ user: id, round: String(round), answers }) + '\n');
    } else {
      process.stdout.write(render(id, round, price, demand, answers, accepted));
    }
    return accepted === answers.length ? 0 : 1;
  } finally {
    await client.close();
  }
}

function render(
  id: string,
  round: bigint,
  price: bigint,
  demand: bigint,
  answers: readonly BidAnswer[],
  accepted: number,
): string {
  const width = Math.max(...answers.map((a) => a.providerId.length));
  const lines = [`bid of user ${id} for round ${round}: price ${price}, demand ${demand}`];
  for (const a of answers) {
    const what = a.accepted
      ? `accepted (bids due ${a.deadline ?? '?'})`
      : `refused: ${a.code}: ${a.message}`;
    lines.push(`  ${a.providerId.padEnd(width)}  ${what}`);
  }
  const m = answers.length;
  lines.push(`accepted by ${accepted} of ${m} providers`);
  return lines.join('\n') + '\n';
}
