/**
 * The long fuzz run of issue #7: 10^5 cases per decoder of untrusted input (10^3 run in
 * `npm test`), the provider's client requests against a real in-process cluster on loopback.
 *
 *   node dist/bench/fuzz.js [--cases N] [--seed S] [--json]
 *
 * Prints one line per target (accepted, refused, violations, findings, time) and the first
 * violations and findings; exits 1 when any target has a violation (a crash or an invalid
 * input accepted), 0 otherwise. Findings are documented leniencies and do not fail the run.
 */
import { parseArgs } from 'node:util';
import { paperDoubleWorkload } from '../src/scenarios/paper.js';
import {
  DECODER_TARGETS,
  fuzzTarget,
  providerRequestTarget,
  type FuzzResult,
  type FuzzTarget,
} from '../src/sim/fuzz.js';
import { startZmqCluster } from '../test/helpers/zmq-cluster.js';
import { machineInfo, machineLine } from './machine.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '100000' },
    seed: { type: 'string', default: 'bench' },
    json: { type: 'boolean', default: false },
  },
});
const cases = Number(values.cases);
if (!Number.isSafeInteger(cases) || cases < 1) {
  process.stderr.write(`--cases: expected an integer ≥ 1, got "${values.cases}"\n`);
  process.exit(2);
}

// A live cluster for the client-request target; its providers never close a round.
const scenario = paperDoubleWorkload({ users: 3, providers: 3, seed: 'fuzz-rpc' });
const cluster = await startZmqCluster(scenario, 1);
const requests = providerRequestTarget(
  (req) => cluster.servers[0]!.handle(req),
  new Set(scenario.providers.map((p) => p.id)),
);

const results: (FuzzResult & { seconds: number })[] = [];
try {
  for (const target of [...DECODER_TARGETS, requests] as FuzzTarget<unknown>[]) {
    const t0 = performance.now();
    const r = await fuzzTarget(target, cases, values.seed);
    results.push({ ...r, seconds: Math.round((performance.now() - t0) / 100) / 10 });
    if (!values.json) {
      process.stdout.write(
        `${r.target.padEnd(18)} ${String(r.cases).padStart(7)} cases: ` +
          `${r.accepted} accepted, ${r.refused} refused, ${r.skipped} skipped, ` +
          `${r.violationCount} violations, ${r.findingCount} findings ` +
          `(${results.at(-1)!.seconds} s)\n`,
      );
      for (const v of r.violations) {
        process.stdout.write(`    violation, case ${v.index}: ${v.message}\n      ${v.input}\n`);
      }
      for (const f of r.findings.slice(0, 2)) {
        process.stdout.write(`    finding, case ${f.index}: ${f.message}\n`);
      }
    }
  }
} finally {
  await cluster.stop();
}

const violations = results.reduce((s, r) => s + r.violationCount, 0);
if (values.json) {
  process.stdout.write(
    JSON.stringify({ cases, seed: values.seed, machine: machineInfo(), results }) + '\n',
  );
} else {
  process.stdout.write(`${machineLine(machineInfo())}; ${violations} violations in total\n`);
}
process.exitCode = violations === 0 ? 0 : 1;
