/**
 * Canonical encodings of double-auction bids and outcomes: fixed bytes, round trips
 * (property), and fail-closed decoding of truncated, extended and mutated bytes.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { Writer, toHex } from '../../../src/core/bytes.js';
import { InvalidInputError, InvalidMessageError } from '../../../src/core/errors.js';
import { MAX_PRICE, MAX_QUANTITY } from '../../../src/core/units.js';
import {
  decodeDoubleBid,
  decodeDoubleOutcome,
  doubleOutcomeToJson,
  encodeDoubleBid,
  encodeDoubleOutcome,
  runStarPadding,
} from '../../../src/mechanisms/double/index.js';
import type {
  DoubleAuctionInput,
  DoubleAuctionOutcome,
  DoubleBid,
} from '../../../src/mechanisms/double/index.js';

const idArb = fc.stringMatching(/^[A-Za-z0-9._:@+/=-]{1,128}$/);
const priceArb = fc.oneof(
  fc.bigInt({ min: 0n, max: MAX_PRICE }),
  fc.constantFrom(0n, 1n, MAX_PRICE),
);
const quantityArb = fc.oneof(
  fc.bigInt({ min: 1n, max: MAX_QUANTITY }),
  fc.constantFrom(1n, MAX_QUANTITY),
);
const bidArb: fc.Arbitrary<DoubleBid> = fc
  .oneof(
    fc.record({
      kind: fc.constant('provider' as const),
      id: idArb,
      ask: priceArb,
      capacity: quantityArb,
    }),
    fc.record({
      kind: fc.constant('user' as const),
      id: idArb,
      bid: priceArb,
      demand: quantityArb,
    }),
  )
  .map((b) => ({ ...b })); // plain prototype, as decode returns

/** Random instances with a wide price range, so that outcomes trade and amounts get large. */
const inputArb: fc.Arbitrary<DoubleAuctionInput> = fc
  .record({
    asks: fc.array(fc.tuple(priceArb, quantityArb), { minLength: 1, maxLength: 6 }),
    bids: fc.array(fc.tuple(priceArb, quantityArb), { minLength: 1, maxLength: 10 }),
    rule: fc.constantFrom('safe' as const, 'paper' as const),
  })
  .map((s) => ({
    providers: s.asks.map(([ask, capacity], k) => ({
      kind: 'provider' as const,
      id: `p${k}`,
      ask,
      capacity,
    })),
    users: s.bids.map(([bid, demand], i) => ({
      kind: 'user' as const,
      id: `u${i}`,
      bid,
      demand,
    })),
    rule: s.rule,
  }));

// TV-P1 (A.7): a trading outcome with padding.
const TV_P1: DoubleAuctionInput = {
  providers: [
    ['P1', 8n, 50n],
    ['P2', 12n, 40n],
    ['P3', 15n, 45n],
    ['P4', 20n, 60n],
  ].map(([id, ask, capacity]) => ({
    kind: 'provider' as const,
    id: id as string,
    ask: ask as bigint,
    capacity: capacity as bigint,
  })),
  users: [
    ['T1', 80n, 20n],
    ['T2', 76n, 15n],
    ['T3', 70n, 30n],
    ['T4', 68n, 25n],
    ['T5', 50n, 5n],
    ['T6', 40n, 10n],
    ['T7', 35n, 30n],
    ['T8', 15n, 10n],
  ].map(([id, bid, demand]) => ({
    kind: 'user' as const,
    id: id as string,
    bid: bid as bigint,
    demand: demand as bigint,
  })),
  rule: 'safe',
};

/** Decoding must either fail with InvalidMessageError or return a value that re-encodes exactly. */
function decodesCanonicallyOrRefuses<T>(
  bytes: Uint8Array,
  decode: (b: Uint8Array) => T,
  encode: (v: T) => Uint8Array,
): 'refused' | 'decoded' {
  let value: T;
  try {
    value = decode(bytes);
  } catch (err) {
    assert.ok(err instanceof InvalidMessageError, `unexpected ${String(err)}`);
    assert.equal(err.code, 'INVALID_MESSAGE');
    return 'refused';
  }
  assert.equal(toHex(encode(value)), toHex(bytes), 'a decoded value must re-encode to its bytes');
  return 'decoded';
}

function refuses(bytes: Uint8Array, decode: (b: Uint8Array) => unknown): void {
  assert.throws(() => decode(bytes), InvalidMessageError);
}

describe('double bid encoding', () => {
  test('fixed layout: tag, u32-prefixed id, two big-endian u64', () => {
    const provider: DoubleBid = { kind: 'provider', id: 'p1', ask: 5n, capacity: 7n };
    const user: DoubleBid = { kind: 'user', id: 'u', bid: 750000n, demand: 12n };

    assert.equal(
      toHex(encodeDoubleBid(provider)),
      '01' + '00000002' + '7031' + '0000000000000005' + '0000000000000007',
    );
    assert.equal(
      toHex(encodeDoubleBid(user)),
      '02' + '00000001' + '75' + '00000000000b71b0' + '000000000000000c',
    );
  });

  test('round trip (property)', () => {
    fc.assert(
      fc.property(bidArb, (b) => {
        const bytes = encodeDoubleBid(b);
        assert.deepEqual(decodeDoubleBid(bytes), b);
        assert.deepEqual(encodeDoubleBid(decodeDoubleBid(bytes)), bytes);
      }),
      { numRuns: 300 },
    );
  });

  test('refuses to encode an invalid bid', () => {
    assert.throws(
      () => encodeDoubleBid({ kind: 'user', id: 'u', bid: 1n, demand: 0n }),
      (err: unknown) => err instanceof InvalidInputError && err.field === 'users[0].demand',
    );
    assert.throws(
      () => encodeDoubleBid({ kind: 'provider', id: 'p', ask: -1n, capacity: 1n }),
      InvalidInputError,
    );
    assert.throws(
      () => encodeDoubleBid({ kind: 'x', id: 'p' } as unknown as DoubleBid),
      InvalidInputError,
    );
  });

  test('refuses every truncation and any trailing byte', () => {
    const bytes = encodeDoubleBid({ kind: 'provider', id: 'p1', ask: 5n, capacity: 7n });
    for (let len = 0; len < bytes.length; len++) refuses(bytes.subarray(0, len), decodeDoubleBid);
    refuses(Uint8Array.of(...bytes, 0), decodeDoubleBid);
  });

  test('refuses unknown tags, out-of-range values and bad ids', () => {
    const raw = (tag: number, id: string, price: bigint, qty: bigint) =>
      new Writer().u8(tag).string(id).u64(price).u64(qty).finish();

    refuses(raw(0, 'p', 1n, 1n), decodeDoubleBid);
    refuses(raw(3, 'p', 1n, 1n), decodeDoubleBid);
    refuses(raw(255, 'p', 1n, 1n), decodeDoubleBid);
    refuses(raw(1, 'p', MAX_PRICE + 1n, 1n), decodeDoubleBid);
    refuses(raw(2, 'u', 1n, MAX_QUANTITY + 1n), decodeDoubleBid);
    refuses(raw(2, 'u', 1n, 0n), decodeDoubleBid);
    refuses(raw(1, 'p', (1n << 64n) - 1n, 1n), decodeDoubleBid);
    refuses(raw(1, '', 1n, 1n), decodeDoubleBid);
    refuses(raw(1, 'a b', 1n, 1n), decodeDoubleBid);
    refuses(raw(1, 'é', 1n, 1n), decodeDoubleBid);
    refuses(raw(1, 'x'.repeat(129), 1n, 1n), decodeDoubleBid);
    refuses(new Writer().u8(1).u32(2).raw(Uint8Array.of(0xc3, 0x28)).finish(), decodeDoubleBid);
    refuses(new Writer().u8(1).u32(0xffffffff).finish(), decodeDoubleBid);
    refuses(new Uint8Array(0), decodeDoubleBid);
  });

  test('mutated bytes are refused or decode canonically (property)', () => {
    fc.assert(
      fc.property(bidArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (b, at, byte) => {
        const bytes = encodeDoubleBid(b).slice();
        bytes[at % bytes.length] = byte;
        decodesCanonicallyOrRefuses(bytes, decodeDoubleBid, encodeDoubleBid);
      }),
      { numRuns: 500 },
    );
  });
});

describe('double outcome encoding', () => {
  test('round trip of TV-P1 and of a no-trade outcome', () => {
    for (const o of [
      runStarPadding(TV_P1),
      runStarPadding({ ...TV_P1, users: [], rule: 'paper' }),
    ]) {
      const bytes = encodeDoubleOutcome(o);
      assert.equal(bytes[0], 1, 'version byte');
      assert.deepEqual(decodeDoubleOutcome(bytes), o);
    }
  });

  test('round trip on random instances, amounts beyond u64 included (property)', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const o = runStarPadding(input);
        const bytes = encodeDoubleOutcome(o);
        assert.deepEqual(decodeDoubleOutcome(bytes), o);
        assert.deepEqual(encodeDoubleOutcome(decodeDoubleOutcome(bytes)), bytes);
      }),
      { numRuns: 300 },
    );

    const huge: DoubleAuctionOutcome = {
      ...runStarPadding(TV_P1),
      providerPayments: [{ id: 'P1', amount: MAX_PRICE * MAX_QUANTITY * 1_000_000n }],
      surplus: (1n << 128n) - 1n,
    };
    assert.deepEqual(decodeDoubleOutcome(encodeDoubleOutcome(huge)), huge);
  });

  test('the encoding is deterministic and depends on every field', () => {
    const o = runStarPadding(TV_P1);
    const bytes = toHex(encodeDoubleOutcome(o));
    assert.equal(toHex(encodeDoubleOutcome(structuredClone(o))), bytes);

    const variants: DoubleAuctionOutcome[] = [
      { ...o, rule: 'paper' },
      { ...o, clearingAsk: 21n },
      { ...o, clearingBid: null },
      { ...o, surplus: o.surplus + 1n },
      { ...o, welfare: o.welfare - 1n },
      { ...o, padding: [] },
      { ...o, winningUsers: o.winningUsers.slice(1) },
    ];
    for (const v of variants) assert.notEqual(toHex(encodeDoubleOutcome(v)), bytes);
  });

  test('refuses to encode a field it could not decode', () => {
    const o = runStarPadding(TV_P1);
    assert.throws(() => encodeDoubleOutcome({ ...o, surplus: -1n }), InvalidInputError);
    assert.throws(
      () => encodeDoubleOutcome({ ...o, clearingAsk: MAX_PRICE + 1n }),
      InvalidInputError,
    );
    assert.throws(() => encodeDoubleOutcome({ ...o, winningUsers: ['bad id'] }), InvalidInputError);
    assert.throws(
      () => encodeDoubleOutcome({ ...o, allocation: [{ provider: 'P1', user: 'T1', units: 0n }] }),
      InvalidInputError,
    );
  });

  test('refuses every truncation, trailing bytes, and bad headers', () => {
    const bytes = encodeDoubleOutcome(runStarPadding(TV_P1));
    for (let len = 0; len < bytes.length; len++) {
      refuses(bytes.subarray(0, len), decodeDoubleOutcome);
    }
    refuses(Uint8Array.of(...bytes, 0), decodeDoubleOutcome);

    const wrongVersion = bytes.slice();
    wrongVersion[0] = 2;
    refuses(wrongVersion, decodeDoubleOutcome);
    const wrongRule = bytes.slice();
    wrongRule[1] = 3;
    refuses(wrongRule, decodeDoubleOutcome);

    // A no-trade outcome ends with two absent prices (flags 0), then Φ and welfare (2 × 16).
    const none = encodeDoubleOutcome(runStarPadding({ ...TV_P1, users: [] }));
    const flagAt = none.length - 32 - 2;
    assert.deepEqual([none[flagAt], none[flagAt + 1]], [0, 0]);
    const badFlag = none.slice();
    badFlag[flagAt] = 2;
    refuses(badFlag, decodeDoubleOutcome);
  });

  test('mutated bytes are refused or decode canonically (property)', () => {
    const outcomes = [
      runStarPadding(TV_P1),
      runStarPadding({ ...TV_P1, rule: 'paper' }),
      runStarPadding({ ...TV_P1, users: [] }),
    ];
    const encoded = outcomes.map(encodeDoubleOutcome);
    let refused = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: encoded.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3,
        }),
        (which, edits) => {
          const bytes = encoded[which]!.slice();
          for (const [at, byte] of edits) bytes[at % bytes.length] = byte;
          const result = decodesCanonicallyOrRefuses(
            bytes,
            decodeDoubleOutcome,
            encodeDoubleOutcome,
          );
          if (result === 'refused') refused++;
        },
      ),
      { numRuns: 1000 },
    );
    assert.ok(refused > 0);
  });

  test('random bytes never crash the decoders', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        decodesCanonicallyOrRefuses(bytes, decodeDoubleOutcome, encodeDoubleOutcome);
        decodesCanonicallyOrRefuses(bytes, decodeDoubleBid, encodeDoubleBid);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('doubleOutcomeToJson', () => {
  test('bigints become decimal strings, null prices stay null', () => {
    const json = doubleOutcomeToJson(runStarPadding(TV_P1));
    const text = JSON.stringify(json);

    assert.deepEqual(JSON.parse(text), json);
    assert.equal(json.surplus, '975');
    assert.equal(json.clearingAsk, '20');
    assert.deepEqual((json.providerPayments as unknown[])[0], { id: 'P1', amount: '1000' });
    assert.deepEqual((json.allocation as unknown[])[0], {
      provider: 'P1',
      user: 'T1',
      units: '20',
    });

    const none = doubleOutcomeToJson(runStarPadding({ ...TV_P1, users: [] }));
    assert.equal(none.clearingAsk, null);
    assert.equal(none.clearingBid, null);
  });
});
