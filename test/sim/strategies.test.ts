/**
 * Every strategy of the simulator's catalogue, played once by a fixed coalition: the ⊥ it
 * causes and whom that ⊥ names, or, for the deviations the protocol allows, the unchanged
 * outcome. Runs are on virtual time (a 10 s deadline costs nothing) and fully deterministic.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { equalBytes } from '../../src/core/bytes.js';
import { AbortCode } from '../../src/protocol/abort.js';
import type { RoundFailure, RoundOutcome } from '../../src/protocol/fast-round.js';
import { makePlan, type PlanSpec } from '../../src/sim/plan.js';
import type { RunDetail } from '../../src/sim/run.js';
import { simulateRun } from '../../src/sim/simulate.js';
import { STRATEGIES } from '../../src/sim/strategies.js';

function play(spec: PlanSpec): Promise<RunDetail> {
  return simulateRun(makePlan(spec));
}

function honest(d: RunDetail): number[] {
  return [...Array(d.plan.m).keys()].filter((i) => !d.plan.coalition.includes(i));
}

/** Every honest provider output, and the output is the trusted auctioneer's. */
function assertOutcome(d: RunDetail): RoundOutcome[] {
  const outs = honest(d).map((i) => {
    const r = d.results[i]!;
    assert.ok(r.ok, `honest ${i} aborted: ${r.ok ? '' : r.reason.message}`);
    return r;
  });
  assert.equal(d.verdict.wrongOutcome, false, d.verdict.problems.join('\n'));
  assert.equal(d.verdict.split, false);
  return outs;
}

/**
 * Every honest provider output ⊥, naming only coalition members or nobody (a claim it could
 * not check names nobody), and at least one found the fault itself with one of `codes`.
 */
function assertAbort(d: RunDetail, codes: number[]): RoundFailure[] {
  const fails = honest(d).map((i) => {
    const r = d.results[i]!;
    assert.equal(r.ok, false, `honest ${i} should have output ⊥`);
    return r as RoundFailure;
  });
  for (const f of fails) {
    for (const b of f.reason.blamed) {
      assert.ok(d.plan.coalition.includes(b), `names honest ${b}: ${f.reason.message}`);
    }
  }
  const found = fails.filter((f) => f.reason.blamed.length > 0);
  assert.ok(found.length > 0, 'some honest provider named the deviator');
  for (const f of found) {
    const code = f.reason.code;
    assert.ok([...codes, AbortCode.EQUIVOCATION].includes(code), f.reason.message);
  }
  assert.equal(d.verdict.blame, 'correct');
  return fails;
}

/** No honest provider named an honest one, and every output is the trusted auctioneer's. */
function assertNeverHonestNamed(d: RunDetail): void {
  assert.equal(d.verdict.wrongOutcome, false, d.verdict.problems.join('\n'));
  assert.equal(d.verdict.split, false);
  assert.equal(d.verdict.honestAborts.namingHonest, 0, d.verdict.problems.join('\n'));
}

/** The outcome of every true bid, computed centrally (the double auction ignores the seed). */
function central(d: RunDetail, seed: Uint8Array = new Uint8Array(32)): Uint8Array {
  return d.scenario.mechanism.run(d.scenario.trueBids(), seed).outcomeBytes;
}

describe('simulator strategies: allowed deviations leave the outcome unchanged', () => {
  test('honest: every provider outputs the centralised outcome', async () => {
    const d = await play({ strategy: 'honest', m: 5, coalition: [1, 3] });
    for (const o of assertOutcome(d)) assert.ok(equalBytes(o.outcomeBytes, central(d)));
    assert.equal(d.verdict.aborted, false);
  });

  for (const how of ['coordinated', 'independent']) {
    test(`lie-bids (${how}): members commit to altered, dropped, fake, garbage bids`, async () => {
      const d = await play({
        strategy: 'lie-bids',
        params: { how, ownAsk: 'same', vector: 'decodable' },
        m: 5,
        coalition: [0, 4],
        users: 6,
      });
      for (const o of assertOutcome(d)) {
        assert.ok(equalBytes(o.outcomeBytes, central(d)), 'every consistent bidder kept its bid');
        for (const u of d.scenario.users) {
          const got = o.agreedBids.find((b) => b.bidder === u.id);
          assert.ok(got && equalBytes(got.bytes, u.bytes), u.id);
        }
        assert.ok(!o.agreedBids.some((b) => b.bidder.startsWith('zz-fake')));
      }
    });
  }

  test('lie-bids with a changed own ask: the new ask is its bid, nothing else moves', async () => {
    const d = await play({
      strategy: 'lie-bids',
      params: { how: 'coordinated', ownAsk: 'changed', vector: 'decodable' },
      m: 5,
      coalition: [2],
    });
    const [o] = assertOutcome(d);
    const ask = o!.agreedBids.find((b) => b.bidder === 'p2')!;
    assert.ok(!equalBytes(ask.bytes, d.scenario.providerBids[2]!));
  });

  for (const what of ['ask', 'garbage-ask']) {
    test(`equivocate-start (${what}): the member becomes an inconsistent bidder`, async () => {
      const d = await play({
        strategy: 'equivocate-start',
        params: { what },
        m: 5,
        coalition: [3],
      });
      const outs = assertOutcome(d);
      const held = outs[0]!.agreedBids.find((b) => b.bidder === 'p3');
      if (held) assert.equal(outs[0]!.noMajority.includes('p3'), false);
    });
  }

  test('duplicate: every message sent three times is ignored', async () => {
    const d = await play({ strategy: 'duplicate', params: { copies: '3' }, m: 5, coalition: [0] });
    for (const o of assertOutcome(d)) assert.ok(equalBytes(o.outcomeBytes, central(d)));
  });

  test("replay (extra): an earlier session's messages besides its own are ignored", async () => {
    for (const source of ['round', 'session']) {
      const d = await play({
        strategy: 'replay',
        params: { source, whose: 'honest', mode: 'extra', phase: 'BA_REVEAL' },
        m: 3,
        coalition: [1],
      });
      assertOutcome(d);
    }
  });
});

describe('simulator strategies: deviations end in ⊥ naming the deviator', () => {
  test('lie-bids with an undecodable committed vector: ⊥ BAD_MESSAGE', async () => {
    const d = await play({
      strategy: 'lie-bids',
      params: { how: 'coordinated', ownAsk: 'same', vector: 'malformed' },
      m: 3,
      coalition: [0],
    });
    assertAbort(d, [AbortCode.BAD_MESSAGE]);
  });

  test('equivocate-start (params): ⊥ PARAMS_MISMATCH', async () => {
    const d = await play({ strategy: 'equivocate-start', params: { what: 'params' }, m: 5 });
    assertAbort(d, [AbortCode.PARAMS_MISMATCH]);
  });

  test('equivocate-commit: ⊥ EQUIVOCATION with both signed commitments as evidence', async () => {
    const d = await play({ strategy: 'equivocate-commit', m: 5, coalition: [1, 4] });
    const fails = assertAbort(d, [AbortCode.EQUIVOCATION]);
    for (const f of fails.filter((x) => x.reason.code === AbortCode.EQUIVOCATION)) {
      assert.equal(f.reason.evidence.length, 2);
    }
  });

  for (const what of ['rho', 'nonce', 'vector', 'echo']) {
    test(`equivocate-reveal (${what}): ⊥ naming the member`, async () => {
      const d = await play({ strategy: 'equivocate-reveal', params: { what }, m: 5 });
      assertAbort(d, [AbortCode.BAD_OPENING, AbortCode.BAD_MESSAGE]);
    });
  }

  for (const what of ['bids-hash', 'outcome-hash']) {
    test(`equivocate-outcome (${what}): ⊥ where it went, no wrong outcome`, async () => {
      const d = await play({
        strategy: 'equivocate-outcome',
        params: { what },
        m: 8,
        coalition: [5],
      });
      assert.ok(d.verdict.aborted);
      assert.equal(d.verdict.wrongOutcome, false);
      assert.equal(d.verdict.split, false);
      assert.equal(d.verdict.blame, 'correct');
      for (const i of honest(d)) {
        const r = d.results[i]!;
        if (r.ok) assert.ok(equalBytes(r.outcomeBytes, central(d)));
        else assert.deepEqual(r.reason.blamed, [5]);
      }
    });
  }

  for (const phase of ['BA_REVEAL', 'OUTCOME']) {
    test(`withhold ${phase} from every peer: ⊥ TIMEOUT naming the member`, async () => {
      const d = await play({ strategy: 'withhold', params: { phase, targets: 'all' }, m: 5 });
      assertAbort(d, [AbortCode.TIMEOUT]);
    });
  }

  for (const what of ['rho', 'nonce', 'vector']) {
    test(`bad-opening (${what}): a wrong coin opening is ⊥ BAD_OPENING`, async () => {
      const d = await play({ strategy: 'bad-opening', params: { what }, m: 5, coalition: [0] });
      const fails = assertAbort(d, [AbortCode.BAD_OPENING]);
      assert.ok(fails.every((f) => f.reason.code === AbortCode.BAD_OPENING));
    });
  }

  for (const [source, whose] of [
    ['round', 'own'],
    ['session', 'honest'],
  ]) {
    test(`replay (substitute, ${source}, ${whose}): dropped, ⊥ TIMEOUT`, async () => {
      const d = await play({
        strategy: 'replay',
        params: { source: source!, whose: whose!, mode: 'substitute', phase: 'BA_COMMIT' },
        m: 5,
        coalition: [2],
      });
      assertAbort(d, [AbortCode.TIMEOUT]);
      assert.ok(d.results.every((r) => r && !r.ok && r.reason.phase !== 0));
    });
  }

  for (const how of ['corrupt', 'impersonate', 'relay', 'forged-echo', 'malleable']) {
    test(`forge-signature (${how}): ⊥ naming the member`, async () => {
      const d = await play({
        strategy: 'forge-signature',
        params: { how, phase: 'BA_REVEAL' },
        m: 5,
        coalition: [4],
      });
      assertAbort(d, [AbortCode.BAD_SIGNATURE, AbortCode.BAD_MESSAGE]);
    });
  }

  for (const from of ['self', 'honest-index', 'outside-index']) {
    test(`unknown-key (${from}): ⊥ BAD_SIGNATURE naming the member's channel`, async () => {
      const d = await play({
        strategy: 'unknown-key',
        params: { from, mode: 'extra', phase: 'BA_COMMIT' },
        m: 3,
        coalition: [0],
      });
      assertAbort(d, [AbortCode.BAD_SIGNATURE]);
    });
  }

  for (const how of ['truncate', 'short', 'flip', 'random', 'empty', 'trailing']) {
    test(`garble (${how}) to every peer: ⊥ naming the member`, async () => {
      const d = await play({
        strategy: 'garble',
        params: { how, targets: 'all', phase: 'BA_COMMIT' },
        m: 5,
        coalition: [3],
      });
      assertAbort(d, [
        AbortCode.BAD_MESSAGE,
        AbortCode.BAD_SIGNATURE,
        AbortCode.TIMEOUT,
        AbortCode.EQUIVOCATION,
      ]);
    });
  }
});

describe('simulator strategies: claims without proof name nobody', () => {
  test('equivocate-abort: the claims are not adopted; a ⊥ names nobody', async () => {
    const d = await play({ strategy: 'equivocate-abort', params: { phase: 'BA_COMMIT' }, m: 5 });
    assertNeverHonestNamed(d);
    assert.ok(d.verdict.aborted);
    for (const i of honest(d)) {
      const r = d.results[i]!;
      if (!r.ok) assert.deepEqual(r.reason.blamed, [], r.reason.message);
    }
  });

  for (const evidence of ['none', 'two-phases', 'malleated', 'bad-opening']) {
    test(`false-accusation (${evidence}): nobody honest named, outputs correct`, async () => {
      const d = await play({
        strategy: 'false-accusation',
        params: { phase: 'BA_REVEAL', evidence },
        m: 5,
        coalition: [0],
      });
      assertNeverHonestNamed(d);
      for (const i of honest(d)) {
        const r = d.results[i]!;
        if (r.ok) assert.ok(equalBytes(r.outcomeBytes, central(d)));
        else assert.equal(r.reason.code, AbortCode.PEER_ABORT, r.reason.message);
      }
    });
  }

  test('withholding START from some peers: those time out first and name the member', async () => {
    const d = await play({
      strategy: 'withhold',
      params: { phase: 'START', targets: 'some' },
      m: 5,
      coalition: [1],
    });
    assertAbort(d, [AbortCode.TIMEOUT]);
  });

  test("withholding START from all: the member's engine cannot get honest ones named", async () => {
    const d = await play({
      strategy: 'withhold',
      params: { phase: 'START', targets: 'all' },
      m: 8,
      coalition: [2, 5],
    });
    assertAbort(d, [AbortCode.TIMEOUT]);
  });
});

describe('simulator strategies: the standard auction and its data transfer (m = 8, p = 2)', () => {
  // Groups: provider i is in group i mod 2; the lowest index of a group (0, 1) sends its data.
  test('honest: every provider outputs the central outcome with the same seed', async () => {
    const d = await play({ strategy: 'honest', auction: 'standard', m: 8, coalition: [4] });
    assert.equal(d.plan.groups, 2);
    const outs = assertOutcome(d);
    for (const o of outs) assert.ok(equalBytes(o.outcomeBytes, central(d, o.seed)));
    assert.deepEqual(outs[0]!.tasks, ['1', '2.0', '3']);
  });

  test('lie-bids: the coalition cannot change a consistent bidder there either', async () => {
    const d = await play({
      strategy: 'lie-bids',
      auction: 'standard',
      params: { how: 'coordinated', ownAsk: 'same', vector: 'decodable' },
      m: 8,
      coalition: [1, 2, 7],
      users: 6,
    });
    for (const o of assertOutcome(d)) assert.ok(equalBytes(o.outcomeBytes, central(d, o.seed)));
  });

  for (const [what, member] of [
    ['hash', 3],
    ['hash', 1],
    ['data', 1],
    ['data', 0],
  ] as const) {
    test(`wrong-task-result (${what}) by provider ${member}: ⊥ naming it`, async () => {
      const d = await play({
        strategy: 'wrong-task-result',
        auction: 'standard',
        params: { what },
        m: 8,
        coalition: [member],
        users: 6,
      });
      assertAbort(d, [AbortCode.TRANSFER_MISMATCH, AbortCode.BAD_MESSAGE]);
    });
  }

  test('equivocate-transfer: two hashes for one task, ⊥ naming the member', async () => {
    const d = await play({
      strategy: 'equivocate-transfer',
      auction: 'standard',
      m: 8,
      coalition: [6],
    });
    assertAbort(d, [AbortCode.TRANSFER_MISMATCH]);
  });
});

describe('simulator strategies: the catalogue', () => {
  test('the data-transfer strategies apply to the standard auction only', () => {
    const standardOnly = STRATEGIES.filter((s) => s.auctions).map((s) => s.name);
    assert.deepEqual(standardOnly, ['equivocate-transfer', 'wrong-task-result']);
  });

  test('a run is a function of its plan', async () => {
    const spec: PlanSpec = {
      strategy: 'garble',
      params: { how: 'flip', targets: 'some', phase: 'BA_REVEAL' },
      m: 8,
      coalition: [2, 6],
      schedule: {
        maxDelayMs: 20,
        latencyMs: 1,
        dupPercent: 25,
        closeAtMs: [0, 5, 3, 0, 9, 1, 1, 2],
      },
    };
    const a = await play(spec);
    const b = await play(spec);
    const view = (d: RunDetail) =>
      d.results.map((r) =>
        r === null ? null : r.ok ? Buffer.from(r.outcomeHash).toString('hex') : r.reason.message,
      );
    assert.deepEqual(view(a), view(b));
    assert.equal(a.virtualMs, b.virtualMs);
    assert.equal(a.frames, b.frames);
  });
});
