/**
 * The surrogate method of the exact winner determination (R = 1): the surrogate knapsack
 * against enumeration, the exact packing search and the lexicographically smallest packing
 * against enumeration, and the whole solver with the method on against the oracle and
 * against the search alone, in the regime it is for (many small users per provider).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { activeUsers, searchStats } from '../../../src/mechanisms/standard/bnb.js';
import {
  lexMinPacking,
  packExactly,
  splitIntoProviders,
} from '../../../src/mechanisms/standard/packing.js';
import {
  WdpInstance,
  exactMaxBnB,
  exactMaxOracle,
  type WdpProblem,
} from '../../../src/mechanisms/standard/solver.js';
import { surrogateOptimum } from '../../../src/mechanisms/standard/surrogate.js';
import { NONE, compile, type Compiled } from '../../../src/mechanisms/standard/wdp.js';

/** Many small users over a few providers, R = 1: the surrogate method's regime. */
const packed = (opts: { users: [number, number]; providers: [number, number]; cap: number }) =>
  fc
    .record({
      m: fc.integer({ min: opts.providers[0], max: opts.providers[1] }),
      n: fc.integer({ min: opts.users[0], max: opts.users[1] }),
    })
    .chain(({ m, n }) =>
      fc.record({
        capacity: fc.array(fc.bigInt(BigInt(opts.cap >> 2), BigInt(opts.cap)), {
          minLength: m,
          maxLength: m,
        }),
        users: fc.array(
          fc.record({
            demand: fc.bigInt(1n, 9n),
            accepts: fc.option(fc.subarray(Array.from({ length: m }, (_, s) => s)), {
              freq: 4,
            }),
            weight: fc.bigInt(0n, 1000n),
          }),
          { minLength: n, maxLength: n },
        ),
        excluded: fc.array(fc.nat(Math.max(0, n - 1)), { maxLength: n === 0 ? 0 : 1 }),
      }),
    )
    .map(({ capacity, users, excluded }) => ({
      problem: {
        capacity: capacity.map((c) => [c]),
        demand: users.map((u) => [u.demand]),
        accepts: users.map((u) => u.accepts),
        weight: users.map((u) => u.weight),
      } satisfies WdpProblem,
      excluded: new Set(excluded),
    }));

/** Every assignment of `users` to providers (no "none"), in lexicographic order. */
function* assignments(c: Compiled, users: readonly number[]): Generator<Int32Array> {
  const codes = new Array<number>(users.length).fill(0);
  for (;;) {
    const x = new Int32Array(c.n).fill(NONE);
    users.forEach((i, q) => (x[i] = codes[q]!));
    yield x;
    let k = users.length - 1;
    while (k >= 0 && codes[k] === c.m - 1) codes[k--] = 0;
    if (k < 0) return;
    codes[k]!++;
  }
}

/** Whether x packs its served users within `room` and their accept lists. */
function fits(c: Compiled, x: Int32Array, room: readonly number[]): boolean {
  const load = new Array<number>(c.m).fill(0);
  for (let i = 0; i < c.n; i++) {
    const s = x[i]!;
    if (s === NONE) continue;
    if (!c.acc[i * c.m + s]) return false;
    load[s]! += c.dem[i]!;
  }
  return load.every((l, s) => l <= room[s]!);
}

/** A small compiled problem and a user set from it, for the packing tests. */
const packingCase = fc
  .record({
    m: fc.integer({ min: 1, max: 3 }),
    n: fc.integer({ min: 0, max: 7 }),
  })
  .chain(({ m, n }) =>
    fc.record({
      caps: fc.array(fc.bigInt(0n, 14n), { minLength: m, maxLength: m }),
      demands: fc.array(fc.bigInt(0n, 7n), { minLength: n, maxLength: n }),
      accepts: fc.array(
        fc.option(fc.subarray(Array.from({ length: m }, (_, s) => s)), { freq: 2 }),
        { minLength: n, maxLength: n },
      ),
      chosen: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    }),
  )
  .map(({ caps, demands, accepts, chosen }) => {
    const c = compile({
      capacity: caps.map((x) => [x]),
      demand: demands.map((d) => [d]),
      accepts,
      weight: demands.map(() => 1n),
    });
    const users = chosen.flatMap((on, i) => (on ? [i] : []));
    return { c, users };
  });

describe('surrogateOptimum', () => {
  test('is the 0/1 knapsack optimum over Σ C, and provesNeeded is sound', () => {
    fc.assert(
      fc.property(
        packed({ users: [0, 11], providers: [1, 3], cap: 20 }),
        ({ problem, excluded }) => {
          const c = compile(problem);
          const active = activeUsers(c, excluded);
          const got = surrogateOptimum(c, active);
          assert.ok(got !== null);

          const total = c.cap.reduce((a, b) => a + b, 0);
          const list = Array.from({ length: c.n }, (_, i) => i).filter((i) => active[i]);
          const best = (skip: number): bigint => {
            let top = 0n;
            for (let mask = 0; mask < 1 << list.length; mask++) {
              let d = 0;
              let w = 0n;
              list.forEach((i, q) => {
                if (!((mask >> q) & 1) || i === skip) return;
                d += c.dem[i]!;
                w += c.w[i]!;
              });
              if (d <= total && w > top) top = w;
            }
            return top;
          };
          assert.equal(got.value, best(-1));

          let d = 0;
          let w = 0n;
          for (const i of got.users) {
            assert.equal(active[i], 1, `user ${i} is active`);
            d += c.dem[i]!;
            w += c.w[i]!;
          }
          assert.ok(d <= total);
          assert.equal(w, got.value);
          for (const i of got.users) {
            if (got.provesNeeded(i, got.value)) assert.ok(best(i) < got.value);
          }
        },
      ),
      { numRuns: 300, seed: 71 },
    );
  });
});

describe('packExactly', () => {
  test('finds a packing exactly when one exists', () => {
    fc.assert(
      fc.property(packingCase, ({ c, users }) => {
        const got = packExactly(c, users, c.cap);
        let exists = false;
        for (const x of assignments(c, users)) if ((exists = fits(c, x, c.cap))) break;
        if (!exists) return assert.equal(got, 'no');
        assert.ok(got instanceof Int32Array, 'a packing');
        assert.ok(fits(c, got, c.cap));
        for (let i = 0; i < c.n; i++) assert.equal(got[i] !== NONE, users.includes(i));
      }),
      { numRuns: 500, seed: 81 },
    );
  });

  test('answers null, not a guess, when its budget runs out', () => {
    // Odd demands 3..13 into 15, 16 and 17 (slack 0): only {3, 5, 7} fills 15, and no two of
    // the rest make 16.
    const demand = [3n, 5n, 7n, 9n, 11n, 13n].map((d) => [d]);
    const c = compile({
      capacity: [[15n], [16n], [17n]],
      demand,
      accepts: demand.map(() => null),
      weight: demand.map(() => 1n),
    });
    const users = demand.map((_, i) => i);
    assert.equal(packExactly(c, users, c.cap, 1), null);
    assert.equal(packExactly(c, users, c.cap), 'no');
  });
});

describe('splitIntoProviders and lexMinPacking', () => {
  test('a split is a packing; lexMinPacking is the smallest packing', () => {
    let settled = 0;
    let withWitness = 0;
    fc.assert(
      fc.property(packingCase, ({ c, users }) => {
        const witness = splitIntoProviders(c, users, c.cap);
        let smallest: Int32Array | null = null;
        for (const x of assignments(c, users)) {
          if (fits(c, x, c.cap)) {
            smallest = x;
            break;
          }
        }
        if (!(witness instanceof Int32Array)) {
          return assert.deepEqual([witness, smallest], ['no', null]);
        }
        withWitness++;
        assert.ok(fits(c, witness, c.cap));
        const got = lexMinPacking(c, users, witness);
        if (got === null) return;
        settled++;
        assert.deepEqual(Array.from(got), Array.from(smallest!));
      }),
      { numRuns: 500, seed: 91 },
    );
    assert.ok(withWitness > 200, `${withWitness} of 500 cases can be packed`);
    assert.equal(settled, withWitness, 'lexMinPacking settles every small case');
  });
});

describe('the solver with the surrogate method', () => {
  test('equals the oracle, value and assignment, and settles most solves', () => {
    const before = { ...searchStats };
    fc.assert(
      fc.property(
        packed({ users: [6, 12], providers: [2, 3], cap: 16 }),
        ({ problem, excluded }) => {
          assert.deepEqual(exactMaxBnB(problem, excluded), exactMaxOracle(problem, excluded));
        },
      ),
      { numRuns: 300, seed: 101 },
    );
    const settled = searchStats.surrogate - before.surrogate;
    assert.ok(settled >= 100, `the surrogate method settled ${settled} of 300 solves`);
  });

  test('capacities in small units (10^12) fall back instead of building huge tables', () => {
    const problem: WdpProblem = {
      capacity: [[10n ** 12n], [10n ** 12n]],
      demand: [[3n], [5n], [7n]],
      accepts: [null, null, null],
      weight: [10n, 20n, 30n],
    };
    const expected = { value: 60n, assignment: [0, 0, 0] };
    assert.deepEqual(exactMaxBnB(problem), expected);
    assert.deepEqual(exactMaxBnB(problem, undefined, { surrogate: false }), expected);
  });

  test('equals the oracle on 20–24 users over 3 providers, with W_-i re-solves', () => {
    const before = { ...searchStats };
    fc.assert(
      fc.property(packed({ users: [20, 24], providers: [3, 3], cap: 30 }), ({ problem }) => {
        const instance = new WdpInstance(problem);
        const x = instance.solve();
        assert.deepEqual(x, exactMaxOracle(problem));
        x.assignment.forEach((s, i) => {
          if (s === null || i % 3 !== 0) return;
          const without = new Set([i]);
          const expected = exactMaxOracle(problem, without);
          assert.equal(instance.value(without, x.assignment), expected.value);
          assert.deepEqual(instance.solve(without), expected);
        });
      }),
      { numRuns: 20, seed: 111 },
    );
    assert.ok(searchStats.surrogate - before.surrogate >= 40);
  });
});
