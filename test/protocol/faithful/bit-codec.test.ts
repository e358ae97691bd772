import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { equalBytes, toHex } from '../../../src/core/bytes.js';
import { ConfigError, InvalidMessageError } from '../../../src/core/errors.js';
import { MAX_PRICE, MAX_QUANTITY } from '../../../src/core/units.js';
import { encodeDoubleBid } from '../../../src/mechanisms/double/codec.js';
import {
  bitCodecFor,
  doubleBitCodec,
  packBits,
  readBits,
  unpackBits,
  writeBits,
} from '../../../src/protocol/faithful/bit-codec.js';
import {
  checkFaithfulParams,
  sortedRegistry,
  type FaithfulParams,
} from '../../../src/protocol/faithful/params.js';
import { generateSigningIdentity } from '../../../src/protocol/identity.js';
import {
  checkClusterParams,
  clusterParamsHash,
  sessionId,
  type ClusterParams,
} from '../../../src/protocol/session.js';

const codec = doubleBitCodec(new Set(['gw-1']));
const L = codec.bits;

describe('bit codec of the double auction', () => {
  test('L = 1 + 40 + 30 bits: a flag, then price and quantity at their bounds', () => {
    assert.equal(L, 71);
    assert.deepEqual(
      codec.fields.map((f) => [f.name, f.bits]),
      [
        ['price', 40],
        ['quantity', 30],
      ],
    );
    assert.ok(MAX_PRICE < 1n << 40n && MAX_QUANTITY < 1n << 30n);
  });

  test('a user bid and a provider ask round-trip to the same canonical bytes', () => {
    const bids = [
      encodeDoubleBid({ kind: 'user', id: 'u-1', bid: MAX_PRICE, demand: MAX_QUANTITY }),
      encodeDoubleBid({ kind: 'user', id: 'u-1', bid: 0n, demand: 1n }),
      encodeDoubleBid({ kind: 'provider', id: 'gw-1', ask: 123_456n, capacity: 77n }),
    ];
    for (const bytes of bids) {
      const id = bytes[0] === 1 ? 'gw-1' : 'u-1';
      const lanes = new Uint8Array(L + 3);
      assert.equal(codec.encode(id, bytes, lanes, 3), true);
      assert.equal(lanes[3], 1);
      const d = codec.decode(id, lanes, 3);
      assert.equal(d.status, 'bid');
      assert.ok(d.status === 'bid' && equalBytes(d.bytes, bytes));
    }
  });

  test('missing, foreign, mis-kinded or unparsable bids encode as the neutral bid', () => {
    const user = encodeDoubleBid({ kind: 'user', id: 'u-1', bid: 5n, demand: 5n });
    const ask = encodeDoubleBid({ kind: 'provider', id: 'u-1', ask: 5n, capacity: 5n });
    for (const [id, bytes] of [
      ['u-1', undefined],
      ['u-2', user],
      ['u-1', ask],
      ['gw-1', encodeDoubleBid({ kind: 'user', id: 'gw-1', bid: 5n, demand: 5n })],
      ['u-1', new Uint8Array([2, 0, 0])],
    ] as const) {
      const lanes = new Uint8Array(L).fill(1);
      assert.equal(codec.encode(id, bytes, lanes, 0), false);
      assert.ok(lanes.every((b) => b === 0));
      assert.deepEqual(codec.decode(id, lanes, 0), { status: 'neutral' });
    }
  });

  test('anything that is not a valid bid decodes as invalid (and so as neutral)', () => {
    const flagOff = new Uint8Array(L);
    flagOff[L - 1] = 1;
    assert.equal(codec.decode('u-1', flagOff, 0).status, 'invalid');

    const tooDear = new Uint8Array(L);
    tooDear[0] = 1;
    writeBits(tooDear, 1, MAX_PRICE + 1n, 40);
    writeBits(tooDear, 41, 1n, 30);
    const d = codec.decode('u-1', tooDear, 0);
    assert.equal(d.status, 'invalid');

    const noDemand = new Uint8Array(L);
    noDemand[0] = 1;
    assert.equal(codec.decode('u-1', noDemand, 0).status, 'invalid');
  });

  test('writeBits()/readBits() are big-endian and refuse values that do not fit', () => {
    const lanes = new Uint8Array(8);
    writeBits(lanes, 0, 0b1011n, 8);
    assert.deepEqual([...lanes], [0, 0, 0, 0, 1, 0, 1, 1]);
    assert.equal(readBits(lanes, 0, 8), 11n);
    assert.throws(() => writeBits(lanes, 0, 256n, 8), RangeError);
    assert.throws(() => writeBits(lanes, 0, -1n, 8), RangeError);
  });

  test('packBits() is MSB-first; unpackBits() refuses set padding and wrong lengths', () => {
    const lanes = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    const packed = packBits(lanes);
    assert.equal(toHex(packed), '81c0');
    assert.deepEqual(unpackBits(packed, 10), lanes);
    assert.throws(() => unpackBits(Uint8Array.from([0x81, 0xc1]), 10), InvalidMessageError);
    assert.throws(() => unpackBits(Uint8Array.from([0x81]), 10), InvalidMessageError);
  });

  test('bitCodecFor() refuses a mechanism without a fixed-width layout', () => {
    assert.throws(() => bitCodecFor({ kind: 'standard' }, new Set()), ConfigError);
    assert.equal(bitCodecFor({ kind: 'double' }, new Set()).bits, 71);
  });
});

describe('faithful session parameters', () => {
  const base: ClusterParams = {
    clusterId: 'c',
    k: 1,
    providers: ['p0', 'p1', 'p2'].map((id) => ({
      id,
      signingKey: generateSigningIdentity().publicKey,
    })),
    agreement: 'fast',
    mechanismParams: new Uint8Array([1]),
  };
  const faithful: FaithfulParams = {
    bidders: sortedRegistry(['u-2', 'p0', 'u-1']),
    ks: 'it',
    rule: 'majority',
  };

  test('sortedRegistry() sorts by byte order and refuses repeated or bad ids', () => {
    assert.deepEqual(sortedRegistry(['b', 'B', 'a', '0']), ['0', 'B', 'a', 'b']);
    assert.throws(() => sortedRegistry(['a', 'a']), /a appears twice/);
    assert.throws(() => sortedRegistry(['a b']), ConfigError);
  });

  test('faithful mode needs a sorted registry; fast mode ignores one', () => {
    assert.throws(() => checkClusterParams({ ...base, agreement: 'faithful' }), ConfigError);
    const unsorted = { ...faithful, bidders: ['u-1', 'p0'] };
    assert.throws(
      () => checkClusterParams({ ...base, agreement: 'faithful', faithful: unsorted }),
      /sorted/,
    );
    assert.throws(() => checkFaithfulParams({ ...faithful, ks: 'x' as 'it' }, 3), /ks/);
    checkClusterParams({ ...base, agreement: 'faithful', faithful });
  });

  test('the registry, flavour and rule are part of the parameter hash and the sid', () => {
    const p = { ...base, agreement: 'faithful' as const, faithful };
    const sid = toHex(sessionId(p, 1n));
    const variants: FaithfulParams[] = [
      { ...faithful, bidders: faithful.bidders.slice(1) },
      { ...faithful, ks: 'crypto' },
      { ...faithful, rule: 'leader' },
    ];
    for (const f of variants) assert.notEqual(toHex(sessionId({ ...p, faithful: f }, 1n)), sid);
    // Fast mode's hash is what it was before #4: a stray registry does not enter it.
    assert.equal(toHex(clusterParamsHash({ ...base, faithful })), toHex(clusterParamsHash(base)));
  });
});
