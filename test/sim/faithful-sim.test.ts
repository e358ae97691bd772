/**
 * The adversarial simulator on the faithful bit-level agreement (#4): a fixed batch of drawn
 * runs over every flavour (ks it/crypto, rule majority/leader) with the guarantees of #7
 * checked, the faithful counterparts of the strategies that rewrite commitments and reveals
 * played once each, and the judge shown to catch an output the agreement does not allow.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { bidVectorHash } from '../../src/protocol/bid-vector.js';
import { AbortCode } from '../../src/protocol/abort.js';
import type { RoundFailure, RoundOutcome, RoundResult } from '../../src/protocol/fast-round.js';
import { bitCodecFor } from '../../src/protocol/faithful/bit-codec.js';
import { judge, type JudgeInput } from '../../src/sim/judge.js';
import { makePlan, type FaithfulChoice, type PlanSpec } from '../../src/sim/plan.js';
import type { SimulationReport } from '../../src/sim/report.js';
import { honestInputs, type RunDetail } from '../../src/sim/run.js';
import { runSimulation, simulateRun } from '../../src/sim/simulate.js';
import { STRATEGIES } from '../../src/sim/strategies.js';

const RUNS = 48;
const IT: FaithfulChoice = { ks: 'it', rule: 'majority' };
const CRYPTO: FaithfulChoice = { ks: 'crypto', rule: 'majority' };

function play(spec: PlanSpec): Promise<RunDetail> {
  return simulateRun(makePlan(spec));
}

function honest(d: RunDetail): number[] {
  return [...Array(d.plan.m).keys()].filter((i) => !d.plan.coalition.includes(i));
}

/**
 * Every honest provider output ⊥ naming only members or nobody, some named a member with one
 * of `codes` (or its proven equivocation), and those messages match `pattern` when given.
 */
function assertAbort(d: RunDetail, codes: number[], pattern?: RegExp): void {
  const fails = honest(d).map((i) => {
    const r = d.results[i]!;
    assert.equal(r.ok, false, `honest ${i} should have output ⊥`);
    return r as RoundFailure;
  });
  const named = fails.filter((f) => f.reason.blamed.length > 0);
  assert.ok(named.length > 0, 'some honest provider named the deviator');
  for (const f of named) {
    for (const b of f.reason.blamed) assert.ok(d.plan.coalition.includes(b), f.reason.message);
    const ok = [...codes, AbortCode.EQUIVOCATION, AbortCode.PEER_ABORT].includes(f.reason.code);
    assert.ok(ok, f.reason.message);
  }
  if (pattern) {
    assert.ok(
      named.some((f) => pattern.test(f.reason.message)),
      named.map((f) => f.reason.message).join('\n'),
    );
  }
  assert.equal(d.verdict.blame, 'correct');
}

/** Every honest provider output, and the judge found nothing wrong. */
function assertOutcome(d: RunDetail): RoundOutcome[] {
  const outs = honest(d).map((i) => {
    const r = d.results[i]!;
    assert.ok(r.ok, `honest ${i} aborted: ${r.ok ? '' : r.reason.message}`);
    return r;
  });
  assert.deepEqual(d.verdict.problems, []);
  return outs;
}

describe(`the simulator, faithful agreement, ${RUNS} runs`, () => {
  let r: SimulationReport;
  before(async () => {
    r = await runSimulation({ runs: RUNS, seed: 'npm-test', agreement: 'faithful' });
  });

  test('no wrong or split outcome, no hang, no ⊥ naming an honest provider', () => {
    assert.equal(r.runs, RUNS);
    assert.equal(r.agreement, 'faithful');
    assert.equal(r.wrongOutcomes, 0, JSON.stringify(r.examples));
    assert.equal(r.splits, 0, JSON.stringify(r.examples));
    assert.equal(r.hangs + r.localFailures, 0, JSON.stringify(r.examples));
    assert.equal(r.blameWrong, 0, JSON.stringify(r.examples));
    assert.equal(r.honestAbortsNamingHonest, 0);
  });

  test('every run gives what its strategy expects', () => {
    assert.equal(r.unexpected, 0, JSON.stringify(r.examples));
    assert.ok(r.aborts > 0 && r.outcomes > 0);
  });

  test('every flavour ran', () => {
    assert.deepEqual(Object.keys(r.perFlavour), [
      'it/majority',
      'it/leader',
      'crypto/majority',
      'crypto/leader',
    ]);
    const counted = Object.values(r.perFlavour).reduce((n, t) => n + t.runs, 0);
    assert.equal(counted, RUNS);
  });
});

describe('the simulator, faithful options', () => {
  test('the standard auction is refused, naming both options', async () => {
    await assert.rejects(
      runSimulation({ runs: 1, seed: 'x', agreement: 'faithful', auction: 'standard' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /--agreement faithful/.test(e.message) &&
        /--auction/.test(e.message),
    );
  });

  test('--ks and --decision-rule fix the flavour, and need the faithful agreement', async () => {
    const r = await runSimulation({
      runs: 6,
      seed: 'fixed',
      agreement: 'faithful',
      ks: 'crypto',
      decisionRule: 'leader',
      strategies: ['honest', 'duplicate'],
    });
    assert.deepEqual(Object.keys(r.perFlavour), ['crypto/leader']);
    assert.equal(r.aborts, 0);
    await assert.rejects(runSimulation({ runs: 1, seed: 'x', ks: 'it' }), ConfigError);
    await assert.rejects(
      runSimulation({ runs: 1, seed: 'x', agreement: 'faithful', decisionRule: 'first' }),
      ConfigError,
    );
  });

  test('the faithful catalogue is the double auction’s', async () => {
    const r = await runSimulation({ runs: 1, seed: 'x', agreement: 'faithful' });
    const applies = STRATEGIES.filter((s) => !s.auctions).map((s) => s.name);
    assert.deepEqual(
      r.notApplicable.map((p) => p.strategy),
      STRATEGIES.filter((s) => !applies.includes(s.name)).map((s) => s.name),
    );
  });
});

describe('faithful counterparts of the strategies that rewrite commitments and reveals', () => {
  test('lie-bids, decodable lies: an outcome under both rules, judged lane by lane', async () => {
    for (const faithful of [IT, { ks: 'crypto', rule: 'leader' } as const]) {
      const d = await play({
        strategy: 'lie-bids',
        params: { how: 'independent', ownAsk: 'changed', vector: 'decodable' },
        faithful,
        m: 5,
        coalition: [0, 3],
        users: 6,
      });
      assertOutcome(d);
    }
  });

  test('lie-bids, it: a dealing whose secret is not a bit is ⊥ naming the dealer', async () => {
    const params = { how: 'coordinated', ownAsk: 'same', vector: 'malformed' };
    const d = await play({ strategy: 'lie-bids', params, faithful: IT, m: 5, coalition: [2] });
    assertAbort(d, [AbortCode.BAD_MESSAGE], /out of range/);
  });

  test('lie-bids, crypto: lanes of the wrong length are ⊥ naming the member', async () => {
    const params = { how: 'coordinated', ownAsk: 'same', vector: 'malformed' };
    const d = await play({ strategy: 'lie-bids', params, faithful: CRYPTO, m: 3, coalition: [0] });
    assertAbort(d, [AbortCode.BAD_MESSAGE], /malformed BA_REVEAL/);
  });

  test('equivocate-commit, it: shares of two polynomials are ⊥ naming the dealer', async () => {
    const params = { phase: 'KS_SHARE' };
    const d = await play({ strategy: 'equivocate-commit', params, faithful: IT, m: 5 });
    assertAbort(d, [AbortCode.BAD_MESSAGE], /do not lie on one polynomial/);
  });

  for (const [faithful, phase] of [
    [IT, 'CC_COMMIT'],
    [CRYPTO, 'BA_COMMIT'],
  ] as const) {
    test(`equivocate-commit, ${faithful.ks}: two ${phase}s are ⊥ EQUIVOCATION`, async () => {
      const params = { phase };
      const d = await play({ strategy: 'equivocate-commit', params, faithful, m: 5 });
      assertAbort(d, [AbortCode.EQUIVOCATION]);
    });
  }

  for (const [faithful, phase, what, code] of [
    [IT, 'KS_REVEAL', 'echo', AbortCode.BAD_MESSAGE],
    [CRYPTO, 'BA_REVEAL', 'lanes', AbortCode.BAD_OPENING],
    [CRYPTO, 'CC_REVEAL', 'echo', AbortCode.BAD_MESSAGE],
  ] as const) {
    test(`equivocate-reveal, ${faithful.ks}: another ${phase} (${what}) is ⊥`, async () => {
      const params = { phase, what };
      const d = await play({ strategy: 'equivocate-reveal', params, faithful, m: 5 });
      assertAbort(d, [code]);
    });
  }

  for (const [faithful, phase, what] of [
    [IT, 'CC_REVEAL', 'rho'],
    [CRYPTO, 'BA_REVEAL', 'seed'],
  ] as const) {
    test(`bad-opening, ${faithful.ks}: a ${phase} that does not open is ⊥`, async () => {
      const params = { phase, what };
      const d = await play({ strategy: 'bad-opening', params, faithful, m: 3, coalition: [2] });
      assertAbort(d, [AbortCode.BAD_OPENING], /not open its commitment/);
    });
  }

  test('forge-signature, it: a forged echoed share is ⊥ naming the echoer', async () => {
    const params = { how: 'forged-echo', phase: 'KS_REVEAL' };
    const d = await play({ strategy: 'forge-signature', params, faithful: IT, m: 5 });
    assertAbort(d, [AbortCode.BAD_MESSAGE], /did not sign/);
  });

  test('replay: an extra frame of another session is ⊥ PARAMS_MISMATCH (D11)', async () => {
    const params = { source: 'session', whose: 'own', mode: 'extra', phase: 'CC_COMMIT' };
    const d = await play({ strategy: 'replay', params, faithful: IT, m: 5, coalition: [1] });
    assertAbort(d, [AbortCode.PARAMS_MISMATCH]);
    assert.equal(d.verdict.expected, 'either');
  });
});

describe('the faithful judge', () => {
  /** An honest faithful run and a judge input for it, with `results` swapped in. */
  async function honestRun(rule: 'majority' | 'leader') {
    const faithful = { ks: 'it', rule } as const;
    const d = await play({ strategy: 'honest', faithful, m: 5, coalition: [], users: 6 });
    const h = honest(d);
    const providerIds = new Set(d.params.providers.map((p) => p.id));
    const submitted = new Map(
      h.map((i) => [i, new Map(d.scenario.users.map((u) => [u.id, u.bytes]))]),
    );
    const input = (results: readonly (RoundResult | null)[]): JudgeInput => ({
      coalition: d.plan.coalition,
      honest: h,
      mechanism: d.scenario.mechanism,
      providerIds,
      results,
      honestVectors: honestInputs(d.results, h, d.results[0]!.sid, d.params, submitted),
      submitted,
      expected: 'outcome',
      faithful: {
        rule,
        registry: d.params.faithful!.bidders,
        codec: bitCodecFor(d.scenario.mechanism, providerIds),
      },
    });
    return { d, input };
  }

  /** Every honest result replaced by `o`. */
  function everyone(d: RunDetail, o: RoundOutcome): RoundResult[] {
    return d.results.map((r, i) => (d.plan.coalition.includes(i) ? r! : o));
  }

  for (const rule of ['majority', 'leader'] as const) {
    test(`${rule}: honest outputs pass, another bid for a consistent bidder not`, async () => {
      const { d, input } = await honestRun(rule);
      assert.deepEqual(judge(input(d.results)).problems, []);

      const o = d.results[0] as RoundOutcome;
      const user = d.scenario.users[0]!;
      const agreedBids = o.agreedBids.map((b) =>
        b.bidder === user.id ? { bidder: b.bidder, bytes: user.alternative } : b,
      );
      const lie = { ...o, agreedBids, bidsHash: bidVectorHash(agreedBids) };
      const v = judge(input(everyone(d, lie)));
      assert.equal(v.wrongOutcome, true);
      assert.ok(
        v.problems.some((p) => p.includes(user.id)),
        v.problems.join('\n'),
      );
    });
  }

  test('an outcome other than the mechanism’s on the agreed bids is wrong', async () => {
    const { d, input } = await honestRun('majority');
    const o = d.results[0] as RoundOutcome;
    const outcomeBytes = Uint8Array.from([...o.outcomeBytes, 0]);
    const v = judge(input(everyone(d, { ...o, outcomeBytes })));
    assert.equal(v.wrongOutcome, true);
    assert.ok(
      v.problems.some((p) => /mechanism run centrally/.test(p)),
      v.problems.join('\n'),
    );
  });
});
