import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Reader, Writer, equalBytes } from '../../src/core/bytes.js';
import { encodeDoubleBid, encodeDoubleOutcome } from '../../src/mechanisms/double/codec.js';
import { runStarPadding } from '../../src/mechanisms/double/star.js';
import { AbortCode } from '../../src/protocol/abort.js';
import type { RoundFailure, RoundOutcome, RoundResult } from '../../src/protocol/fast-round.js';
import { generateSigningIdentity } from '../../src/protocol/identity.js';
import { Phase } from '../../src/protocol/phases.js';
import { createTestCluster } from '../helpers/cluster.js';

const IDS = Array.from({ length: 8 }, () => generateSigningIdentity());

function outcomes(results: RoundResult[]): RoundOutcome[] {
  return results.map((r, i) => {
    assert.ok(r.ok, `provider ${i} aborted: ${r.ok ? '' : r.reason.message}`);
    return r;
  });
}

function failures(results: RoundResult[], honest: number[]): RoundFailure[] {
  return honest.map((i) => {
    const r = results[i]!;
    assert.equal(r.ok, false, `provider ${i} should have output ⊥`);
    return r as RoundFailure;
  });
}

describe('fast round, all providers follow', () => {
  for (const [m, k] of [
    [3, 1],
    [5, 2],
    [8, 3],
  ] as const) {
    for (const seed of ['s1', 's2', 's3']) {
      test(`m=${m} k=${k} schedule ${seed}: every provider outputs the centralised outcome`, async () => {
        const c = createTestCluster({ m, k, users: 25, seed, identities: IDS, maxDelayMs: 5 });
        const res = outcomes(await c.runRound(1n));

        const central = runStarPadding({
          providers: c.scenario.providers,
          users: c.scenario.users,
          rule: 'safe',
        });
        const centralBytes = encodeDoubleOutcome(central);
        for (const r of res) {
          assert.ok(equalBytes(r.outcomeBytes, centralBytes));
          assert.ok(equalBytes(r.seed, res[0]!.seed));
          assert.equal(r.agreedBids.length, m + 25);
        }
      });
    }
  }
});

describe('fast round, bidders', () => {
  test('an inconsistent bidder gets the majority bid, or is left out without one', async () => {
    const c = createTestCluster({ m: 5, k: 2, users: 6, seed: 'inc', identities: IDS });
    const u0 = c.scenario.users[0]!;
    const u1 = c.scenario.users[1]!;
    const res = outcomes(
      await c.runRound(1n, (p, j) => {
        const u = c.scenario.users[j]!;
        // u0: 3 of 5 providers get bid+1 (a majority); u1: every provider gets a different bid.
        if (j === 0) return encodeDoubleBid({ ...u0, bid: u0.bid + (p < 3 ? 1n : 0n) });
        if (j === 1) return encodeDoubleBid({ ...u1, bid: u1.bid + BigInt(p) });
        return encodeDoubleBid(u);
      }),
    );

    const agreed = res[0]!.agreedBids.map((b) => b.bidder);
    assert.ok(agreed.includes(u0.id));
    assert.ok(!agreed.includes(u1.id));
    assert.deepEqual(res[0]!.noMajority, [u1.id]);
    const u0bid = res[0]!.agreedBids.find((b) => b.bidder === u0.id)!;
    assert.ok(equalBytes(u0bid.bytes, encodeDoubleBid({ ...u0, bid: u0.bid + 1n })));
  });

  test('a bidder missing at some providers keeps its bid when a majority has it', async () => {
    const c = createTestCluster({ m: 3, k: 1, users: 4, seed: 'miss', identities: IDS });
    const res = outcomes(
      await c.runRound(1n, (p, j) =>
        j === 0 && p === 2 ? null : encodeDoubleBid(c.scenario.users[j]!),
      ),
    );
    assert.equal(res[2]!.agreedBids.length, 3 + 4);
  });
});

describe('fast round, deviating providers', () => {
  test('a provider that signs two different commitments is named by every honest one', async () => {
    const c = createTestCluster({
      m: 5,
      k: 2,
      seed: 'equiv',
      identities: IDS,
      deviate: {
        3: (phase, payload, peers) =>
          phase === Phase.BA_COMMIT
            ? new Map(peers.filter((p) => p % 2 === 0).map((p) => [p, flip(payload)]))
            : null,
      },
    });
    const res = await c.runRound(1n);
    for (const f of failures(res, [0, 1, 2, 4])) {
      assert.equal(f.reason.code, AbortCode.EQUIVOCATION, f.reason.message);
      assert.deepEqual(f.reason.blamed, [3]);
      assert.equal(f.reason.evidence.length, 2);
    }
  });

  test('a reveal that does not open the commitment is ⊥ naming the revealer', async () => {
    const c = createTestCluster({
      m: 3,
      k: 1,
      seed: 'open',
      identities: IDS,
      deviate: {
        1: (phase, payload, peers) =>
          phase === Phase.BA_REVEAL ? new Map(peers.map((p) => [p, alterRho(payload)])) : null,
      },
    });
    const res = await c.runRound(1n);
    for (const f of failures(res, [0, 2])) {
      assert.equal(f.reason.code, AbortCode.BAD_OPENING, f.reason.message);
      assert.deepEqual(f.reason.blamed, [1]);
    }
  });

  test('a provider announcing another outcome is ⊥ naming it', async () => {
    const c = createTestCluster({
      m: 3,
      k: 1,
      seed: 'out',
      identities: IDS,
      deviate: {
        0: (phase, payload, peers) =>
          phase === Phase.OUTCOME ? new Map(peers.map((p) => [p, flipAt(payload, 40)])) : null,
      },
    });
    const res = await c.runRound(1n);
    for (const f of failures(res, [1, 2])) {
      assert.equal(f.reason.code, AbortCode.OUTCOME_MISMATCH);
      assert.deepEqual(f.reason.blamed, [0]);
    }
  });

  test('a provider that withholds its reveal is named at the deadline', async () => {
    const c = createTestCluster({
      m: 3,
      k: 1,
      seed: 'silent',
      identities: IDS,
      phaseTimeoutMs: 300,
      deviate: {
        2: (phase, _payload, peers) =>
          phase === Phase.BA_REVEAL ? new Map(peers.map((p) => [p, null])) : null,
      },
    });
    const res = await c.runRound(1n);
    for (const f of failures(res, [0, 1])) {
      assert.ok(
        f.reason.code === AbortCode.TIMEOUT || f.reason.code === AbortCode.PEER_ABORT,
        f.reason.message,
      );
      assert.ok(f.reason.blamed.includes(2), f.reason.message);
    }
  });

  test('a frame with a bad signature on a peer channel is ⊥ naming that peer', async () => {
    const c = createTestCluster({ m: 3, k: 1, seed: 'sig', identities: IDS });
    c.network[0]!.network.setFilter((from, _to, frame) =>
      from === 1 ? flipAt(frame, frame.length - 1) : frame,
    );
    const res = await c.runRound(1n);
    for (const f of failures(res, [0, 2])) {
      assert.ok(
        f.reason.code === AbortCode.BAD_SIGNATURE || f.reason.code === AbortCode.PEER_ABORT,
        f.reason.message,
      );
      assert.deepEqual(f.reason.blamed, [1]);
    }
  });
});

function flip(payload: Uint8Array): Uint8Array {
  return flipAt(payload, 0);
}

function flipAt(bytes: Uint8Array, i: number): Uint8Array {
  const out = bytes.slice();
  out[i] = out[i]! ^ 0xff;
  return out;
}

function alterRho(reveal: Uint8Array): Uint8Array {
  const r = new Reader(reveal);
  const vector = r.bytes();
  const rho = flip(r.raw(32));
  return new Writer().bytes(vector).raw(rho).raw(r.raw(r.remaining)).finish();
}
