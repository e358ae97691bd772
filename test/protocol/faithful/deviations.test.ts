/**
 * protocols.md §11 items 3 and 5 for the faithful mode: equivocation, bad shares, values out of
 * range, wrong openings, another session, bad signatures and silence all end in ⊥ naming the
 * provider at fault, with signed evidence where the fault can be proven.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Reader, equalBytes } from '../../../src/core/bytes.js';
import { AbortCode } from '../../../src/protocol/abort.js';
import {
  BROADCAST,
  openEnvelope,
  sealEnvelope,
  verifyEnvelope,
} from '../../../src/protocol/envelope.js';
import { Verifier } from '../../../src/protocol/identity.js';
import { Phase, type PhaseCode } from '../../../src/protocol/phases.js';
import type { OutgoingHook, RoundFailure } from '../../../src/protocol/fast-round.js';
import type { ClusterParams } from '../../../src/protocol/session.js';
import { IDS, agreementFor, failures, setupRound } from './harness.js';

/** Rewrites one phase's payload for the given peers (all when omitted). */
function rewrite(
  phase: PhaseCode,
  change: (payload: Uint8Array) => Uint8Array,
  only?: (peer: number) => boolean,
): OutgoingHook {
  return (p, payload, peers) =>
    p === phase
      ? new Map(peers.filter((x) => only?.(x) ?? true).map((x) => [x, change(payload)]))
      : null;
}

function flipAt(bytes: Uint8Array, i: number): Uint8Array {
  const out = bytes.slice();
  out[i] = out[i]! ^ 0xff;
  return out;
}

/** Every honest provider aborted with `code`, blaming exactly `blamed`. */
function allBlame(f: RoundFailure[], code: number, blamed: number[], pattern?: RegExp): void {
  for (const x of f) {
    assert.equal(x.reason.code, code, x.reason.message);
    assert.deepEqual(x.reason.blamed, blamed, x.reason.message);
    if (pattern) assert.match(x.reason.message, pattern);
  }
}

/** The evidence is validly signed by `signer` envelopes of `phase`. */
function signedBy(evidence: readonly Uint8Array[], signer: number, phase: PhaseCode): void {
  const v = new Verifier(IDS[signer]!.publicKey);
  for (const e of evidence) {
    const env = openEnvelope(e, 1 << 26);
    assert.equal(env.from, signer);
    assert.equal(env.phase, phase);
    assert.ok(verifyEnvelope(env, v));
  }
}

describe('equivocation (§11.3)', () => {
  test('crypto: two different signed commitments are ⊥ with both as evidence', async () => {
    const deviate = {
      3: rewrite(
        Phase.BA_COMMIT,
        (p) => flipAt(p, 0),
        (x) => x % 2 === 0,
      ),
    };
    const s = setupRound({ m: 5, k: 2, ks: 'crypto', seed: 'eq-ba', deviate });
    const f = failures(await s.run(), [0, 1, 2, 4]);
    allBlame(f, AbortCode.EQUIVOCATION, [3]);
    for (const x of f) {
      assert.equal(x.reason.evidence.length, 2);
      assert.ok(!equalBytes(x.reason.evidence[0]!, x.reason.evidence[1]!));
      signedBy(x.reason.evidence, 3, Phase.BA_COMMIT);
    }
  });

  test('it: two different signed coin commitments are ⊥ with both as evidence', async () => {
    const deviate = {
      1: rewrite(
        Phase.CC_COMMIT,
        (p) => flipAt(p, 40),
        (x) => x === 2,
      ),
    };
    const s = setupRound({ m: 3, k: 1, ks: 'it', seed: 'eq-cc', deviate });
    const f = failures(await s.run(), [0, 2]);
    allBlame(f, AbortCode.EQUIVOCATION, [1]);
    for (const x of f) signedBy(x.reason.evidence, 1, Phase.CC_COMMIT);
  });

  test('it: a second, different share to the same provider is ⊥ with both shares', async () => {
    const s = setupRound({ m: 3, k: 1, ks: 'it', users: 4, seed: 'eq-share' });
    const width = (4 + 3) * 71;
    const forged = sealEnvelope(IDS[1]!, {
      phase: Phase.KS_SHARE,
      sid: s.sid,
      from: 1,
      to: 0,
      payload: new Uint8Array(2 * width),
    });
    s.network[0]!.network.inject(1, 0, forged);
    const f = failures(await s.run(), [0, 2]);
    allBlame(f, AbortCode.EQUIVOCATION, [1]);
    for (const x of f) signedBy(x.reason.evidence, 1, Phase.KS_SHARE);
  });
});

describe('bad shares, values out of range, wrong openings (§11.5)', () => {
  test('it: shares off one polynomial are ⊥ naming the dealer, proven by its shares', async () => {
    // Provider 1 gives provider 3 a share that is off its polynomial in lane 5.
    const bump = (p: Uint8Array) => {
      const out = p.slice();
      out[11] = (out[11]! + 1) & 0xff;
      return out;
    };
    const deviate = { 1: rewrite(Phase.KS_SHARE, bump, (x) => x === 3) };
    const s = setupRound({ m: 5, k: 2, ks: 'it', seed: 'bad-share', deviate });
    const f = failures(await s.run(), [0, 2, 3, 4]);
    allBlame(f, AbortCode.BAD_MESSAGE, [1], /dealt shares that do not lie on one polynomial/);

    // k+2 signed shares of the dealer: anyone can check them, and the ABORT convinces peers.
    const evidence = f[0]!.reason.evidence;
    assert.equal(evidence.length, 4);
    signedBy(evidence, 1, Phase.KS_SHARE);
    const proven = agreementFor(s, 4).provenFault(evidence);
    assert.deepEqual(proven?.blamed, [1]);
    assert.equal(agreementFor(s, 4).provenFault(evidence.slice(0, 3)), null);
  });

  test('it: a share that is not a field element is ⊥ naming the dealer at once', async () => {
    const big = (p: Uint8Array) => {
      const out = p.slice();
      out[0] = 0xff;
      out[1] = 0xff;
      return out;
    };
    const deviate = { 1: rewrite(Phase.KS_SHARE, big, (x) => x === 0) };
    const s = setupRound({ m: 3, k: 1, ks: 'it', seed: 'not-field', deviate });
    const f = failures(await s.run(), [0, 2]);
    allBlame(f, AbortCode.BAD_MESSAGE, [1], /not below 65521|not field elements/);
    assert.equal(f[0]!.reason.phase, Phase.KS_SHARE);
  });

  test('it: a shared value that is not a bit is ⊥ naming the dealer', async () => {
    const hooks = { 2: { inputs: (x: Uint16Array) => void (x[0] = 2) } };
    const s = setupRound({ m: 5, k: 2, ks: 'it', seed: 'not-bit', hooks });
    const f = failures(await s.run(), [0, 1, 3, 4]);
    allBlame(f, AbortCode.BAD_MESSAGE, [2], /shared 2 in lane 0 .*out of range/);
    assert.equal(f[0]!.reason.evidence.length, 3);
    assert.deepEqual(agreementFor(s, 0).provenFault(f[0]!.reason.evidence)?.blamed, [2]);
  });

  test('it + leader: a ρ that is not below m is ⊥ naming the dealer', async () => {
    const lanes = (12 + 3) * 71;
    const hooks = { 1: { inputs: (x: Uint16Array) => void (x[lanes + 4] = 3) } };
    const s = setupRound({ m: 3, k: 1, ks: 'it', rule: 'leader', seed: 'rho', hooks });
    const f = failures(await s.run(), [0, 2]);
    allBlame(f, AbortCode.BAD_MESSAGE, [1], /shared 3 in the leader lane of bidder .* range/);
  });

  test('crypto: lanes that do not open the commitment are ⊥ with both as evidence', async () => {
    // BA_REVEAL = u32 length ‖ packed lanes ‖ R_j ‖ nonce ‖ echo: alter R_j.
    const alterSeed = (p: Uint8Array) => flipAt(p, 4 + new Reader(p).u32());
    const deviate = { 1: rewrite(Phase.BA_REVEAL, alterSeed) };
    const s = setupRound({ m: 3, k: 1, ks: 'crypto', seed: 'open-ks', deviate });
    const f = failures(await s.run(), [0, 2]);
    allBlame(f, AbortCode.BAD_OPENING, [1]);
    const [c, r] = f[0]!.reason.evidence.map((e) => openEnvelope(e, 1 << 26));
    assert.deepEqual([c!.phase, r!.phase], [Phase.BA_COMMIT, Phase.BA_REVEAL]);
    assert.deepEqual(agreementFor(s, 0).provenFault(f[0]!.reason.evidence)?.blamed, [1]);
  });

  test('a coin value that does not open its commitment is ⊥ naming the revealer', async () => {
    const deviate = { 2: rewrite(Phase.CC_REVEAL, (p) => flipAt(p, 0)) };
    const s = setupRound({ m: 3, k: 1, ks: 'it', seed: 'open-cc', deviate });
    const f = failures(await s.run(), [0, 1]);
    allBlame(f, AbortCode.BAD_OPENING, [2], /coin value/);
    assert.deepEqual(agreementFor(s, 0).provenFault(f[0]!.reason.evidence)?.blamed, [2]);
  });

  test('another agreed vector in CC_COMMIT is ⊥ before any coin value is revealed', async () => {
    const deviate = { 1: rewrite(Phase.CC_COMMIT, (p) => flipAt(p, 0)) };
    const s = setupRound({ m: 3, k: 1, ks: 'crypto', seed: 'iv', deviate });
    const f = failures(await s.run(), [0, 2]);
    for (const x of f) {
      // The first to see it says so; a peer that hears first reports the claim (PEER_ABORT).
      const codes: number[] = [AbortCode.INPUT_MISMATCH, AbortCode.PEER_ABORT];
      assert.ok(codes.includes(x.reason.code), x.reason.message);
      assert.deepEqual(x.reason.blamed, [1]);
      assert.equal(x.stats.phaseEnvelopes.CC_REVEAL, undefined);
    }
  });

  test('a provider with other session parameters (another sid) is ⊥ naming it', async () => {
    const paramsFor = {
      2: (p: ClusterParams) => ({
        ...p,
        faithful: { ...p.faithful!, bidders: p.faithful!.bidders.slice(1) },
      }),
    };
    const s = setupRound({ m: 3, k: 1, ks: 'it', seed: 'sid', paramsFor });
    const f = failures(await s.run(), [0, 1]);
    allBlame(f, AbortCode.PARAMS_MISMATCH, [2], /for session .* other session parameters/);
    signedBy(f[0]!.reason.evidence, 2, Phase.START);
  });

  test('a share sent as a broadcast is ⊥: shares travel point-to-point only', async () => {
    const s = setupRound({ m: 3, k: 1, ks: 'it', users: 4, seed: 'p2p' });
    const frame = sealEnvelope(IDS[1]!, {
      phase: Phase.KS_SHARE,
      sid: s.sid,
      from: 1,
      to: BROADCAST,
      payload: new Uint8Array(2 * 7 * 71),
    });
    s.network[0]!.network.inject(1, 0, frame);
    const f = failures(await s.run(), [0]);
    allBlame(f, AbortCode.BAD_MESSAGE, [1], /not addressed to this provider/);
  });

  test('a bad signature on a peer channel is ⊥ naming that peer', async () => {
    const s = setupRound({ m: 3, k: 1, ks: 'it', seed: 'sig' });
    s.network[0]!.network.setFilter((from, _to, frame) =>
      from === 1 ? flipAt(frame, frame.length - 1) : frame,
    );
    for (const x of failures(await s.run(), [0, 2])) {
      assert.ok(
        x.reason.code === AbortCode.BAD_SIGNATURE || x.reason.code === AbortCode.PEER_ABORT,
        x.reason.message,
      );
      assert.deepEqual(x.reason.blamed, [1]);
    }
  });

  test('a provider that withholds its KS_REVEAL is named at the deadline', async () => {
    const deviate: Record<number, OutgoingHook> = {
      2: (phase, _p, peers) =>
        phase === Phase.KS_REVEAL ? new Map(peers.map((x) => [x, null])) : null,
    };
    const s = setupRound({ m: 3, k: 1, ks: 'it', seed: 'silent', deviate, phaseTimeoutMs: 300 });
    for (const x of failures(await s.run(), [0, 1])) {
      assert.ok(
        x.reason.code === AbortCode.TIMEOUT || x.reason.code === AbortCode.PEER_ABORT,
        x.reason.message,
      );
      assert.ok(x.reason.blamed.includes(2), x.reason.message);
    }
  });
});
