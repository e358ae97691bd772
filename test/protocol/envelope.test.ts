import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidMessageError } from '../../src/core/errors.js';
import {
  BROADCAST,
  ENVELOPE_OVERHEAD,
  openEnvelope,
  sealEnvelope,
  verifyEnvelope,
} from '../../src/protocol/envelope.js';
import { Verifier, generateSigningIdentity } from '../../src/protocol/identity.js';
import { Phase } from '../../src/protocol/phases.js';

const alice = generateSigningIdentity();
const bob = generateSigningIdentity();
const sid = new Uint8Array(32).fill(7);
const fields = {
  phase: Phase.BA_COMMIT,
  sid,
  from: 2,
  to: BROADCAST,
  payload: new Uint8Array([1, 2, 3]),
};

describe('envelope', () => {
  test('seal then open round-trips every field and verifies under the sender key', () => {
    const frame = sealEnvelope(alice, fields);
    assert.equal(frame.length, ENVELOPE_OVERHEAD + 3);
    const env = openEnvelope(frame, 1024);
    assert.equal(env.phase, Phase.BA_COMMIT);
    assert.deepEqual(env.sid, sid);
    assert.equal(env.from, 2);
    assert.equal(env.to, BROADCAST);
    assert.deepEqual(env.payload, new Uint8Array([1, 2, 3]));
    assert.ok(verifyEnvelope(env, new Verifier(alice.publicKey)));
    assert.ok(!verifyEnvelope(env, new Verifier(bob.publicKey)));
  });

  test('changing any byte breaks either parsing or the signature', () => {
    const frame = sealEnvelope(alice, fields);
    const v = new Verifier(alice.publicKey);
    for (let i = 0; i < frame.length; i++) {
      const bad = frame.slice();
      bad[i] = bad[i]! ^ 0x01;
      let accepted = false;
      try {
        accepted = verifyEnvelope(openEnvelope(bad, 1024), v);
      } catch (err) {
        assert.ok(err instanceof InvalidMessageError);
      }
      assert.equal(accepted, false, `byte ${i} flipped was accepted`);
    }
  });

  test('truncated, over-long and unknown-phase frames are refused', () => {
    const frame = sealEnvelope(alice, fields);
    for (const bad of [frame.subarray(0, 10), frame.subarray(0, frame.length - 1)]) {
      assert.throws(() => openEnvelope(bad, 1024), InvalidMessageError);
    }
    const longer = new Uint8Array(frame.length + 1);
    longer.set(frame);
    assert.throws(() => openEnvelope(longer, 1024), InvalidMessageError);
    const phase = frame.slice();
    phase[3] = 99;
    assert.throws(() => openEnvelope(phase, 1024), /unknown phase 99/);
    assert.throws(() => openEnvelope(frame, 2), /exceeds 2/);
  });
});
