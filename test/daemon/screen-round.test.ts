import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeDoubleBid } from '../../src/mechanisms/double/codec.js';
import { doubleAuctionMechanism } from '../../src/mechanisms/double/mechanism.js';
import { ProviderCore } from '../../src/node/provider-core.js';
import type { RoundOutcome } from '../../src/protocol/fast-round.js';
import { generateSigningIdentity, type SigningIdentity } from '../../src/protocol/identity.js';
import type { ClusterParams } from '../../src/protocol/session.js';
import { paperDoubleWorkload } from '../../src/scenarios/paper.js';
import { createMemoryNetwork } from '../../src/transport/memory.js';
import {
  encodeSignedBid,
  screenSignedBids,
  signUserBid,
  signedBidMechanism,
  userIdOf,
} from '../../src/daemon/signed-bid.js';

const CLUSTER = 'screen-test';

/** Three provider cores on a memory network, deciding with the signed-bid screen. */
function cores(): { cores: ProviderCore[]; providerIds: Set<string> } {
  const scenario = paperDoubleWorkload({ users: 1, providers: 3, seed: 'screen' });
  const ids = scenario.providers.map(() => generateSigningIdentity());
  const providerIds = new Set(scenario.providers.map((p) => p.id));
  const mechanism = signedBidMechanism(doubleAuctionMechanism('safe'), providerIds);
  const params: ClusterParams = {
    clusterId: CLUSTER,
    k: 1,
    providers: scenario.providers.map((p, i) => ({ id: p.id, signingKey: ids[i]!.publicKey })),
    agreement: 'fast',
    mechanismParams: mechanism.paramsBytes(),
  };
  const network = createMemoryNetwork(3, { seed: 'screen', maxDelayMs: 3 });
  const list = network.map(
    (transport, i) =>
      new ProviderCore({
        params,
        self: i,
        identity: ids[i]!,
        transport,
        mechanism,
        ownBid: () => encodeDoubleBid(scenario.providers[i]!),
        phaseTimeoutMs: 2_000,
        screenBids: screenSignedBids(CLUSTER, providerIds),
      }),
  );
  return { cores: list, providerIds };
}

function signedBid(who: SigningIdentity, signer: SigningIdentity, round: bigint, price: bigint) {
  const id = userIdOf(who);
  const bid = encodeDoubleBid({ kind: 'user', id, bid: price, demand: 100n });
  return { id, bytes: encodeSignedBid(bid, signUserBid(signer, CLUSTER, round, bid)) };
}

describe('a round over signed user bids (the decision hook)', () => {
  test('no provider can invent a bid; an equivocating user is left out; all agree', async () => {
    const { cores: c } = cores();
    const round = 1n;
    const honest = generateSigningIdentity();
    const victim = generateSigningIdentity();
    const liar = generateSigningIdentity();
    const h = signedBid(honest, honest, round, 1_100_000n);
    const forged = signedBid(victim, generateSigningIdentity(), round, 1_200_000n);
    const x = signedBid(liar, liar, round, 1_000_000n);
    const y = signedBid(liar, liar, round, 1_050_000n);

    // Everyone gets the honest bid; two providers (a majority!) hold a forged bid of the
    // victim; the liar sends one bid to provider 0 and another to providers 1 and 2.
    c.forEach((core) => core.submitBid(round, h.id, h.bytes));
    c[0]!.submitBid(round, forged.id, forged.bytes);
    c[1]!.submitBid(round, forged.id, forged.bytes);
    c[0]!.submitBid(round, x.id, x.bytes);
    c[1]!.submitBid(round, y.id, y.bytes);
    c[2]!.submitBid(round, y.id, y.bytes);
    const results = await Promise.all(c.map((core) => core.close(round)));

    const outcomes = results.map((r) => {
      assert.ok(r.ok, r.ok ? '' : r.reason.message);
      return r as RoundOutcome;
    });
    const first = outcomes[0]!;
    for (const r of outcomes) assert.deepEqual(r.outcomeHash, first.outcomeHash);
    const bidders = first.agreedBids.map((b) => b.bidder);
    assert.ok(bidders.includes(h.id), 'the honest user is in');
    assert.ok(!bidders.includes(forged.id), 'the forged bid is not, though two providers held it');
    assert.ok(!bidders.includes(x.id), 'the equivocating user is left out');
    assert.deepEqual(
      first.invalidBids.map((b) => b.bidder),
      [x.id],
    );
    assert.match(first.invalidBids[0]!.reason, /equivocation: 2 different signed bids/);

    // The transcript holds every envelope of the round: 4 phases from 3 providers.
    assert.equal(first.transcript?.length, 12);
  });
});
