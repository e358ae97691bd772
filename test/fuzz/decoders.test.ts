/**
 * Fuzzes every decoder of untrusted input with 10^3 random and mutated cases each (10^5 in
 * bench/fuzz.ts): no crash outside the documented error class, nothing invalid accepted. Each
 * leniency or crash the fuzzer found has its own regression test here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InvalidMessageError } from '../../src/core/errors.js';
import { verifyResult } from '../../src/node/signed-result.js';
import { Verifier } from '../../src/protocol/identity.js';
import {
  FUZZ_PUBLIC_KEY,
  abortPayloadTarget,
  bidVectorTarget,
  clusterTarget,
  doubleBidTarget,
  doubleOutcomeTarget,
  envelopeTarget,
  fuzzTarget,
  providerRequestTarget,
  sampleSignedResults,
  signedResultTarget,
  standardBidTarget,
  standardOutcomeTarget,
  standardPaymentsTarget,
  type FuzzResult,
  type FuzzTarget,
} from '../../src/sim/fuzz.js';
import { paperDoubleWorkload } from '../../src/scenarios/paper.js';
import { startZmqCluster, type ZmqCluster } from '../helpers/zmq-cluster.js';

const CASES = 1000;
const SEED = 'npm-test';

function explain(r: FuzzResult, what: 'violations' | 'findings'): string {
  return r[what].map((c) => `case ${c.index}: ${c.message}\n    input ${c.input}`).join('\n');
}

async function run<T>(target: FuzzTarget<T>): Promise<FuzzResult> {
  const r = await fuzzTarget(target, CASES, SEED);
  assert.equal(r.cases, CASES);
  assert.ok(r.accepted > 0, `${target.name}: no case was accepted (the seeds must be)`);
  assert.ok(r.refused > 0, `${target.name}: no case was refused`);
  return r;
}

describe(`fuzzing the decoders, ${CASES} cases each`, () => {
  for (const target of [
    envelopeTarget,
    bidVectorTarget,
    doubleBidTarget,
    doubleOutcomeTarget,
    standardBidTarget,
    standardPaymentsTarget,
    standardOutcomeTarget,
  ]) {
    test(`${target.name}: refuses with InvalidMessageError, accepts canonical bytes`, async () => {
      const r = await run(target);
      assert.equal(r.violationCount, 0, explain(r, 'violations'));
      assert.equal(r.findingCount, 0, explain(r, 'findings'));
    });
  }

  test('abort payload: refuses with InvalidMessageError, accepted fields in range', async () => {
    const r = await run(abortPayloadTarget);
    assert.equal(r.violationCount, 0, explain(r, 'violations'));
  });

  test('abort payload: only canonical payloads (no unknown code or index)', async () => {
    const r = await fuzzTarget(abortPayloadTarget, 5 * CASES, SEED);
    assert.equal(r.findingCount, 0, explain(r, 'findings'));
  });

  test('cluster file: refuses with ConfigError, accepted files re-parse alike', async () => {
    const r = await run(clusterTarget);
    assert.equal(r.violationCount, 0, explain(r, 'violations'));
  });

  test('cluster file: refuses unknown keys (a misspelt "timng" is an error)', async () => {
    const r = await run(clusterTarget);
    assert.equal(r.findingCount, 0, explain(r, 'findings'));
  });

  test('signed result: a changed statement, seed, reason or bid never verifies', async () => {
    const r = await run(signedResultTarget);
    const forged = r.violations.filter((v) => !v.message.startsWith('crash'));
    assert.deepEqual(forged, []);
  });

  test('signed result: an agreed bidder listed twice is refused with InvalidMessageError', () => {
    const outcome = sampleSignedResults().results.find((r) => r.status === 'outcome')!;
    const twice = { ...outcome, agreedBids: [outcome.agreedBids![0]!, ...outcome.agreedBids!] };
    const verifier = new Verifier(FUZZ_PUBLIC_KEY);
    assert.throws(
      () => verifyResult(twice, 0, sampleSignedResults().sid, verifier),
      InvalidMessageError,
    );
  });

  test('signed result: malformed JSON is refused with InvalidMessageError', async () => {
    const r = await run(signedResultTarget);
    assert.equal(r.violationCount, 0, explain(r, 'violations'));
  });

  test('signed result: every field a client uses is covered by the signature', async () => {
    const r = await run(signedResultTarget);
    assert.equal(r.findingCount, 0, explain(r, 'findings'));
  });
});

describe(`fuzzing a provider's client requests, ${CASES} cases`, () => {
  const scenario = paperDoubleWorkload({ users: 3, providers: 3, seed: 'fuzz-rpc' });
  let c: ZmqCluster;
  before(async () => {
    c = await startZmqCluster(scenario, 1);
  });
  after(async () => {
    await c.stop();
  });

  test('every refusal has a documented code (and field); accepted bids are valid', async () => {
    const ids = new Set(scenario.providers.map((p) => p.id));
    const target = providerRequestTarget((req) => c.servers[0]!.handle(req), ids);
    const r = await run(target);
    assert.equal(r.violationCount, 0, explain(r, 'violations'));
  });

  test('unknown request fields are refused', async () => {
    const ids = new Set(scenario.providers.map((p) => p.id));
    const r = await run(providerRequestTarget((req) => c.servers[0]!.handle(req), ids));
    assert.equal(r.findingCount, 0, explain(r, 'findings'));
  });
});
