/**
 * The adversarial simulator as `npm test` runs it: 200 seeded runs over every strategy of the
 * catalogue, and the guarantees of issue #7 checked on them.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { drawPlan, SIM_SIZES } from '../../src/sim/plan.js';
import type { SimulationReport } from '../../src/sim/report.js';
import { runSimulation } from '../../src/sim/simulate.js';
import { STRATEGIES } from '../../src/sim/strategies.js';

const RUNS = 200;

describe(`the simulator, ${RUNS} runs`, () => {
  let r: SimulationReport;
  before(async () => {
    r = await runSimulation({ runs: RUNS, seed: 'npm-test', workers: 0 });
  });

  test('no honest provider outputs an outcome other than the trusted auctioneer’s', () => {
    assert.equal(r.runs, RUNS);
    assert.equal(r.wrongOutcomes, 0, JSON.stringify(r.examples));
  });

  test('honest providers never output different outcomes', () => {
    assert.equal(r.splits, 0, JSON.stringify(r.examples));
  });

  test('every round ends, none with a local failure', () => {
    assert.equal(r.hangs, 0);
    assert.equal(r.localFailures, 0);
  });

  test('allowed deviations give an outcome, every other one ⊥', () => {
    assert.equal(r.unexpected, 0, JSON.stringify(r.examples));
    for (const s of ['honest', 'duplicate']) assert.equal(r.perStrategy[s]!.aborts, 0, s);
    for (const s of ['equivocate-commit', 'equivocate-reveal', 'bad-opening', 'unknown-key']) {
      assert.equal(r.perStrategy[s]!.outcomes, 0, s);
    }
  });

  test('every strategy of the catalogue was played', () => {
    for (const s of STRATEGIES.filter((x) => !x.auctions)) {
      assert.ok((r.perStrategy[s.name]?.runs ?? 0) > 0, s.name);
    }
    assert.deepEqual(
      r.notApplicable.map((p) => p.strategy),
      ['equivocate-transfer', 'wrong-task-result'],
    );
  });

  test('no ⊥ ever names an honest provider; most name a deviator', () => {
    assert.equal(r.blameWrong, 0, JSON.stringify(r.examples));
    assert.equal(r.honestAbortsNamingHonest, 0);
    assert.equal(r.blameCorrect + r.blameUnattributed, r.aborts);
    for (const s of ['equivocate-commit', 'bad-opening', 'withhold', 'forge-signature']) {
      assert.equal(r.perStrategy[s]!.blameCorrect, r.perStrategy[s]!.aborts, s);
    }
  });
});

describe('the simulator, standard auction', () => {
  test('60 runs: no wrong or split outcome, no honest provider named', async () => {
    const r = await runSimulation({ runs: 60, seed: 'npm-test', auction: 'standard' });
    assert.equal(r.wrongOutcomes, 0, JSON.stringify(r.examples));
    assert.equal(r.splits, 0);
    assert.equal(r.hangs + r.localFailures + r.unexpected, 0, JSON.stringify(r.examples));
    assert.equal(r.blameWrong, 0, JSON.stringify(r.examples));
    assert.ok((r.perStrategy['wrong-task-result']?.runs ?? 0) > 0);
  });
});

describe('the simulator, determinism', () => {
  test('a run is drawn from (seed, index) alone', () => {
    for (let i = 0; i < 50; i++) {
      const p = drawPlan('det', i);
      assert.deepEqual(drawPlan('det', i), p);
      assert.ok((SIM_SIZES as readonly number[]).includes(p.m));
      assert.equal(p.k, Math.floor((p.m - 1) / 2));
      assert.ok(p.coalition.length >= 1 && p.coalition.length <= p.k);
    }
    assert.notDeepEqual(drawPlan('det', 1), drawPlan('det', 2));
  });

  test('the report is the same in one thread and in two workers', async () => {
    const strip = (x: SimulationReport) => ({ ...x, elapsedMs: 0, workers: 0 });
    const a = await runSimulation({ runs: 30, seed: 'threads', workers: 0 });
    const b = await runSimulation({ runs: 30, seed: 'threads', workers: 2 });
    assert.deepEqual(strip(b), strip(a));
  });
});
