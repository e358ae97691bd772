import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InvalidMessageError } from '../../src/core/errors.js';
import { Writer } from '../../src/core/bytes.js';
import { decideMajority, decodeBidVector, encodeBidVector } from '../../src/protocol/bid-vector.js';

const b = (bidder: string, ...bytes: number[]) => ({ bidder, bytes: new Uint8Array(bytes) });

describe('bid vector', () => {
  test('encoding is canonical: order of input does not matter, decode inverts it', () => {
    const v = [b('u2', 2), b('u1', 1), b('p0', 9, 9)];
    const bytes = encodeBidVector(v);
    assert.deepEqual(bytes, encodeBidVector([...v].reverse()));
    assert.deepEqual(
      decodeBidVector(bytes).map((x) => x.bidder),
      ['p0', 'u1', 'u2'],
    );
  });

  test('decode refuses unsorted, duplicate and malformed vectors', () => {
    const unsorted = new Writer().u32(2).string('u2').bytes(new Uint8Array(1)).string('u1');
    unsorted.bytes(new Uint8Array(1));
    assert.throws(() => decodeBidVector(unsorted.finish()), /out of order/);
    const dup = new Writer().u32(2).string('u1').bytes(new Uint8Array(1)).string('u1');
    dup.bytes(new Uint8Array(1));
    assert.throws(() => decodeBidVector(dup.finish()), /out of order/);
    const badId = new Writer().u32(1).string('u 1').bytes(new Uint8Array(1)).finish();
    assert.throws(() => decodeBidVector(badId), /bad bidder id/);
    assert.throws(() => decodeBidVector(new Uint8Array([0, 0, 0, 5])), InvalidMessageError);
  });

  test('random bytes never crash the decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeBidVector(bytes);
        } catch (err) {
          assert.ok(err instanceof InvalidMessageError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('majority: a value held by more than m/2 providers wins; otherwise the bidder is out', () => {
    const vectors = [
      [b('u1', 1), b('u2', 5)],
      [b('u1', 1), b('u2', 6)],
      [b('u1', 2), b('u2', 7), b('u3', 1)],
    ];
    const { agreed, noMajority } = decideMajority(vectors);
    assert.deepEqual(agreed, [b('u1', 1)]);
    assert.deepEqual(noMajority, ['u2', 'u3']);
  });

  test('majority with even m: exactly half is not a majority', () => {
    const vectors = [[b('u1', 1)], [b('u1', 1)], [b('u1', 2)], [b('u1', 2)]];
    assert.deepEqual(decideMajority(vectors).agreed, []);
  });

  test('a consistent bidder keeps its bid whatever k < m/2 others report (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.option(fc.integer({ min: 0, max: 3 })), { minLength: 9, maxLength: 9 }),
        (k, lies) => {
          const m = 2 * k + 1;
          const vectors = Array.from({ length: m }, (_, i) => {
            if (i >= m - k) {
              const lie = lies[i]!;
              return lie === null ? [] : [b('u', 100 + lie)];
            }
            return [b('u', 1)];
          });
          assert.deepEqual(decideMajority(vectors).agreed, [b('u', 1)]);
        },
      ),
    );
  });
});
