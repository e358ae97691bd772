import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { toHex } from '../../src/core/bytes.js';
import { generateSigningIdentity } from '../../src/protocol/identity.js';
import { checkClusterParams, sessionId, type ClusterParams } from '../../src/protocol/session.js';

function params(m: number, k: number): ClusterParams {
  return {
    clusterId: 'c',
    k,
    providers: Array.from({ length: m }, (_, i) => ({
      id: `p${i}`,
      signingKey: generateSigningIdentity().publicKey,
    })),
    agreement: 'fast',
    mechanismParams: new Uint8Array([1]),
  };
}

describe('session parameters', () => {
  test('m ≥ 2k+1 is enforced', () => {
    assert.throws(
      () => checkClusterParams(params(4, 2)),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /4 providers cannot tolerate k = 2; m ≥ 2k\+1 = 5/);
        return true;
      },
    );
    checkClusterParams(params(5, 2));
    checkClusterParams(params(3, 1));
  });

  test('duplicate ids are refused', () => {
    const p = params(3, 1);
    const dup = {
      ...p,
      providers: [p.providers[0]!, { ...p.providers[1]!, id: 'p0' }, p.providers[2]!],
    };
    assert.throws(() => checkClusterParams(dup), /share an id/);
  });

  test('the session id changes with the round and with every parameter', () => {
    const p = params(3, 1);
    const base = toHex(sessionId(p, 1n));
    assert.equal(toHex(sessionId(p, 1n)), base);
    assert.notEqual(toHex(sessionId(p, 2n)), base);
    assert.notEqual(toHex(sessionId({ ...p, clusterId: 'd' }, 1n)), base);
    assert.notEqual(toHex(sessionId({ ...p, k: 0 }, 1n)), base);
    assert.notEqual(toHex(sessionId({ ...p, mechanismParams: new Uint8Array([2]) }, 1n)), base);
  });
});
