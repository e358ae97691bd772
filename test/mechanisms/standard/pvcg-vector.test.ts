/**
 * Spec vector B.4 (mechanisms.md) with exact values, its ε-free check (plain VCG), and the
 * task split: payments computed in 1, 2 or 4 subsets give the central outcome.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sha256 } from '../../../src/core/hash.js';
import {
  allocate,
  drawPerturbation,
  finalize,
  paymentsFor,
  planPaymentTasks,
  runPvcg,
  runPvcgWithPerturbation,
} from '../../../src/mechanisms/standard/pvcg.js';
import type { Perturbation, StandardAuctionInput } from '../../../src/mechanisms/standard/types.js';
import { paperStandardWorkload } from '../../../src/scenarios/standard.js';

const M = 1_000_000n; // micro-units per currency unit
const input: StandardAuctionInput = {
  providers: [
    { id: 'DC1', capacity: [4n, 8n] },
    { id: 'DC2', capacity: [2n, 4n] },
  ],
  users: [
    { id: 'u1', demand: [2n, 4n], accepts: null, bid: 10n * M },
    { id: 'u2', demand: [2n, 4n], accepts: null, bid: 8n * M },
    { id: 'u3', demand: [2n, 4n], accepts: null, bid: 7n * M },
    { id: 'u4', demand: [4n, 8n], accepts: null, bid: 12n * M },
  ],
  epsilonPpm: 100_000,
  mode: 'wvcg',
};

function lambdas(...num: bigint[]): Perturbation {
  return {
    epsilonPpm: 100_000,
    users: ['u1', 'u2', 'u3', 'u4'],
    lambdaNum: num,
    lottery: num.map(() => true),
  };
}

const amounts = (xs: readonly { id: string; amount: bigint }[]) =>
  Object.fromEntries(xs.map((x) => [x.id, x.amount]));

describe('PVCG-ε, spec vector B.4', () => {
  test('ε-free check (λ ≡ 1) is plain VCG: W* = 25, P = 5, 5, 4, u4 pays nothing', () => {
    const o = runPvcgWithPerturbation(input, lambdas(M, M, M, M));
    assert.equal(o.perturbedWelfare, 25n * M * M);
    assert.deepEqual(o.winners, ['u1', 'u2', 'u3']);
    assert.deepEqual(o.placements, [
      { user: 'u1', provider: 'DC1' },
      { user: 'u2', provider: 'DC1' },
      { user: 'u3', provider: 'DC2' },
    ]);
    assert.deepEqual(amounts(o.charges), { u1: 5n * M, u2: 5n * M, u3: 4n * M });
  });

  test('λ = (1.00, 0.95, 0.90, 0.92): W* = 23.9, P = 4.74, 4.74, 3.44, charges P/λ', () => {
    const o = runPvcgWithPerturbation(input, lambdas(1_000_000n, 950_000n, 900_000n, 920_000n));
    assert.equal(o.perturbedWelfare, 23_900_000n * M); // 23.9 currency units, scaled by D
    assert.deepEqual(amounts(o.pivots), {
      u1: 4_740_000n * M,
      u2: 4_740_000n * M,
      u3: 3_440_000n * M,
    });
    // 4.74 / 0.95 = 4.989473… and 3.44 / 0.90 = 3.822222…, rounded down to micro-units.
    assert.deepEqual(amounts(o.charges), { u1: 4_740_000n, u2: 4_989_473n, u3: 3_822_222n });
    assert.ok(o.perturbedWelfare * 10n >= 9n * 25n * M * M); // ≥ (1−ε)·OPT
  });

  test('midr: a winner that loses the lottery is neither served nor charged', () => {
    const p = { ...lambdas(1_000_000n, 950_000n, 900_000n, 920_000n) };
    const o = runPvcgWithPerturbation(
      { ...input, mode: 'midr' },
      { ...p, lottery: [true, false, true, true] },
    );
    assert.deepEqual(o.winners, ['u1', 'u2', 'u3']);
    assert.deepEqual(amounts(o.charges), { u1: 4_740_000n, u3: 3_822_222n });
  });
});

describe('PVCG-ε as a task graph', () => {
  for (const seed of [1, 2, 3]) {
    test(`seed ${seed}: payments in 1, 2 or 4 subsets give the central outcome`, () => {
      const s = paperStandardWorkload({ users: 40, providers: 8, seed });
      const inp = {
        providers: s.providers,
        users: s.users,
        epsilonPpm: 100_000,
        mode: 'midr' as const,
      };
      const coin = sha256(new Uint8Array([seed]));
      const central = runPvcg(inp, coin);

      for (const groups of [1, 2, 4]) {
        const p = drawPerturbation(coin, inp.users, inp.epsilonPpm);
        const a = allocate(inp, p);
        const winners = p.users.filter((_, i) => a.assignment[i] !== null);
        const merged = new Map<string, bigint>();
        for (const subset of planPaymentTasks(winners, groups)) {
          for (const [id, v] of paymentsFor(inp, p, a, subset)) merged.set(id, v);
        }
        assert.deepEqual(finalize(inp, p, a, merged), central);
      }
      for (const c of central.charges) {
        const bid = inp.users.find((u) => u.id === c.id)!.bid;
        assert.ok(c.amount <= bid, `${c.id} charged ${c.amount} > bid ${bid}`);
      }
    });
  }
});
