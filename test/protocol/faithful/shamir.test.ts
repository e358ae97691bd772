import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { utf8 } from '../../../src/core/bytes.js';
import { sha256 } from '../../../src/core/hash.js';
import { Drbg } from '../../../src/protocol/drbg.js';
import {
  FIELD_PRIME,
  Reconstructor,
  dealShares,
  evaluationPoint,
  invMod,
  lagrangeWeights,
  modP,
  mulMod,
  randomFieldElements,
} from '../../../src/protocol/faithful/shamir.js';

function rng(label: string): (n: number) => Uint8Array {
  const d = new Drbg(sha256(utf8(label)), 'test');
  return (n) => d.bytes(n);
}

describe('GF(65521)', () => {
  test('invMod() is the inverse of every non-zero element tried, and refuses 0', () => {
    for (const a of [1, 2, 3, 1000, 65519, 65520]) assert.equal(mulMod(a, invMod(a)), 1);
    assert.throws(() => invMod(0), RangeError);
  });

  test('modP() equals % on the whole range the inner loops produce', () => {
    const d = new Drbg(sha256(utf8('modp')), 'test');
    for (let i = 0; i < 20_000; i++) {
      const x = Number(d.uniformInt(1n << 40n));
      assert.equal(modP(x), x % FIELD_PRIME);
    }
    for (const x of [0, FIELD_PRIME - 1, FIELD_PRIME, 2 ** 34 - 1, 2 ** 40]) {
      assert.equal(modP(x), x % FIELD_PRIME);
    }
  });

  test('randomFieldElements() stays below p', () => {
    const xs = randomFieldElements(10_000, rng('elements'));
    assert.ok(xs.every((x) => x < FIELD_PRIME));
  });

  test('lagrangeWeights() interpolate a known polynomial f(z) = 5 + 3z + 2z²', () => {
    const f = (z: number) => (5 + 3 * z + 2 * z * z) % FIELD_PRIME;
    const xs = [1, 2, 3];
    for (const z of [0, 4, 7]) {
      const w = lagrangeWeights(xs, z);
      const v = xs.reduce((s, x, t) => (s + w[t]! * f(x)) % FIELD_PRIME, 0);
      assert.equal(v, f(z));
    }
  });
});

describe('Shamir sharing on lanes', () => {
  for (const [m, k] of [
    [3, 1],
    [5, 2],
    [8, 3],
  ] as const) {
    test(`m=${m} k=${k}: deal then reconstruct returns every secret`, () => {
      const secrets = Uint16Array.from({ length: 500 }, (_, l) => (l * 7919) % FIELD_PRIME);
      const shares = dealShares(secrets, k, m, rng(`deal-${m}`));
      assert.equal(shares.length, m);
      const out = new Uint16Array(secrets.length);
      assert.deepEqual(new Reconstructor(m, k).reconstruct(shares, out), { ok: true });
      assert.deepEqual(out, secrets);
    });
  }

  test('a share off the polynomial is found, with its lane and reporter', () => {
    const secrets = new Uint16Array(100).fill(1);
    const shares = dealShares(secrets, 2, 5, rng('off'));
    shares[4]![37] = (shares[4]![37]! + 1) % FIELD_PRIME;
    const res = new Reconstructor(5, 2).reconstruct(shares, new Uint16Array(100));
    assert.deepEqual(res, { ok: false, lane: 37, reporter: 4 });
  });

  test('k shares of a bit are uniform: both secrets explain every k-share view', () => {
    // With k = 1, one share y at α = 1 fits f(z) = s + (y − s)z for s = 0 and s = 1 alike.
    const shares = dealShares(Uint16Array.from([0, 1]), 1, 3, rng('privacy'));
    for (const s of [0, 1]) {
      for (const l of [0, 1]) {
        const slope = (shares[0]![l]! - s + FIELD_PRIME) % FIELD_PRIME;
        assert.equal((s + slope * evaluationPoint(0)) % FIELD_PRIME, shares[0]![l]);
      }
    }
  });
});
