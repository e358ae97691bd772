import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toHex } from '../../src/core/bytes.js';
import { Drbg } from '../../src/protocol/drbg.js';

const seed = new Uint8Array(32).map((_, i) => i);

describe('Drbg', () => {
  test('golden bytes: HMAC-SHA256(seed, "DA/drbg/v1" ‖ u32(len) ‖ label ‖ u64(t))', () => {
    // Computed independently with Python's hmac module for this seed and label.
    assert.equal(toHex(new Drbg(seed, 'tiebreak').bytes(40)), GOLDEN_TIEBREAK_40);
  });

  test('same seed and label give the same stream; labels are independent', () => {
    const a = new Drbg(seed, 'x');
    const b = new Drbg(seed, 'x');
    assert.deepEqual(a.bytes(100), b.bytes(100));
    assert.notDeepEqual(new Drbg(seed, 'x').bytes(32), new Drbg(seed, 'y').bytes(32));
  });

  test('uniformInt stays in range and is roughly uniform (chi-square, 10 bins)', () => {
    const rng = new Drbg(seed, 'chi');
    const counts = new Array<number>(10).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[Number(rng.uniformInt(10n))]!++;
    const expected = n / 10;
    const chi = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    assert.ok(chi < 27.88, `chi-square ${chi} above the 0.1% critical value for 9 dof`);
    assert.equal(new Drbg(seed, 'one').uniformInt(1n), 0n);
  });

  test('weighted draws follow integer weights; shuffle is a permutation', () => {
    const rng = new Drbg(seed, 'w');
    const counts = [0, 0, 0];
    for (let i = 0; i < 9_000; i++) counts[rng.weighted([1n, 0n, 2n])]!++;
    assert.equal(counts[1], 0);
    assert.ok(Math.abs(counts[2]! / counts[0]! - 2) < 0.2);
    const xs = [1, 2, 3, 4, 5, 6];
    assert.deepEqual([...rng.shuffle(xs)].sort(), xs);
  });
});

const GOLDEN_TIEBREAK_40 =
  '251f0b747d36d7b61663d9403a44130c21055bdd170204d7fa1beb95296ce8820d5be0d047a7d4bf';
