/**
 * STAR-Padding acceptance tests: the spec's vectors TV-P1 and TV-P2 (mechanisms.md A.7) with
 * every exact value, the no-trade cases, input validation and parsing, and a size check.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { InvalidInputError } from '../../../src/core/errors.js';
import { MAX_PRICE, MAX_QUANTITY } from '../../../src/core/units.js';
import {
  parseProviderAsk,
  parseUserBid,
  runStarPadding,
  validateDoubleAuctionInput,
} from '../../../src/mechanisms/double/index.js';
import type {
  DoubleAuctionInput,
  DoubleAuctionOutcome,
  ProviderAsk,
  UserBid,
  WinnerRule,
} from '../../../src/mechanisms/double/index.js';

function provider(id: string, ask: bigint, capacity: bigint): ProviderAsk {
  return { kind: 'provider', id, ask, capacity };
}

function user(id: string, bid: bigint, demand: bigint): UserBid {
  return { kind: 'user', id, bid, demand };
}

function amounts(list: readonly { id: string; amount: bigint }[]): Record<string, bigint> {
  return Object.fromEntries(list.map((e) => [e.id, e.amount]));
}

/** Asserts that `fn` throws InvalidInputError on `field` with `value`. */
function throwsInvalid(fn: () => unknown, field: string, value: unknown): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
    assert.equal(err.code, 'INVALID_INPUT');
    assert.equal(err.field, field);
    assert.deepEqual(err.value, value);
    return true;
  });
}

// TV-P1, the Fig. 3 example (A.7), in the spec's plain units.
const TV_P1_PROVIDERS = [
  provider('P1', 8n, 50n),
  provider('P2', 12n, 40n),
  provider('P3', 15n, 45n),
  provider('P4', 20n, 60n),
];
const TV_P1_USERS = [
  user('T1', 80n, 20n),
  user('T2', 76n, 15n),
  user('T3', 70n, 30n),
  user('T4', 68n, 25n),
  user('T5', 50n, 5n),
  user('T6', 40n, 10n),
  user('T7', 35n, 30n),
  user('T8', 15n, 10n),
];

describe('TV-P1 (Fig. 3 example)', () => {
  for (const rule of ['safe', 'paper'] as const) {
    test(`every exact value under ${rule}`, () => {
      const o = runStarPadding({ providers: TV_P1_PROVIDERS, users: TV_P1_USERS, rule });

      assert.equal(o.rule, rule);
      assert.deepEqual(o.winningProviders, ['P1', 'P2', 'P3']); // t = 3
      assert.deepEqual(o.winningUsers, ['T1', 'T2', 'T3', 'T4', 'T5', 'T6']); // f = 6
      assert.deepEqual(o.allocation, [
        { provider: 'P1', user: 'T1', units: 20n },
        { provider: 'P1', user: 'T2', units: 15n },
        { provider: 'P1', user: 'T3', units: 15n },
        { provider: 'P2', user: 'T3', units: 15n },
        { provider: 'P2', user: 'T4', units: 25n },
        { provider: 'P3', user: 'T5', units: 5n },
        { provider: 'P3', user: 'T6', units: 10n },
      ]);
      assert.deepEqual(o.padding, [{ id: 'P3', amount: 30n }]);
      assert.equal(o.clearingAsk, 20n); // s'_4
      assert.equal(o.clearingBid, 35n); // b'_7
      assert.deepEqual(o.providerPayments, [
        { id: 'P1', amount: 1000n },
        { id: 'P2', amount: 800n },
        { id: 'P3', amount: 900n },
      ]);
      assert.deepEqual(
        o.userCharges.map((c) => c.amount),
        [700n, 525n, 1050n, 875n, 175n, 350n],
      );
      assert.deepEqual(
        o.userCharges.map((c) => c.id),
        o.winningUsers,
      );
      assert.equal(o.surplus, 975n); // Φ = 35·105 − 20·135
      // Not in the spec; by hand: P1 72·20 + 68·15 + 62·15, P2 58·15 + 56·25, P3 35·5 + 25·10.
      assert.equal(o.welfare, 6085n);
    });
  }

  test('the outcome does not depend on the order of the input lists', () => {
    const base = runStarPadding({ providers: TV_P1_PROVIDERS, users: TV_P1_USERS, rule: 'safe' });
    const shuffled = runStarPadding({
      providers: [...TV_P1_PROVIDERS].reverse(),
      users: [TV_P1_USERS[5]!, ...TV_P1_USERS.slice(0, 5), ...TV_P1_USERS.slice(6)].reverse(),
      rule: 'safe',
    });
    assert.deepEqual(shuffled, base);
  });
});

// TV-P2 (A.7). The spec's prices include 1.5, so every price here is scaled by 10: asks 10, 15,
// 20, 40, 50 and bids 100, 60. Quantities are unchanged, so every money amount is 10× the
// spec's (K paid 20 → 200, T1 pays 90 → 900, Φ = 50 → 500, …).
const A = provider('A', 10n, 10n);
const K = provider('K', 15n, 10n);
const B = provider('B', 20n, 1n);
const C = provider('C', 40n, 10n);
const D = provider('D', 50n, 10n);
const TV_P2_USERS = [user('T1', 100n, 15n), user('T2', 60n, 100n)];

function tvP2(rule: WinnerRule, kAsk = K.ask): DoubleAuctionOutcome {
  return runStarPadding({
    providers: [A, { ...K, ask: kAsk }, B, C, D],
    users: TV_P2_USERS,
    rule,
  });
}

describe('TV-P2 (provider manipulation under the paper rule)', () => {
  test('paper, truthful: t = 2, K paid 20, T1 pays 90, Φ = 50, padding 5 on K (×10)', () => {
    const o = tvP2('paper');

    assert.deepEqual(o.winningProviders, ['A', 'K']);
    assert.deepEqual(o.winningUsers, ['T1']); // f = 1
    assert.equal(o.clearingAsk, 20n); // price 2 per unit
    assert.equal(o.clearingBid, 60n);
    assert.deepEqual(o.providerPayments, [
      { id: 'A', amount: 200n },
      { id: 'K', amount: 200n },
    ]);
    assert.deepEqual(o.userCharges, [{ id: 'T1', amount: 900n }]);
    assert.equal(o.surplus, 500n);
    assert.deepEqual(o.padding, [{ id: 'K', amount: 5n }]);
    assert.deepEqual(o.allocation, [
      { provider: 'A', user: 'T1', units: 10n },
      { provider: 'K', user: 'T1', units: 5n },
    ]);
  });

  test('paper, K reports 3: order A, B, K, t = 3, K paid 40 (×10)', () => {
    const o = tvP2('paper', 30n);

    assert.deepEqual(o.winningProviders, ['A', 'B', 'K']);
    assert.equal(o.clearingAsk, 40n); // price 4 per unit
    assert.equal(amounts(o.providerPayments).K, 400n);
    // K's utility with cost 1.5 on its capacity: 40 − 15 = 25 > 5 (×10: 250 > 50).
    assert.equal(400n - 15n * 10n, 250n);
    assert.equal(200n - 15n * 10n, 50n);
  });

  test('safe: winners A, K, B at price 4, payments 40, 40, 4, T1 pays 90, Φ = 6 (×10)', () => {
    const o = tvP2('safe');

    assert.deepEqual(o.winningProviders, ['A', 'K', 'B']); // T(1) = 3: 1 + 10 + 10 ≥ 15
    assert.deepEqual(o.winningUsers, ['T1']);
    assert.equal(o.clearingAsk, 40n);
    assert.equal(o.clearingBid, 60n);
    assert.deepEqual(o.providerPayments, [
      { id: 'A', amount: 400n },
      { id: 'K', amount: 400n },
      { id: 'B', amount: 40n },
    ]);
    assert.deepEqual(o.userCharges, [{ id: 'T1', amount: 900n }]);
    assert.equal(o.surplus, 60n);
    // Padding spans two winners under safe: 5 left on K, all of B.
    assert.deepEqual(o.padding, [
      { id: 'K', amount: 5n },
      { id: 'B', amount: 1n },
    ]);
  });

  test('safe: K is paid 40 for every report in [1.5, 4) and loses at 4 (×10)', () => {
    for (let r = 15n; r < 40n; r++) {
      const o = tvP2('safe', r);
      assert.equal(amounts(o.providerPayments).K, 400n, `K reports ${r}`);
    }

    const o = tvP2('safe', 40n); // ties with C at 4; C sorts first by id, so K loses
    assert.equal(o.winningProviders.includes('K'), false);
  });
});

describe('no trade', () => {
  const cases: [string, DoubleAuctionInput][] = [
    ['no agents', { providers: [], users: [], rule: 'safe' }],
    ['no users', { providers: TV_P1_PROVIDERS, users: [], rule: 'safe' }],
    ['no providers', { providers: [], users: TV_P1_USERS, rule: 'paper' }],
    // One user: f ≤ n − 1 = 0, nobody sets the users' price.
    ['one user', { providers: TV_P1_PROVIDERS, users: [user('u', 100n, 1n)], rule: 'safe' }],
    // One provider: t ≤ m − 1 = 0, nobody sets the providers' price.
    ['one provider', { providers: [provider('p', 0n, 1000n)], users: TV_P1_USERS, rule: 'safe' }],
    [
      'bids below asks',
      {
        providers: [provider('p', 10n, 5n), provider('q', 11n, 5n)],
        users: [user('u', 9n, 1n), user('v', 8n, 1n)],
        rule: 'paper',
      },
    ],
    [
      'demand beyond m − 1 providers',
      {
        providers: [provider('p', 1n, 5n), provider('q', 1n, 5n)],
        users: [user('u', 90n, 6n), user('v', 80n, 1n)],
        rule: 'safe',
      },
    ],
  ];
  for (const [name, input] of cases) {
    test(name, () => {
      const o = runStarPadding(input);
      assert.deepEqual(o, {
        rule: input.rule,
        winningProviders: [],
        winningUsers: [],
        allocation: [],
        padding: [],
        providerPayments: [],
        userCharges: [],
        clearingAsk: null,
        clearingBid: null,
        surplus: 0n,
        welfare: 0n,
      });
    });
  }

  test('the last feasible g is kept even when an earlier g fails', () => {
    // m = 2, so t ≤ 1 and S_1 = 10, s'_2 = 5. g = 1: b'_2·D_1 = 10·1 < 5·10, infeasible.
    // g = 2: b'_3·D_2 = 9·9 = 81 ≥ 50, feasible. So f = 2 although g = 1 fails.
    for (const rule of ['safe', 'paper'] as const) {
      const o = runStarPadding({
        providers: [provider('p', 1n, 10n), provider('q', 5n, 10n)],
        users: [user('a', 10n, 1n), user('b', 10n, 8n), user('c', 9n, 1n)],
        rule,
      });
      assert.deepEqual(o.winningUsers, ['a', 'b']);
      assert.deepEqual(o.winningProviders, ['p']);
      assert.deepEqual(o.padding, [{ id: 'p', amount: 1n }]);
      assert.equal(o.surplus, 81n - 50n);
    }
  });

  test('zero prices: the clearing prices stay real reports', () => {
    const o = runStarPadding({
      providers: [provider('p', 0n, 3n), provider('q', 0n, 3n)],
      users: [user('a', 0n, 1n), user('b', 0n, 1n)],
      rule: 'safe',
    });
    assert.deepEqual(o.winningUsers, ['a']);
    assert.deepEqual(o.winningProviders, ['p']);
    assert.equal(o.clearingAsk, 0n);
    assert.equal(o.clearingBid, 0n);
    assert.equal(o.surplus, 0n);
  });
});

describe('ties are broken by id only', () => {
  test('equal asks and bids sort by id, not by capacity, demand or input order', () => {
    const o = runStarPadding({
      providers: [provider('z', 5n, 100n), provider('m', 5n, 1n), provider('a', 5n, 2n)],
      users: [user('y', 9n, 1n), user('b', 9n, 50n), user('c', 1n, 1n)],
      rule: 'paper',
    });
    // L1 = a(2), m(1), z(100); L2 = b(50), y(1), c(1). g = 2: D_2 = 51 needs all three; fails.
    // g = 1: D_1 = 50 needs a, m, z, t = 3 > m − 1: fails. No trade.
    assert.deepEqual(o.winningUsers, []);

    const o2 = runStarPadding({
      providers: [provider('z', 5n, 100n), provider('m', 5n, 1n), provider('a', 5n, 2n)],
      users: [user('y', 9n, 1n), user('b', 9n, 2n), user('c', 6n, 1n)],
      rule: 'paper',
    });
    // L2 = b(2), y(1), c(1); g = 2: D_2 = 3 ≤ S_2 = 3, 6·3 ≥ 5·3, so f = 2, t = 2.
    assert.deepEqual(o2.winningUsers, ['b', 'y']);
    assert.deepEqual(o2.winningProviders, ['a', 'm']);
    assert.deepEqual(o2.allocation, [
      { provider: 'a', user: 'b', units: 2n },
      { provider: 'm', user: 'y', units: 1n },
    ]);
  });
});

describe('validateDoubleAuctionInput', () => {
  const ok = (): { providers: ProviderAsk[]; users: UserBid[]; rule: WinnerRule } => ({
    providers: [provider('p0', 1n, 5n), provider('p1', 2n, 5n)],
    users: [user('u0', 9n, 1n), user('u1', 8n, 2n), user('u2', 7n, 3n), user('u3', 6n, 4n)],
    rule: 'safe',
  });

  test('accepts a well-formed input', () => {
    validateDoubleAuctionInput(ok());
  });

  const cases: [string, (i: ReturnType<typeof ok>) => void, string, unknown][] = [
    ['zero demand', (i) => (i.users[3] = user('u3', 6n, 0n)), 'users[3].demand', 0n],
    ['negative demand', (i) => (i.users[2] = user('u2', 6n, -4n)), 'users[2].demand', -4n],
    [
      'zero capacity',
      (i) => (i.providers[1] = provider('p1', 2n, 0n)),
      'providers[1].capacity',
      0n,
    ],
    ['negative ask', (i) => (i.providers[0] = provider('p0', -1n, 5n)), 'providers[0].ask', -1n],
    ['negative bid', (i) => (i.users[0] = user('u0', -9n, 1n)), 'users[0].bid', -9n],
    [
      'ask above MAX_PRICE',
      (i) => (i.providers[1] = provider('p1', MAX_PRICE + 1n, 5n)),
      'providers[1].ask',
      MAX_PRICE + 1n,
    ],
    [
      'demand above MAX_QUANTITY',
      (i) => (i.users[1] = user('u1', 8n, MAX_QUANTITY + 1n)),
      'users[1].demand',
      MAX_QUANTITY + 1n,
    ],
    ['bad id', (i) => (i.providers[1] = provider('p 1', 2n, 5n)), 'providers[1].id', 'p 1'],
    ['empty id', (i) => (i.users[2] = user('', 7n, 3n)), 'users[2].id', ''],
    ['duplicate user id', (i) => (i.users[3] = user('u0', 6n, 4n)), 'users[3].id', 'u0'],
    ['id shared across sides', (i) => (i.users[1] = user('p1', 8n, 2n)), 'users[1].id', 'p1'],
    [
      'duplicate provider id',
      (i) => (i.providers[1] = provider('p0', 2n, 5n)),
      'providers[1].id',
      'p0',
    ],
    ['unknown rule', (i) => ((i as { rule: string }).rule = 'fair'), 'rule', 'fair'],
    [
      'number instead of bigint',
      (i) => (i.users[0] = { ...i.users[0]!, demand: 1 as unknown as bigint }),
      'users[0].demand',
      1,
    ],
    [
      'wrong kind',
      (i) => (i.users[0] = { ...provider('u0', 1n, 1n) } as unknown as UserBid),
      'users[0].kind',
      'provider',
    ],
  ];
  for (const [name, mutate, field, value] of cases) {
    test(`refuses ${name}, naming ${field}`, () => {
      const input = ok();
      mutate(input);
      throwsInvalid(() => validateDoubleAuctionInput(input), field, value);
      throwsInvalid(() => runStarPadding(input), field, value);
    });
  }

  test('refuses a hole in a sparse array', () => {
    const users = [user('u0', 9n, 1n)];
    users.length = 3;
    users[2] = user('u2', 7n, 3n);
    throwsInvalid(() => runStarPadding({ ...ok(), users }), 'users[1]', undefined);
  });

  test('refuses lists that are not arrays', () => {
    throwsInvalid(
      () => runStarPadding({ ...ok(), users: null as unknown as UserBid[] }),
      'users',
      null,
    );
  });
});

describe('parseProviderAsk / parseUserBid', () => {
  test('accept numbers, numeric strings and bigints', () => {
    assert.deepEqual(parseUserBid({ id: 'u1', bid: 750000, demand: 12 }, 'bids[0]'), {
      kind: 'user',
      id: 'u1',
      bid: 750000n,
      demand: 12n,
    });
    assert.deepEqual(parseUserBid({ id: 'u1', bid: '750000', demand: 12n, kind: 'user' }, 'x'), {
      kind: 'user',
      id: 'u1',
      bid: 750000n,
      demand: 12n,
    });
    assert.deepEqual(parseProviderAsk({ id: 'p1', ask: 0, capacity: ' 40 ' }, 'asks[2]'), {
      kind: 'provider',
      id: 'p1',
      ask: 0n,
      capacity: 40n,
    });
    assert.deepEqual(
      parseProviderAsk({ id: 'p1', ask: MAX_PRICE, capacity: MAX_QUANTITY }, 'a'),
      provider('p1', MAX_PRICE, MAX_QUANTITY),
    );
  });

  const userCases: [string, Record<string, unknown>, string, unknown][] = [
    ['NaN bid', { id: 'u1', bid: NaN, demand: 1 }, 'bid', NaN],
    ['Infinity demand', { id: 'u1', bid: 1, demand: Infinity }, 'demand', Infinity],
    ['fractional demand', { id: 'u1', bid: 1, demand: 1.5 }, 'demand', 1.5],
    ['negative bid', { id: 'u1', bid: -1, demand: 1 }, 'bid', -1],
    ['zero demand', { id: 'u1', bid: 1, demand: 0 }, 'demand', 0],
    ['zero demand as string', { id: 'u1', bid: 1, demand: '0' }, 'demand', '0'],
    [
      'demand too large',
      { id: 'u1', bid: 1, demand: MAX_QUANTITY + 1n },
      'demand',
      MAX_QUANTITY + 1n,
    ],
    ['bid too large', { id: 'u1', bid: '1000000000001', demand: 1 }, 'bid', '1000000000001'],
    ['non-numeric string', { id: 'u1', bid: 'abc', demand: 1 }, 'bid', 'abc'],
    ['numeric prefix', { id: 'u1', bid: '12abc', demand: 1 }, 'bid', '12abc'],
    ['exponent string', { id: 'u1', bid: '1e3', demand: 1 }, 'bid', '1e3'],
    ['missing demand', { id: 'u1', bid: 1 }, 'demand', undefined],
    ['null bid', { id: 'u1', bid: null, demand: 1 }, 'bid', null],
    ['bad id', { id: 'u 1', bid: 1, demand: 1 }, 'id', 'u 1'],
    ['unknown key', { id: 'u1', bid: 1, demand: 1, demnd: 2 }, 'demnd', 2],
    ['wrong kind', { id: 'u1', bid: 1, demand: 1, kind: 'provider' }, 'kind', 'provider'],
  ];
  for (const [name, raw, key, value] of userCases) {
    test(`parseUserBid refuses ${name}`, () => {
      throwsInvalid(() => parseUserBid(raw, 'bids[4]'), `bids[4].${key}`, value);
    });
  }

  const providerCases: [string, Record<string, unknown>, string, unknown][] = [
    ['zero capacity', { id: 'p', ask: 1, capacity: 0 }, 'capacity', 0],
    ['negative ask', { id: 'p', ask: '-3', capacity: 1 }, 'ask', '-3'],
    ['NaN capacity', { id: 'p', ask: 1, capacity: NaN }, 'capacity', NaN],
    ['Infinity ask', { id: 'p', ask: -Infinity, capacity: 1 }, 'ask', -Infinity],
    ['fractional ask', { id: 'p', ask: 0.5, capacity: 1 }, 'ask', 0.5],
    ['unsafe integer', { id: 'p', ask: 2 ** 60, capacity: 1 }, 'ask', 2 ** 60],
  ];
  for (const [name, raw, key, value] of providerCases) {
    test(`parseProviderAsk refuses ${name}`, () => {
      throwsInvalid(() => parseProviderAsk(raw, 'asks[1]'), `asks[1].${key}`, value);
    });
  }

  test('refuse a non-object', () => {
    throwsInvalid(() => parseUserBid(null, 'bids[0]'), 'bids[0]', null);
    throwsInvalid(() => parseProviderAsk([1, 2], 'asks[0]'), 'asks[0]', [1, 2]);
    throwsInvalid(() => parseProviderAsk('p', 'asks[0]'), 'asks[0]', 'p');
  });
});

describe('size', () => {
  // Speed is measured by `npm run bench -- scale`, never asserted here.
  test('10^5 users and 10^3 providers: a feasible trade with Φ ≥ 0', () => {
    let x = 123456789;
    const next = (mod: number): bigint => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return BigInt((x >>> 0) % mod);
    };
    const users = Array.from({ length: 100_000 }, (_, i) =>
      user(`u${i}`, 750_000n + next(500_001), 1n + next(1000)),
    );
    const providers = Array.from({ length: 1000 }, (_, k) =>
      provider(`p${k}`, 1n + next(1_000_000), 1n + next(100_000)),
    );

    for (const rule of ['safe', 'paper'] as const) {
      const o = runStarPadding({ providers, users, rule });

      assert.ok(o.winningUsers.length > 0);
      assert.ok(o.surplus >= 0n);
      const served = o.allocation.reduce((t, a) => t + a.units, 0n);
      const winners = new Set(o.winningUsers);
      const demanded = users.filter((u) => winners.has(u.id)).reduce((t, u) => t + u.demand, 0n);
      assert.equal(served, demanded);
    }
  });
});
