/**
 * protocols.md §11 item 4: the READY guard of §2.2, on a scripted schedule. m = 3, k = 1; the
 * coalition {2} is played by this test. It deals its share to provider 0 and holds back the one
 * for provider 1, so its polynomial is not yet fixed (one honest point, degree 1).
 *
 * Without the guard provider 0 reveals as soon as it holds every share: the coalition then holds
 * two points of each honest polynomial, learns every honest input, and still chooses its own
 * value, which then decides every split lane. With the guard no honest provider reveals before
 * every honest provider holds the coalition's share, so it learns nothing in time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Writer, toHex } from '../../../src/core/bytes.js';
import { encodeDoubleBid } from '../../../src/mechanisms/double/codec.js';
import { bidVectorHash } from '../../../src/protocol/bid-vector.js';
import {
  BROADCAST,
  openEnvelope,
  sealEnvelope,
  type Envelope,
} from '../../../src/protocol/envelope.js';
import { doubleBitCodec } from '../../../src/protocol/faithful/bit-codec.js';
import { FIELD_PRIME, lagrangeWeights, mulMod } from '../../../src/protocol/faithful/shamir.js';
import {
  decodeKsReveal,
  decodeShares,
  encodeKsReveal,
  encodeShares,
} from '../../../src/protocol/faithful/wire.js';
import { Phase, type PhaseCode } from '../../../src/protocol/phases.js';
import { clusterParamsHash } from '../../../src/protocol/session.js';
import type { DoubleScenario } from '../../../src/scenarios/scenario.js';
import { IDS, agreementFor, setupRound, type RoundSetup } from './harness.js';

const C = 2; // the coalition

/** Honest providers disagree on every even user: provider 1 received a higher price. */
function bidFor(p: number, j: number, s: DoubleScenario): Uint8Array {
  const u = s.users[j]!;
  return encodeDoubleBid(p === 1 && j % 2 === 0 ? { ...u, bid: u.bid + 1n } : u);
}

/** What provider p received, asks included, by bidder id. */
function viewOf(s: RoundSetup, p: number): Map<string, Uint8Array> {
  const view = new Map(s.scenario.users.map((u, j) => [u.id, bidFor(p, j, s.scenario)]));
  for (const x of s.scenario.providers) view.set(x.id, encodeDoubleBid(x));
  return view;
}

/** Provider p's lane inputs. */
function lanesOf(s: RoundSetup, p: number): Uint16Array {
  const codec = doubleBitCodec(new Set(s.scenario.providers.map((x) => x.id)));
  const bidders = s.params.faithful!.bidders;
  const lanes = new Uint8Array(bidders.length * codec.bits);
  const view = viewOf(s, p);
  bidders.forEach((id, t) => codec.encode(id, view.get(id), lanes, t * codec.bits));
  return Uint16Array.from(lanes);
}

/** The coalition's end of the network: what it received, and how it signs and sends. */
function coalition(s: RoundSetup) {
  const inbox: Envelope[] = [];
  const transport = s.network[C]!;
  transport.onFrame((_from, frame) => inbox.push(openEnvelope(frame, 1 << 26)));
  const seal = (phase: PhaseCode, to: number, payload: Uint8Array) =>
    sealEnvelope(IDS[C]!, { phase, sid: s.sid, from: C, to, payload });
  const got = (phase: PhaseCode, from: number) =>
    inbox.find((e) => e.phase === phase && e.from === from);
  return { inbox, transport, seal, got, idle: () => transport.network.idle() };
}

async function openRound(readyGuard: boolean) {
  const s = setupRound({
    m: 3,
    k: 1,
    ks: 'it',
    users: 6,
    seed: `guard-${readyGuard}`,
    scripted: [C],
    bidFor,
    hooks: { 0: { readyGuard }, 1: { readyGuard } },
  });
  const c = coalition(s);
  const results = s.run();

  // START like anyone, then deal: provider 0 gets its share, provider 1's is held back.
  const ownBid = encodeDoubleBid(s.scenario.providers[C]!);
  const start = new Writer().raw(clusterParamsHash(s.params)).bytes(ownBid).finish();
  for (const to of [0, 1]) c.transport.send(to, c.seal(Phase.START, BROADCAST, start));
  await c.idle();
  const own = agreementFor(s, C);
  own.setInputs(new Map());
  const shares = own.sharePayloads();
  c.transport.send(0, c.seal(Phase.KS_SHARE, 0, shares[0]!));
  for (const to of [0, 1])
    c.transport.send(to, c.seal(Phase.KS_READY, BROADCAST, new Uint8Array(0)));
  await c.idle();
  return { s, c, shares, results };
}

async function finish(s: RoundSetup, results: Promise<unknown>): Promise<void> {
  for (const e of s.engines) e?.cancel('scripted schedule over');
  await results;
}

describe('the READY guard (§2.2, §11.4)', () => {
  test('without it, the coalition learns every honest input and then picks its own', async () => {
    const { s, c, shares, results } = await openRound(false);

    // Provider 0 revealed: with its own shares the coalition holds 2 points per honest lane.
    const reveal0 = c.got(Phase.KS_REVEAL, 0);
    assert.ok(reveal0, 'provider 0 revealed before the coalition fixed its polynomial');
    const width = lanesOf(s, 0).length;
    const echo0 = decodeKsReveal(reveal0.payload, 3, 1 << 26).map((f) => openEnvelope(f, 1 << 26));
    const w = lagrangeWeights([1, 3], 0); // α_0 = 1, α_2 = 3
    for (const h of [0, 1]) {
      const atZero = decodeShares(echo0[h]!.payload, width);
      const atTwo = decodeShares(c.got(Phase.KS_SHARE, h)!.payload, width);
      const learned = atZero.map(
        (y, l) => (mulMod(w[0]!, y) + mulMod(w[1]!, atTwo[l]!)) % FIELD_PRIME,
      );
      assert.deepEqual(learned, lanesOf(s, h), `the coalition reconstructed provider ${h}'s input`);
    }

    // Only now it picks its input: provider 0's lanes, so 0's vector wins every split lane.
    // f'(z) = v + (s0 − v)·z keeps the share already given to provider 0 (α_0 = 1).
    const v = lanesOf(s, 0);
    const s0 = decodeShares(shares[0]!, width);
    const at = (z: number) =>
      v.map((x, l) => (x + mulMod(z, (s0[l]! - x + FIELD_PRIME) % FIELD_PRIME)) % FIELD_PRIME);
    c.transport.send(1, c.seal(Phase.KS_SHARE, 1, encodeShares(at(2))));
    const selfShare = c.seal(Phase.KS_SHARE, C, encodeShares(at(3)));
    const echo = [c.got(Phase.KS_SHARE, 0)!.bytes, c.got(Phase.KS_SHARE, 1)!.bytes, selfShare];
    for (const to of [0, 1])
      c.transport.send(to, c.seal(Phase.KS_REVEAL, BROADCAST, encodeKsReveal(echo)));
    await c.idle();

    // Both honest providers agreed on provider 0's vector (H_b travels in CC_COMMIT).
    const chosen = toHex(
      bidVectorHash([...viewOf(s, 0)].map(([bidder, bytes]) => ({ bidder, bytes }))),
    );
    const other = toHex(
      bidVectorHash([...viewOf(s, 1)].map(([bidder, bytes]) => ({ bidder, bytes }))),
    );
    assert.notEqual(chosen, other);
    for (const h of [0, 1]) {
      assert.equal(toHex(c.got(Phase.CC_COMMIT, h)!.payload.subarray(0, 32)), chosen);
    }
    await finish(s, results);
  });

  test('with it, nothing is revealed until every honest provider holds its share', async () => {
    const { s, c, shares, results } = await openRound(true);

    // Provider 0 holds every share and said READY, but waits for provider 1's READY.
    assert.ok(c.got(Phase.KS_READY, 0));
    assert.equal(c.got(Phase.KS_READY, 1), undefined);
    assert.equal(c.inbox.filter((e) => e.phase === Phase.KS_REVEAL).length, 0);

    // The coalition must fix its polynomial (the share to 1) before it can see any reveal.
    c.transport.send(1, c.seal(Phase.KS_SHARE, 1, shares[1]!));
    await c.idle();
    assert.ok(c.got(Phase.KS_REVEAL, 0) && c.got(Phase.KS_REVEAL, 1));
    await finish(s, results);
  });
});
