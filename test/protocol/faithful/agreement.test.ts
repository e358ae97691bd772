/**
 * protocols.md §11 items 1 and 2 for the faithful mode, and its equivalence with the fast mode
 * when every bidder is consistent.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { equalBytes, toHex } from '../../../src/core/bytes.js';
import { encodeDoubleBid } from '../../../src/mechanisms/double/codec.js';
import { doubleAuctionMechanism } from '../../../src/mechanisms/double/mechanism.js';
import type { BidReport } from '../../../src/mechanisms/mechanism.js';
import { doubleBitCodec } from '../../../src/protocol/faithful/bit-codec.js';
import { majorityLanes } from '../../../src/protocol/faithful/lanes.js';
import type { RoundOutcome } from '../../../src/protocol/fast-round.js';
import type { DoubleScenario } from '../../../src/scenarios/scenario.js';
import { outcomes, setupRound } from './harness.js';

const KS = ['it', 'crypto'] as const;

/** Users 0–2 are inconsistent: another price per provider, missing at some, all different. */
function mixedBids(p: number, j: number, s: DoubleScenario): Uint8Array | null {
  const u = s.users[j]!;
  if (j === 0) return encodeDoubleBid({ ...u, bid: u.bid + BigInt(p % 2) });
  if (j === 1) return p % 3 === 0 ? null : encodeDoubleBid(u);
  if (j === 2)
    return encodeDoubleBid({ ...u, bid: u.bid + 1000n * BigInt(p), demand: u.demand + 1n });
  return encodeDoubleBid(u);
}

/** The agreed bid of `bidder`, or null when it was left out. */
function agreedBid(o: RoundOutcome, bidder: string): Uint8Array | null {
  return o.agreedBids.find((b) => b.bidder === bidder)?.bytes ?? null;
}

/** What §2.4 says the vector must be, from every provider's received bids. */
function expectedVector(
  s: DoubleScenario,
  m: number,
  leaders: readonly number[] | null,
  bidders: readonly string[],
): BidReport[] {
  const ids = new Set(s.providers.map((p) => p.id));
  const codec = doubleBitCodec(ids);
  const L = codec.bits;
  const mechanism = doubleAuctionMechanism('safe');
  const received = (p: number, id: string): Uint8Array | undefined => {
    const k = s.providers.findIndex((x) => x.id === id);
    if (k >= 0) return encodeDoubleBid(s.providers[k]!);
    const j = s.users.findIndex((u) => u.id === id);
    return mixedBids(p, j, s) ?? undefined;
  };

  const out: BidReport[] = [];
  bidders.forEach((bidder, t) => {
    const inputs = Array.from({ length: m }, (_, p) => {
      const lanes = new Uint8Array(L);
      codec.encode(bidder, received(p, bidder), lanes, 0);
      return lanes;
    });
    const lanes = new Uint8Array(L);
    if (leaders) lanes.set(inputs[leaders[t]!]!);
    else majorityLanes(inputs, lanes);
    const d = codec.decode(bidder, lanes, 0);
    if (d.status === 'bid' && mechanism.checkBid(bidder, d.bytes, ids) === null) {
      out.push({ bidder, bytes: d.bytes });
    }
  });
  return out;
}

describe('faithful agreement, all providers follow (§11.1)', () => {
  for (const m of [3, 5, 7, 8]) {
    for (const ks of KS) {
      for (const rule of ['majority', 'leader'] as const) {
        test(`m=${m} ks=${ks} rule=${rule}: one vector, consistent bids kept`, async () => {
          const k = Math.floor((m - 1) / 2);
          const setup = setupRound({
            m,
            k,
            ks,
            rule,
            users: 9,
            seed: `all-${m}-${ks}-${rule}`,
            bidFor: mixedBids,
          });
          const res = outcomes(await setup.run());

          // Agreement: every provider outputs the same vector, seed and outcome.
          for (const r of res) {
            assert.equal(toHex(r.bidsHash), toHex(res[0]!.bidsHash));
            assert.equal(toHex(r.seed), toHex(res[0]!.seed));
            assert.equal(toHex(r.outcomeHash), toHex(res[0]!.outcomeHash));
          }

          // Validity: consistent bidders keep their bid; the others follow the rule.
          const o = res[0]!;
          const sc = setup.scenario;
          for (const u of sc.users.slice(3)) {
            assert.ok(equalBytes(agreedBid(o, u.id)!, encodeDoubleBid(u)), u.id);
          }
          for (const p of sc.providers) {
            assert.ok(equalBytes(agreedBid(o, p.id)!, encodeDoubleBid(p)), p.id);
          }
          const bidders = setup.params.faithful!.bidders;
          const leaders = o.faithful!.leaders;
          assert.equal(leaders === null, rule === 'majority');
          assert.deepEqual(o.agreedBids, expectedVector(sc, m, leaders, bidders));
        });
      }
    }
  }
});

describe('a coalition of k flips its inputs (§11.2)', () => {
  // Providers 3 and 4 of m = 5 (k = 2) input the complement of every bid lane they hold.
  const flipAll = (lanes: number) => (x: Uint16Array) => {
    for (let l = 0; l < lanes; l++) x[l] = x[l]! ^ 1;
  };
  const lanesOf = (users: number, m: number) => (users + m) * 71;

  for (const ks of KS) {
    test(`ks=${ks} majority: the output is the one without the coalition`, async () => {
      const base = { m: 5, k: 2, ks, users: 15, seed: `flip-${ks}` };
      const honest = outcomes(await setupRound(base).run());
      const flip = flipAll(lanesOf(15, 5));
      const res = outcomes(
        await setupRound({ ...base, hooks: { 3: { inputs: flip }, 4: { inputs: flip } } }).run(),
      );
      for (const r of res) assert.equal(toHex(r.bidsHash), toHex(honest[0]!.bidsHash));
      assert.equal(res[0]!.agreedBids.length, 20);
    });

    test(`ks=${ks} leader: a bid changes exactly when a coalition member leads`, async () => {
      const o = {
        m: 5,
        k: 2,
        ks,
        rule: 'leader' as const,
        users: 25,
        seed: `flip-leader-${ks}`,
      };
      const flip = flipAll(lanesOf(25, 5));
      const setup = setupRound({ ...o, hooks: { 3: { inputs: flip }, 4: { inputs: flip } } });
      const res = outcomes(await setup.run());
      const r = res[0]!;
      const leaders = r.faithful!.leaders!;

      // A flipped valid bid has its validity flag cleared: invalid, hence left out.
      let changed = 0;
      setup.params.faithful!.bidders.forEach((bidder, t) => {
        const coalitionLeads = leaders[t]! >= 3;
        assert.equal(
          agreedBid(r, bidder) === null,
          coalitionLeads,
          `${bidder} led by ${leaders[t]}`,
        );
        if (coalitionLeads) changed++;
      });
      assert.ok(changed > 0 && changed < 30, `changed ${changed} of 30`);
      for (const x of res) assert.equal(toHex(x.bidsHash), toHex(r.bidsHash));
    });
  }

  test('fast mode: a coalition that received other bids cannot change them', async () => {
    const bidFor = (p: number, j: number, s: DoubleScenario) => {
      const u = s.users[j]!;
      return encodeDoubleBid(p >= 3 && j === 0 ? { ...u, bid: u.bid + 5n } : u);
    };
    const setup = setupRound({
      m: 5,
      k: 2,
      agreement: 'fast',
      users: 6,
      seed: 'flip-fast',
      bidFor,
    });
    const res = outcomes(await setup.run());
    const u0 = setup.scenario.users[0]!;
    assert.ok(equalBytes(agreedBid(res[0]!, u0.id)!, encodeDoubleBid(u0)));
  });
});

describe('faithful and fast agreement, every bidder consistent', () => {
  for (const m of [3, 5, 8]) {
    for (const ks of KS) {
      test(`m=${m} ks=${ks}: the same agreed vector as the fast mode`, async () => {
        const k = Math.floor((m - 1) / 2);
        const seed = `same-${m}-${ks}`;
        const fast = outcomes(await setupRound({ m, k, users: 20, seed, agreement: 'fast' }).run());
        const faithful = outcomes(await setupRound({ m, k, users: 20, seed, ks }).run());
        assert.equal(faithful[0]!.agreedBids.length, 20 + m);
        assert.deepEqual(faithful[0]!.agreedBids, fast[0]!.agreedBids);
        assert.equal(toHex(faithful[0]!.bidsHash), toHex(fast[0]!.bidsHash));
        assert.equal(toHex(faithful[0]!.outcomeHash), toHex(fast[0]!.outcomeHash));
      });
    }
  }
});

describe('batching (§5)', () => {
  for (const ks of KS) {
    test(`ks=${ks}: one envelope per peer per phase, whatever the number of bidders`, async () => {
      const counts: Record<string, number>[] = [];
      for (const users of [10, 200]) {
        const res = outcomes(
          await setupRound({ m: 5, k: 2, ks, users, seed: `batch-${ks}` }).run(),
        );
        for (const r of res) {
          const s = r.stats;
          assert.ok(Object.values(s.phaseEnvelopes).every((n) => n === 4));
          const bytes = Object.values(s.phaseBytes).reduce((a, b) => a + b, 0);
          assert.equal(bytes, s.bytesSent);
          assert.equal(s.envelopesSent, 4 * Object.keys(s.phaseEnvelopes).length);
        }
        counts.push(res[0]!.stats.phaseEnvelopes);
      }
      assert.deepEqual(counts[0], counts[1]);
      const phases =
        ks === 'it'
          ? ['START', 'KS_SHARE', 'KS_READY', 'KS_REVEAL', 'CC_COMMIT', 'CC_REVEAL', 'OUTCOME']
          : ['START', 'BA_COMMIT', 'BA_REVEAL', 'CC_COMMIT', 'CC_REVEAL', 'OUTCOME'];
      assert.deepEqual(Object.keys(counts[0]!), phases);
    });
  }
});
