/**
 * `auctioneer result`: fetches a round's signed result from every provider, checks each
 * signature, that all providers signed the same outcome, every user's signature on the agreed
 * bids, and the mechanism recomputed on them.
 */
import { AuctionClient } from '../../client/client.js';
import { toBoundedInteger } from '../../core/units.js';
import { checkSignedBid, daemonCluster } from '../../daemon/signed-bid.js';
import { loadCluster } from '../../node/cluster.js';

/** Options of the result command. */
export interface ResultCommandOptions {
  cluster: string;
  round: string;
  waitMs: number;
  json: boolean;
}

/** Prints every provider's result; returns 0 only when all signed the same, checked outcome. */
export async function resultCommand(o: ResultCommandOptions): Promise<number> {
  const cluster = daemonCluster(loadCluster(o.cluster));
  const round = toBoundedInteger('--round', o.round, 1n, 2n ** 63n - 1n);
  const providers = cluster.file.providers;
  const providerIds = new Set(providers.map((p) => p.id));

  const client = await AuctionClient.connect(cluster);
  const report = await client.collect(round, o.waitMs).finally(() => client.close());

  // Every user's bid in the agreed vector must carry that user's signature for this round.
  const problems = [...report.problems];
  const first = report.results.find((r) => !('error' in r) && r.outcomeBytes);
  const agreed = first && !('error' in first) ? first.agreedBids : [];
  let users = 0;
  for (const b of agreed) {
    if (providerIds.has(b.bidder)) continue;
    users++;
    const reason = checkSignedBid(cluster.file.clusterId, round, b.bidder, b.bytes);
    if (reason !== null) problems.push(`agreed bid of ${b.bidder}: ${reason}`);
  }
  const ok = report.status === 'outcome' && problems.length === 0;

  if (o.json) {
    const results = report.results.map((r) => ('error' in r ? r : r.json));
    const out = {
      round: String(round),
      agreed: ok,
      outcomeHash: report.outcomeHash,
      problems,
      results,
    };
    process.stdout.write(JSON.stringify(out) + '\n');
    return ok ? 0 : 1;
  }

  const width = Math.max(...providers.map((p) => p.id.length));
  const title = `round ${round} of ${cluster.file.clusterId}`;
  const lines = [
    ok
      ? `${title}: outcome agreed by all ${providers.length} providers`
      : `${title}: NO agreed outcome`,
  ];
  report.results.forEach((r, i) => {
    const id = providers[i]!.id.padEnd(width);
    if ('error' in r) lines.push(`  ${id}  no result: ${r.error}`);
    else if (r.json.status === 'outcome') {
      lines.push(`  ${id}  outcome ${r.json.outcomeHash.slice(0, 16)}…  (signature checked)`);
    } else {
      const a = r.json.abort!;
      const blamed = a.blamedIds.length ? `; blames ${a.blamedIds.join(', ')}` : '';
      lines.push(`  ${id}  ⊥ ${a.code} in ${a.phase}: ${a.message}${blamed}`);
    }
  });
  if (ok && first && !('error' in first)) {
    const s = first.json.summary as Record<string, unknown> | undefined;
    lines.push(
      `  outcome ${report.outcomeHash}`,
      `  agreed bids: ${agreed.length - users} provider asks, ${users} user bids ` +
        '(every user signature checks); recomputed outcome: equal',
    );
    if (s) lines.push(...doubleSummary(s));
  }
  // Problems not shown above yet: another outcome, a recomputation or a signature that differs.
  const shown = (p: string) => / output ⊥: /.test(p) || lines.some((l) => l.includes(p));
  for (const p of problems) if (!shown(p)) lines.push(`  problem: ${p}`);
  process.stdout.write(lines.join('\n') + '\n');
  return ok ? 0 : 1;
}

type Transfer = { id: string; amount: string };

/** The double auction's summary as people read it: who trades how much, at what price. */
function doubleSummary(s: Record<string, unknown>): string[] {
  const allocation = (s.allocation ?? []) as { provider: string; user: string; units: string }[];
  const units = new Map<string, bigint>();
  for (const a of allocation) {
    for (const id of [a.provider, a.user]) units.set(id, (units.get(id) ?? 0n) + BigInt(a.units));
  }
  const amounts = (k: string) =>
    new Map(((s[k] ?? []) as Transfer[]).map((t) => [t.id, t.amount] as const));
  const paid = amounts('providerPayments');
  const charged = amounts('userCharges');
  const padding = amounts('padding');

  const lines: string[] = [];
  for (const id of (s.winningProviders ?? []) as string[]) {
    const pad = padding.has(id) ? ` (+${padding.get(id)} padding)` : '';
    lines.push(
      `  provider ${id} sells ${units.get(id) ?? 0n} units${pad}, is paid ${paid.get(id)}`,
    );
  }
  for (const id of (s.winningUsers ?? []) as string[]) {
    lines.push(`  user ${id} gets ${units.get(id) ?? 0n} units, pays ${charged.get(id)}`);
  }
  if (lines.length === 0) lines.push('  nobody trades this round');
  lines.push(`  clearing ask ${s.clearingAsk}, bid ${s.clearingBid}; surplus Φ ${s.surplus}`);
  return lines;
}
