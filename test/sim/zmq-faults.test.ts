/**
 * Faults over real ZeroMQ on loopback (issue #7, item 3): a connection cut for 500 ms in the
 * middle of a round, duplicated frames, a peer that sends nothing. Expected every time: the
 * same outcome as the mechanism run centrally, or a clean ⊥ at the deadline; never a hang.
 *
 * The cut is a TCP proxy on one directed channel (provider 0's DEALER to provider 1's ROUTER)
 * that drops its connections and refuses new ones for 500 ms: the two providers keep their
 * sockets and their round state, as with a real link failure, and ZeroMQ reconnects on its own.
 * Closing and recreating a transport instead would change a provider (new sockets, a core bound
 * to the old transport), which is a restart, not a network fault.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { equalBytes } from '../../src/core/bytes.js';
import { encodeDoubleOutcome } from '../../src/mechanisms/double/codec.js';
import { runStarPadding } from '../../src/mechanisms/double/star.js';
import { AbortCode } from '../../src/protocol/abort.js';
import type { RoundResult } from '../../src/protocol/fast-round.js';
import type { Transport } from '../../src/transport/transport.js';
import { startMesh, within, type Mesh } from './zmq-mesh.js';

const PHASE_MS = 3_000;
/** A round ends by its last deadline: START plus four phases, and slack for the machine. */
const LIMIT_MS = PHASE_MS * 5 + 5_000;

function central(mesh: Mesh): Uint8Array {
  const { providers, users } = mesh.scenario;
  return encodeDoubleOutcome(runStarPadding({ providers, users, rule: 'safe' }));
}

/** Either every result is the centralised outcome, or every one is a clean ⊥. */
function sameOutcomeOrCleanAbort(mesh: Mesh, results: RoundResult[]): 'outcome' | 'abort' {
  if (results.every((r) => r.ok)) {
    for (const r of results) assert.ok(r.ok && equalBytes(r.outcomeBytes, central(mesh)));
    return 'outcome';
  }
  for (const r of results) {
    if (r.ok) {
      assert.ok(equalBytes(r.outcomeBytes, central(mesh)), 'an output must still be correct');
      continue;
    }
    const clean = [AbortCode.TIMEOUT, AbortCode.PEER_ABORT].includes(r.reason.code as 8 | 9);
    assert.ok(clean, `not a clean ⊥: ${r.reason.message}`);
  }
  return 'abort';
}

describe('faults over ZeroMQ on loopback', { timeout: 60_000 }, () => {
  test('a connection dropped for 500 ms in the middle of a round', async (t) => {
    const mesh = await startMesh({
      m: 3,
      k: 1,
      users: 30,
      phaseTimeoutMs: PHASE_MS,
      startTimeoutMs: PHASE_MS,
      latencyMs: 100,
      proxied: [[0, 1]],
    });
    try {
      // A first round brings every connection up, through the proxy too.
      await within(Promise.all(mesh.round(1n)), LIMIT_MS, 'the warm-up round');
      const proxy = mesh.proxies.get('0->1')!;
      assert.ok(proxy.bytes > 0);

      // Round 2: cut 0 → 1 once the round is under way, for 500 ms.
      const t0 = Date.now();
      const pending = mesh.round(2n);
      let done = 0;
      for (const p of pending) void p.then(() => done++);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(done, 0, 'the cut must fall in the middle of the round');
      proxy.pause(500);

      const results = await within(Promise.all(pending), LIMIT_MS, 'the round after a cut');
      const how = sameOutcomeOrCleanAbort(mesh, results);
      t.diagnostic(
        `ended in ${how} after ${Date.now() - t0} ms; ${proxy.refused} reconnections refused`,
      );
    } finally {
      await mesh.stop();
    }
  });

  test('duplicated frames: every frame sent twice, the same outcome', async () => {
    const twice = (_i: number, t: Transport): Transport => ({
      self: t.self,
      size: t.size,
      send: (to, frame) => {
        t.send(to, frame);
        t.send(to, frame);
      },
      broadcast: (frame) => {
        t.broadcast(frame);
        t.broadcast(frame);
      },
      onFrame: (h) => t.onFrame(h),
      stats: () => t.stats(),
      close: () => t.close(),
    });
    const mesh = await startMesh({
      m: 5,
      k: 2,
      users: 20,
      phaseTimeoutMs: PHASE_MS,
      startTimeoutMs: PHASE_MS,
      wrap: twice,
    });
    try {
      const results = await within(Promise.all(mesh.round(1n)), LIMIT_MS, 'the round');
      assert.equal(sameOutcomeOrCleanAbort(mesh, results), 'outcome');
    } finally {
      await mesh.stop();
    }
  });

  test('a peer that sends nothing: ⊥ at the START deadline naming it, no hang', async () => {
    const mesh = await startMesh({
      m: 3,
      k: 1,
      users: 10,
      phaseTimeoutMs: PHASE_MS,
      startTimeoutMs: PHASE_MS,
      silent: [2],
    });
    try {
      const t0 = Date.now();
      const results = await within(Promise.all(mesh.round(1n)), LIMIT_MS, 'the round');
      const took = Date.now() - t0;
      assert.ok(took >= PHASE_MS - 50 && took < PHASE_MS + 2_000, `ended after ${took} ms`);
      for (const r of results) {
        assert.ok(!r.ok);
        assert.ok(
          r.reason.code === AbortCode.TIMEOUT || r.reason.code === AbortCode.PEER_ABORT,
          r.reason.message,
        );
        assert.deepEqual(r.reason.blamed, [2], r.reason.message);
      }
    } finally {
      await mesh.stop();
    }
  });
});
