/**
 * The exact winner determination: branch-and-bound (both bounds) against the DP oracle, and
 * the oracle against plain enumeration, on many small random instances — R = 1 and 2, several
 * providers, restricted accept sets, exclusions, many ties (small integer weights) and huge
 * weights (scaled Lagrangian arithmetic).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  WdpInstance,
  exactMax,
  exactMaxBnB,
  exactMaxOracle,
  type WdpProblem,
  type WdpSolution,
} from '../../../src/mechanisms/standard/solver.js';

/** A random problem: m providers, R resources, n users, optional exclusions. */
const instance = (opts: { maxUsers: number; maxR: number; bigWeights?: boolean }) =>
  fc
    .record({
      m: fc.integer({ min: 1, max: 3 }),
      R: fc.integer({ min: 1, max: opts.maxR }),
      n: fc.integer({ min: 0, max: opts.maxUsers }),
    })
    .chain(({ m, R, n }) =>
      fc.record({
        capacity: fc.array(fc.array(fc.bigInt(0n, 9n), { minLength: R, maxLength: R }), {
          minLength: m,
          maxLength: m,
        }),
        users: fc.array(
          fc.record({
            demand: fc
              .array(fc.bigInt(0n, 6n), { minLength: R, maxLength: R })
              .filter((d) => d.some((x) => x > 0n)),
            accepts: fc.option(fc.subarray(Array.from({ length: m }, (_, s) => s)), {
              freq: 3,
            }),
            weight: opts.bigWeights ? fc.bigInt(0n, 10n ** 21n) : fc.bigInt({ min: 0n, max: 12n }),
          }),
          { minLength: n, maxLength: n },
        ),
        excluded: fc.array(fc.nat(Math.max(0, n - 1)), { maxLength: 2 }),
      }),
    )
    .map(({ capacity, users, excluded }) => ({
      problem: {
        capacity,
        demand: users.map((u) => u.demand),
        accepts: users.map((u) => u.accepts),
        weight: users.map((u) => u.weight),
      } satisfies WdpProblem,
      excluded: new Set(users.length === 0 ? [] : excluded),
    }));

/** Plain enumeration of all (m+1)^n assignments; the lexicographically smallest optimum. */
function enumerate(p: WdpProblem, excluded: ReadonlySet<number>): WdpSolution {
  const n = p.demand.length;
  const m = p.capacity.length;
  let best: WdpSolution = { value: 0n, assignment: new Array(n).fill(null) };
  const codes = new Array<number>(n).fill(0);
  for (;;) {
    const load = p.capacity.map((row) => row.map(() => 0n));
    let ok = true;
    let value = 0n;
    for (let i = 0; i < n && ok; i++) {
      const c = codes[i]!;
      if (c === 0) continue;
      const s = c - 1;
      const a = p.accepts[i];
      if (excluded.has(i) || p.weight[i] === 0n || (a && !a.includes(s))) ok = false;
      else {
        p.demand[i]!.forEach((d, r) => (load[s]![r]! += d));
        value += p.weight[i]!;
      }
    }
    ok &&= load.every((row, s) => row.every((x, r) => x <= p.capacity[s]![r]!));
    if (ok && value > best.value) {
      best = { value, assignment: codes.map((c) => (c === 0 ? null : c - 1)) };
    }

    // Next code vector in lexicographic order, so the first optimum met is the smallest.
    let k = n - 1;
    while (k >= 0 && codes[k] === m) codes[k--] = 0;
    if (k < 0) return best;
    codes[k]!++;
  }
}

describe('exactMaxOracle', () => {
  test('equals plain enumeration (value and lexicographically smallest optimum)', () => {
    fc.assert(
      fc.property(instance({ maxUsers: 5, maxR: 2 }), ({ problem, excluded }) => {
        assert.deepEqual(exactMaxOracle(problem, excluded), enumerate(problem, excluded));
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  test('refuses a state space larger than maxStates', () => {
    const problem: WdpProblem = {
      capacity: [[1000n], [1000n]],
      demand: Array.from({ length: 12 }, (_, i) => [BigInt(i + 1)]),
      accepts: new Array(12).fill(null),
      weight: Array.from({ length: 12 }, (_, i) => BigInt(i + 1)),
    };
    assert.throws(() => exactMaxOracle(problem, undefined, 100), RangeError);
  });
});

describe('exactMaxBnB', () => {
  for (const bound of ['auto', 'lagrangian', 'lp'] as const) {
    test(`bound ${bound}, search only: equals the oracle, value and assignment, R = 1`, () => {
      fc.assert(
        fc.property(instance({ maxUsers: 8, maxR: 1 }), ({ problem, excluded }) => {
          const got = exactMaxBnB(problem, excluded, { bound, surrogate: false });
          assert.deepEqual(got, exactMaxOracle(problem, excluded));
        }),
        { numRuns: 400, seed: 21 },
      );
    });
  }

  test('equals the oracle with R = 2 (LP bound)', () => {
    fc.assert(
      fc.property(instance({ maxUsers: 8, maxR: 2 }), ({ problem, excluded }) => {
        assert.deepEqual(exactMax(problem, excluded), exactMaxOracle(problem, excluded));
      }),
      { numRuns: 400, seed: 31 },
    );
  });

  test('equals the oracle with weights up to 10^21 (scaled bound arithmetic)', () => {
    fc.assert(
      fc.property(instance({ maxUsers: 8, maxR: 1, bigWeights: true }), ({ problem, excluded }) => {
        assert.deepEqual(exactMaxBnB(problem, excluded), exactMaxOracle(problem, excluded));
      }),
      { numRuns: 300, seed: 41 },
    );
  });

  test('WdpInstance re-solves: W_-i with a hint equals the oracle', () => {
    fc.assert(
      fc.property(instance({ maxUsers: 8, maxR: 2 }), ({ problem }) => {
        const inst = new WdpInstance(problem);
        const main = inst.solve();
        assert.deepEqual(main, exactMaxOracle(problem));
        main.assignment.forEach((s, i) => {
          if (s === null) return;
          const without = new Set([i]);
          assert.equal(
            inst.value(without, main.assignment),
            exactMaxOracle(problem, without).value,
          );
        });
      }),
      { numRuns: 200, seed: 51 },
    );
  });

  test('larger instances: both bounds and the surrogate method agree, and are optimal', () => {
    // 16 users, 4 providers: too big for the oracle (5^16 vectors), so compare the methods
    // and check the assignment is feasible with the claimed value.
    fc.assert(
      fc.property(
        fc.array(fc.record({ d: fc.bigInt(1n, 40n), w: fc.bigInt(1n, 10n ** 9n) }), {
          minLength: 16,
          maxLength: 16,
        }),
        fc.array(fc.bigInt(10n, 90n), { minLength: 4, maxLength: 4 }),
        (users, caps) => {
          const problem: WdpProblem = {
            capacity: caps.map((c) => [c]),
            demand: users.map((u) => [u.d]),
            accepts: users.map(() => null),
            weight: users.map((u) => u.w),
          };
          const a = exactMaxBnB(problem, undefined, { bound: 'lagrangian', surrogate: false });
          const b = exactMaxBnB(problem, undefined, { bound: 'lp', surrogate: false });
          assert.deepEqual(a, b);
          assert.deepEqual(exactMaxBnB(problem), a);
          const load = caps.map(() => 0n);
          let value = 0n;
          a.assignment.forEach((s, i) => {
            if (s === null) return;
            load[s]! += users[i]!.d;
            value += users[i]!.w;
          });
          assert.equal(value, a.value);
          load.forEach((l, s) => assert.ok(l <= caps[s]!));
        },
      ),
      { numRuns: 15, seed: 61 },
    );
  });

  test('ties are broken by the code vector, not by weights: none first, then low index', () => {
    // Spec B.4 shape with λ ≡ 1: u1, u2 → DC1 and u3 → DC2 is the smallest optimal vector.
    const problem: WdpProblem = {
      capacity: [
        [4n, 8n],
        [2n, 4n],
      ],
      demand: [
        [2n, 4n],
        [2n, 4n],
        [2n, 4n],
        [4n, 8n],
      ],
      accepts: [null, null, null, null],
      weight: [10n, 8n, 7n, 12n],
    };
    assert.deepEqual(exactMax(problem), { value: 25n, assignment: [0, 0, 1, null] });

    // Two users of equal weight competing for one slot: the lower index stays unserved.
    const tie: WdpProblem = {
      capacity: [[1n]],
      demand: [[1n], [1n]],
      accepts: [null, null],
      weight: [5n, 5n],
    };
    assert.deepEqual(exactMax(tie), { value: 5n, assignment: [null, 0] });
  });

  test('malformed problems throw RangeError', () => {
    const ok: WdpProblem = { capacity: [[1n]], demand: [[1n]], accepts: [null], weight: [1n] };
    assert.throws(() => exactMax({ ...ok, capacity: [] }), RangeError);
    assert.throws(() => exactMax({ ...ok, weight: [-1n] }), RangeError);
    assert.throws(() => exactMax({ ...ok, accepts: [[3]] }), RangeError);
    assert.throws(() => exactMax({ ...ok, demand: [[1n, 1n]] }), RangeError);
  });
});
