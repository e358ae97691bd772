/**
 * The paper's double-auction workload: seed derivation, determinism, the integer grid of every
 * drawn value, the capacity rule, ids and order, option validation, loadScenario and
 * truncateUsers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { utf8 } from '../../src/core/bytes.js';
import { InvalidInputError } from '../../src/core/errors.js';
import { sha256 } from '../../src/core/hash.js';
import { MAX_PRICE, MAX_QUANTITY, compareIds } from '../../src/core/units.js';
import { Drbg } from '../../src/protocol/drbg.js';
import {
  ASK_RANGE,
  BID_RANGE,
  DEMAND_RANGE,
  loadScenario,
  paperDoubleWorkload,
  scenarioRng,
  truncateUsers,
  uniformIn,
} from '../../src/scenarios/index.js';
import type { DoubleScenario } from '../../src/scenarios/index.js';

/** Asserts that fn throws an InvalidInputError whose field is `field`. */
function assertInvalid(fn: () => unknown, field: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
    assert.equal(err.field, field);
    return true;
  });
}

/** Total demand of a scenario. */
function totalDemand(s: DoubleScenario): bigint {
  return s.users.reduce((t, u) => t + u.demand, 0n);
}

/** Asserts every value of s lies on its grid and every capacity obeys the rule. */
function assertOnGrid(s: DoubleScenario): void {
  const d = totalDemand(s);
  const m = BigInt(s.providers.length);
  const lo = (d * 500_000n) / (m * 1_000_000n);
  const hi = (d * 1_500_000n) / (m * 1_000_000n);

  for (const u of s.users) {
    assert.equal(typeof u.bid, 'bigint');
    assert.ok(u.demand >= 1n && u.demand <= 1000n, `demand ${u.demand}`);
    assert.ok(u.bid >= 750_000n && u.bid <= 1_250_000n, `bid ${u.bid}`);
  }

  for (const p of s.providers) {
    assert.equal(typeof p.ask, 'bigint');
    assert.ok(p.ask >= 1n && p.ask <= 1_000_000n, `ask ${p.ask}`);
    assert.ok(p.ask <= MAX_PRICE);
    assert.ok(p.capacity >= 1n && p.capacity <= MAX_QUANTITY, `capacity ${p.capacity}`);
    assert.ok(p.capacity >= (lo < 1n ? 1n : lo), `capacity ${p.capacity} < ${lo}`);
    assert.ok(p.capacity <= (hi < 1n ? 1n : hi), `capacity ${p.capacity} > ${hi}`);
  }
}

describe('scenarioRng', () => {
  test('keys the Drbg with sha256("auctioneer/scenario/v1" ‖ String(seed))', () => {
    const key = sha256(utf8('auctioneer/scenario/v1'), utf8('42'));

    assert.deepEqual(scenarioRng(42, 'a/b').bytes(40), new Drbg(key, 'a/b').bytes(40));
    assert.deepEqual(scenarioRng('42', 'a/b').bytes(40), new Drbg(key, 'a/b').bytes(40));
    assert.notDeepEqual(scenarioRng(42, 'a/c').bytes(40), new Drbg(key, 'a/b').bytes(40));
  });

  test('uniformIn stays in its inclusive range and reaches both ends', () => {
    const rng = scenarioRng(1, 'test/uniformIn');

    const seen = new Set<bigint>();
    for (let i = 0; i < 400; i++) {
      const v = uniformIn(rng, { lo: -3n, hi: 3n });
      assert.ok(v >= -3n && v <= 3n);
      seen.add(v);
    }
    assert.equal(seen.size, 7);
  });

  test('the grid ranges are the documented ones', () => {
    assert.deepEqual(DEMAND_RANGE, { lo: 1n, hi: 1000n });
    assert.deepEqual(BID_RANGE, { lo: 750_000n, hi: 1_250_000n });
    assert.deepEqual(ASK_RANGE, { lo: 1n, hi: 1_000_000n });
  });

  test('rejects a seed that is neither a safe integer nor a non-empty string', () => {
    for (const seed of [1.5, NaN, '', null, undefined, 2 ** 60, {}]) {
      assertInvalid(() => scenarioRng(seed as never, 'x'), 'seed');
    }
  });
});

describe('paperDoubleWorkload', () => {
  test('same seed gives the identical scenario; 7 and "7" are the same seed', () => {
    const a = paperDoubleWorkload({ users: 50, providers: 5, seed: 7 });

    assert.deepEqual(paperDoubleWorkload({ users: 50, providers: 5, seed: 7 }), a);
    assert.deepEqual(paperDoubleWorkload({ users: 50, providers: 5, seed: '7' }).users, a.users);
  });

  test('different seeds give different scenarios', () => {
    const a = paperDoubleWorkload({ users: 50, providers: 5, seed: 1 });
    const b = paperDoubleWorkload({ users: 50, providers: 5, seed: 2 });

    assert.notDeepEqual(a.users, b.users);
    assert.notDeepEqual(a.providers, b.providers);
  });

  test('ids: p0..p{m-1} and zero-padded users whose id order is index order', () => {
    const s = paperDoubleWorkload({ users: 12_345, providers: 12, seed: 'ids' });

    assert.deepEqual(
      s.providers.map((p) => p.id),
      Array.from({ length: 12 }, (_v, k) => `p${k}`),
    );
    assert.equal(s.users[0]!.id, 'u00000');
    assert.equal(s.users[12_344]!.id, 'u12344');
    const sorted = s.users.map((u) => u.id).sort(compareIds);
    assert.deepEqual(
      s.users.map((u) => u.id),
      sorted,
    );
    assert.equal(paperDoubleWorkload({ users: 3, providers: 1, seed: 1 }).users[2]!.id, 'u0002');
    assert.ok(s.users.every((u) => u.kind === 'user'));
    assert.ok(s.providers.every((p) => p.kind === 'provider'));
  });

  test('every value is on its grid and capacities follow total demand / m × U[0.5, 1.5]', () => {
    assertOnGrid(paperDoubleWorkload({ users: 2000, providers: 10, seed: 3 }));
    assertOnGrid(paperDoubleWorkload({ users: 1, providers: 1, seed: 3 }));
    assertOnGrid(paperDoubleWorkload({ users: 1, providers: 50, seed: 3 }));
  });

  test('property: any size and seed stays on the grid and obeys the capacity rule', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.oneof(fc.integer(), fc.string({ minLength: 1, maxLength: 20 })),
        (users, providers, seed) => {
          const s = paperDoubleWorkload({ users, providers, seed });
          assert.equal(s.users.length, users);
          assert.equal(s.providers.length, providers);
          assertOnGrid(s);
        },
      ),
      { numRuns: 60, seed: 20_240_601 },
    );
  });

  test('prices do not collapse: bids and asks are (almost) all distinct', () => {
    const s = paperDoubleWorkload({ users: 1000, providers: 200, seed: 'spread' });

    assert.ok(new Set(s.users.map((u) => u.bid)).size >= 990);
    assert.ok(new Set(s.providers.map((p) => p.ask)).size >= 198);
    assert.ok(new Set(s.users.map((u) => u.demand)).size >= 500);
  });

  test('sample means are near the distributions means', () => {
    const s = paperDoubleWorkload({ users: 4000, providers: 400, seed: 'means' });
    const n = BigInt(s.users.length);
    const m = BigInt(s.providers.length);

    const meanBid = s.users.reduce((t, u) => t + u.bid, 0n) / n;
    const meanDemand = totalDemand(s) / n;
    const meanAsk = s.providers.reduce((t, p) => t + p.ask, 0n) / m;
    const meanCap = s.providers.reduce((t, p) => t + p.capacity, 0n) / m;
    assert.ok(meanBid > 990_000n && meanBid < 1_010_000n, `mean bid ${meanBid}`);
    assert.ok(meanDemand > 480n && meanDemand < 520n, `mean demand ${meanDemand}`);
    assert.ok(meanAsk > 440_000n && meanAsk < 560_000n, `mean ask ${meanAsk}`);
    const fair = totalDemand(s) / m;
    assert.ok(meanCap > (fair * 95n) / 100n && meanCap < (fair * 105n) / 100n, `cap ${meanCap}`);
  });

  test('the first users and the asks do not depend on the number of users', () => {
    const small = paperDoubleWorkload({ users: 10, providers: 4, seed: 9 });
    const large = paperDoubleWorkload({ users: 400, providers: 4, seed: 9 });

    assert.deepEqual(large.users.slice(0, 10), small.users);
    assert.deepEqual(
      large.providers.map((p) => p.ask),
      small.providers.map((p) => p.ask),
    );
  });

  test('name, source and notes', () => {
    const s = paperDoubleWorkload({ users: 5, providers: 2, seed: 11 });

    assert.equal(s.name, 'paper');
    assert.match(s.source, /seed 11/);
    assert.deepEqual(s.notes, []);
  });

  test('invalid options throw InvalidInputError naming the field', () => {
    for (const users of [0, -1, 1.5, NaN, 1_000_001, '3', undefined, 10n]) {
      assertInvalid(
        () => paperDoubleWorkload({ users: users as never, providers: 2, seed: 1 }),
        'users',
      );
    }

    for (const providers of [0, 2.5, 1_000_001, null]) {
      assertInvalid(
        () => paperDoubleWorkload({ users: 2, providers: providers as never, seed: 1 }),
        'providers',
      );
    }

    for (const seed of [0.5, '', null, undefined]) {
      assertInvalid(
        () => paperDoubleWorkload({ users: 2, providers: 2, seed: seed as never }),
        'seed',
      );
    }

    assertInvalid(() => paperDoubleWorkload(null as never), 'opts');
  });

  test('many providers and little demand: every capacity is raised to 1', () => {
    const s = paperDoubleWorkload({ users: 3, providers: 100_000, seed: 1 });

    assert.equal(s.providers.length, 100_000);
    assert.equal(s.providers[99_999]!.id, 'p99999');
    assert.ok(s.providers.every((p) => p.capacity === 1n));
  });
});

describe('loadScenario and truncateUsers on the paper workload', () => {
  test('loadScenario({kind: "paper"}) is paperDoubleWorkload', () => {
    const spec = { kind: 'paper', users: 30, providers: 3, seed: 5 } as const;

    assert.deepEqual(loadScenario(spec), paperDoubleWorkload(spec));
    assertInvalid(() => loadScenario({ kind: 'map' } as never), 'kind');
    assertInvalid(() => loadScenario(null as never), 'spec');
  });

  test('truncateUsers keeps the n largest demands in id order and scales capacities', () => {
    const s = paperDoubleWorkload({ users: 300, providers: 6, seed: 'trunc' });

    const t = truncateUsers(s, 40);
    assert.equal(t.users.length, 40);
    const ids = t.users.map((u) => u.id);
    assert.deepEqual(ids, ids.slice().sort(compareIds));
    const minKept = t.users.reduce((mn, u) => (u.demand < mn ? u.demand : mn), 10n ** 9n);
    const kept = new Set(ids);
    for (const u of s.users) if (!kept.has(u.id)) assert.ok(u.demand <= minKept);
    for (const u of t.users)
      assert.deepEqual(
        u,
        s.users.find((x) => x.id === u.id),
      );

    const d = totalDemand(s);
    const dk = totalDemand(t);
    s.providers.forEach((p, k) => {
      const q = t.providers[k]!;
      assert.equal(q.id, p.id);
      assert.equal(q.ask, p.ask);
      assert.equal(q.capacity, (p.capacity * dk) / d);
      assert.ok(q.capacity * 6n <= (dk * 3n) / 2n);
      assert.ok(q.capacity * 6n + 12n >= dk / 2n);
    });
    assert.match(t.notes.at(-1)!, /kept the 40 users with the largest demand of 300/);
  });

  test('truncateUsers keeps every user when n ≥ users, with a note, and validates n', () => {
    const s = paperDoubleWorkload({ users: 10, providers: 2, seed: 1 });

    assert.equal(truncateUsers(s, 10), s);
    const more = truncateUsers(s, 11);
    assert.deepEqual({ ...more, notes: s.notes }, s);
    assert.deepEqual(more.notes, [
      ...s.notes,
      '--users 11: the scenario has 10 users, all of them run',
    ]);
    for (const n of [0, -2, 1.5, NaN, 1_000_001]) assertInvalid(() => truncateUsers(s, n), 'users');
  });
});
