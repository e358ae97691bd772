/**
 * What the adversarial simulator found in the round keeper (provider-core.ts route()), kept as
 * regression tests on a small in-memory cluster (fixed with D15: short frames go to the running
 * round, the early-frame buffer has a quota per peer).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeDoubleBid } from '../../src/mechanisms/double/codec.js';
import { MAX_EARLY_FRAMES } from '../../src/node/provider-core.js';
import { AbortCode } from '../../src/protocol/abort.js';
import type { RoundResult } from '../../src/protocol/fast-round.js';
import { generateSigningIdentity } from '../../src/protocol/identity.js';
import { createTestCluster, type TestCluster } from '../helpers/cluster.js';

const IDS = Array.from({ length: 3 }, () => generateSigningIdentity());

function submitAll(c: TestCluster, round: bigint): void {
  c.cores.forEach((core) =>
    c.scenario.users.forEach((u) => core.submitBid(round, u.id, encodeDoubleBid(u))),
  );
}

describe('the round keeper and junk from a peer', () => {
  test('a frame shorter than an envelope header is ⊥ naming its sender (D7)', async () => {
    const c = createTestCluster({ m: 3, k: 1, users: 4, seed: 'short', identities: IDS });
    submitAll(c, 1n);
    const results = c.cores.map((core) => core.close(1n));
    c.network[0]!.network.inject(1, 2, new Uint8Array(10).fill(0xee));

    const r2 = await results[2]!;
    assert.equal(r2.ok, false, 'provider 2 took a junk frame on provider 1’s channel silently');
    assert.equal((r2 as Extract<RoundResult, { ok: false }>).reason.code, AbortCode.BAD_MESSAGE);
    assert.deepEqual((r2 as Extract<RoundResult, { ok: false }>).reason.blamed, [1]);
    await Promise.all(results);
  });

  test("one peer's junk cannot crowd out honest peers' frames of the next round", async () => {
    const c = createTestCluster({
      m: 3,
      k: 1,
      users: 4,
      seed: 'flood',
      identities: IDS,
      phaseTimeoutMs: 400,
    });

    // Provider 1 floods provider 2 with short junk before round 1 opens there.
    for (let i = 0; i < MAX_EARLY_FRAMES; i++) {
      c.network[0]!.network.inject(1, 2, Uint8Array.of(i & 0xff, 1, 2));
    }
    await c.network[0]!.network.idle();

    // Providers 0 and 1 close first; provider 2 closes a little later, as skew allows.
    submitAll(c, 1n);
    const early = [c.cores[0]!.close(1n), c.cores[1]!.close(1n)];
    await new Promise((r) => setTimeout(r, 50));
    const late = c.cores[2]!.close(1n);
    const results = await Promise.all([...early, late]);

    for (const r of results) {
      if (r.ok) continue;
      assert.ok(!r.reason.blamed.includes(0), `honest provider 0 named: ${r.reason.message}`);
    }
  });
});
