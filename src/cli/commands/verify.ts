/** `auctioneer verify`: recomputes one round from a provider's ledger and says if it matches. */
import { toBoundedInteger } from '../../core/units.js';
import { verifyLedgerRound } from '../../daemon/verify.js';

/** Options of the verify command. */
export interface VerifyCommandOptions {
  ledger: string;
  round: string;
  cluster?: string;
  json: boolean;
}

/** Prints every check and the verdict; returns 0 when the round verifies, 1 otherwise. */
export function verifyCommand(o: VerifyCommandOptions): number {
  const round = toBoundedInteger('--round', o.round, 1n, 2n ** 63n - 1n);
  const report = verifyLedgerRound(o.ledger, round, o.cluster);
  if (o.json) {
    process.stdout.write(JSON.stringify(report) + '\n');
    return report.ok ? 0 : 1;
  }

  const lines = [`round ${round} in ${o.ledger} (${report.status}):`];
  for (const c of report.checks) lines.push(`  ok    ${c}`);
  if (report.ok) {
    const what = report.outcomeHash ? `outcome ${report.outcomeHash}` : report.status;
    lines.push(`verified: the record matches the recomputed round (${what})`);
  } else {
    lines.push(`  FAIL  ${report.problem}`, `NOT verified: ${report.problem}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return report.ok ? 0 : 1;
}
