/** Z85 and CURVE key helpers, and the pairwise routing ids the mesh authenticates with. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../src/core/errors.js';
import {
  checkCurveKeyPair,
  generateCurveKeyPair,
  pairwiseRoutingId,
  parseCurveKey,
  z85Decode,
  z85Encode,
} from '../../src/transport/curve.js';

describe('z85', () => {
  it('matches the RFC 32 test vector', () => {
    const bytes = new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);

    assert.equal(z85Encode(bytes), 'HelloWorld');
    assert.deepEqual(z85Decode('HelloWorld'), bytes);
  });

  it('round-trips any multiple of 4 bytes', () => {
    const arb = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }).map((xs) => {
      return new Uint8Array(xs.slice(0, xs.length - (xs.length % 4)));
    });

    fc.assert(fc.property(arb, (bytes) => assert.deepEqual(z85Decode(z85Encode(bytes)), bytes)));
  });

  it('refuses bad lengths and characters', () => {
    assert.throws(() => z85Decode('abcd'), RangeError);
    assert.throws(() => z85Decode('abcd"'), RangeError);
    assert.throws(() => z85Decode('#####'), RangeError);
    assert.throws(() => z85Encode(new Uint8Array(3)), RangeError);
  });
});

describe('CURVE keys', () => {
  it('generates 40-character key pairs that check out', () => {
    const k = generateCurveKeyPair();

    assert.equal(k.publicKey.length, 40);
    assert.equal(parseCurveKey('k', k.secretKey).length, 32);
    assert.doesNotThrow(() => checkCurveKeyPair(k.publicKey, k.secretKey));
  });

  it('refuses a public key that belongs to another secret key', () => {
    const [a, b] = [generateCurveKeyPair(), generateCurveKeyPair()];

    assert.throws(() => checkCurveKeyPair(a.publicKey, b.secretKey), ConfigError);
    assert.throws(() => parseCurveKey('k', 'short'), ConfigError);
  });

  it('pairwise routing ids agree on both ends and depend on direction', () => {
    const [a, b, c] = [generateCurveKeyPair(), generateCurveKeyPair(), generateCurveKeyPair()];
    const ab = pairwiseRoutingId(a, b.publicKey, 'sender');

    assert.equal(pairwiseRoutingId(b, a.publicKey, 'receiver'), ab);
    assert.notEqual(pairwiseRoutingId(b, a.publicKey, 'sender'), ab);
    assert.notEqual(pairwiseRoutingId(c, b.publicKey, 'sender'), ab);
    assert.match(ab, /^[0-9a-f]{64}$/);
  });
});
