import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { parseCluster } from '../../src/node/cluster.js';
import { formatPublicKey, generateSigningIdentity } from '../../src/protocol/identity.js';
import { generateCurveKeyPair } from '../../src/transport/curve.js';

function file(m: number, k: number): Record<string, unknown> {
  return {
    clusterId: 'c1',
    k,
    auction: { kind: 'double' },
    providers: Array.from({ length: m }, (_, i) => ({
      id: `gw-${i}`,
      peerAddress: `tcp://127.0.0.1:${7000 + i}`,
      clientAddress: `tcp://127.0.0.1:${7100 + i}`,
      signingKey: formatPublicKey(generateSigningIdentity().publicKey),
      curveKey: generateCurveKeyPair().publicKey,
    })),
  };
}

function refusal(json: unknown): string {
  try {
    parseCluster(json, 'c.json');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('accepted');
}

describe('cluster file', () => {
  test('a valid file gets defaults (fast agreement, safe rule, deadlines)', () => {
    const c = parseCluster(file(3, 1));
    assert.equal(c.file.agreement, 'fast');
    assert.deepEqual(c.file.auction, { kind: 'double', rule: 'safe' });
    assert.equal(c.file.timing.phaseTimeoutMs, 10_000);
    assert.equal(c.params.providers.length, 3);
  });

  test('errors name the field and the reason', () => {
    assert.match(refusal(file(4, 2)), /c\.json: .*4 providers cannot tolerate k = 2/);
    const f = file(3, 1);
    (f.providers as Record<string, unknown>[])[1]!.peerAddress = 'localhost:7';
    assert.match(refusal(f), /c\.json: providers\.1\.peerAddress: a tcp:\/\/host:port address/);
    const g = file(3, 1);
    (g.providers as Record<string, unknown>[])[2]!.signingKey = 'abc';
    assert.match(refusal(g), /providers\.2\.signingKey/);
    assert.match(refusal({ ...file(3, 1), k: -1 }), /k:/);
    assert.match(refusal({ ...file(3, 1), auction: { kind: 'triple' } }), /auction/);
  });
});
