import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkAgentId } from '../../src/core/units.js';
import { encodeDoubleBid } from '../../src/mechanisms/double/codec.js';
import { doubleAuctionMechanism } from '../../src/mechanisms/double/mechanism.js';
import type { BidReport } from '../../src/mechanisms/mechanism.js';
import {
  checkSignedBid,
  decodeSignedBid,
  encodeSignedBid,
  screenSignedBids,
  signUserBid,
  signedBidMechanism,
  userIdOf,
  userKey,
} from '../../src/daemon/signed-bid.js';
import { generateSigningIdentity, type SigningIdentity } from '../../src/protocol/identity.js';

const CLUSTER = 'c1';
const providers = new Set(['gw-a', 'gw-b', 'gw-c']);

function signed(who: SigningIdentity, round: bigint, price: bigint, demand = 10n): BidReport {
  const id = userIdOf(who);
  const bid = encodeDoubleBid({ kind: 'user', id, bid: price, demand });
  return { bidder: id, bytes: encodeSignedBid(bid, signUserBid(who, CLUSTER, round, bid)) };
}

/** An identity whose base64url id holds an underscore. */
function identityWithUnderscore(): SigningIdentity {
  for (;;) {
    const id = generateSigningIdentity();
    if (userIdOf(id).includes('_')) return id;
  }
}

describe('signed user bids', () => {
  test('a user id is its base64url key, underscores included, and a valid agent id', () => {
    const who = identityWithUnderscore();
    const id = userIdOf(who);
    assert.equal(checkAgentId('id', id), id);
    assert.deepEqual(userKey(id), who.publicKey);
    assert.equal(userKey('gw-a'), null);
    assert.equal(userKey(id.slice(0, 42) + '!'), null);
  });

  test('the signature binds the cluster, the round and the bid', () => {
    const who = generateSigningIdentity();
    const b = signed(who, 7n, 1000n);
    assert.equal(checkSignedBid(CLUSTER, 7n, b.bidder, b.bytes), null);
    assert.match(checkSignedBid(CLUSTER, 8n, b.bidder, b.bytes)!, /does not verify for round 8/);
    assert.match(checkSignedBid('c2', 7n, b.bidder, b.bytes)!, /does not verify/);

    // Another user's id, or a changed price, no longer verifies.
    const other = userIdOf(generateSigningIdentity());
    assert.match(checkSignedBid(CLUSTER, 7n, other, b.bytes)!, /does not verify/);
    const { bid, signature } = decodeSignedBid(b.bytes);
    const changed = encodeSignedBid(
      bid.map((x, i) => (i === bid.length - 9 ? x ^ 1 : x)),
      signature,
    );
    assert.match(checkSignedBid(CLUSTER, 7n, b.bidder, changed)!, /does not verify/);
    assert.match(checkSignedBid(CLUSTER, 7n, b.bidder, b.bytes.subarray(1))!, /version|truncated/);
  });

  test('the mechanism sees the bid inside; providers asks pass as they are', () => {
    const inner = doubleAuctionMechanism('safe');
    const mech = signedBidMechanism(inner, providers);
    const who = generateSigningIdentity();
    const b = signed(who, 1n, 1_200_000n, 5n);
    const ask = encodeDoubleBid({ kind: 'provider', id: 'gw-a', ask: 100n, capacity: 50n });
    assert.equal(mech.checkBid(b.bidder, b.bytes, providers), null);
    assert.equal(mech.checkBid('gw-a', ask, providers), null);
    assert.match(mech.checkBid(b.bidder, ask, providers)!, /signed bid/);
    assert.notDeepEqual(mech.paramsBytes(), inner.paramsBytes());

    const plain = { bidder: b.bidder, bytes: decodeSignedBid(b.bytes).bid };
    const seed = new Uint8Array(32);
    assert.deepEqual(
      mech.run([{ bidder: 'gw-a', bytes: ask }, b], seed).outcomeBytes,
      inner.run([{ bidder: 'gw-a', bytes: ask }, plain], seed).outcomeBytes,
    );
  });
});

describe('screenSignedBids (the decision rule of D13)', () => {
  const screen = screenSignedBids(CLUSTER, providers);
  const ask: BidReport = {
    bidder: 'gw-a',
    bytes: encodeDoubleBid({ kind: 'provider', id: 'gw-a', ask: 100n, capacity: 50n }),
  };

  test('unchanged vectors come back as the same objects', () => {
    const u = signed(generateSigningIdentity(), 3n, 900n);
    const v = [ask, u].sort((a, b) => (a.bidder < b.bidder ? -1 : 1));
    const out = screen(3n, [v, v, v]);
    assert.deepEqual(out.excluded, []);
    assert.ok(out.vectors.every((x) => x === v));
  });

  test('a bid whose signature does not verify is dropped, even when two providers hold it', () => {
    const victim = generateSigningIdentity();
    const real = signed(victim, 3n, 900n);
    const forged = signed(generateSigningIdentity(), 3n, 5_000_000n);
    const fake = { bidder: real.bidder, bytes: forged.bytes }; // another key's signature
    const out = screen(3n, [
      [ask, fake],
      [ask, fake],
      [ask, real],
    ]);
    assert.deepEqual(out.excluded, []);
    assert.deepEqual(out.vectors[0], [ask]);
    assert.deepEqual(out.vectors[1], [ask]);
    assert.deepEqual(out.vectors[2], [ask, real]);
  });

  test('two different signed bids of one user in the revealed vectors leave the user out', () => {
    const who = generateSigningIdentity();
    const a = signed(who, 3n, 900n);
    const b = signed(who, 3n, 901n);
    const out = screen(3n, [
      [ask, a],
      [ask, b],
      [ask, b],
    ]);
    assert.equal(out.excluded.length, 1);
    assert.equal(out.excluded[0]!.bidder, a.bidder);
    assert.match(out.excluded[0]!.reason, /equivocation: 2 different signed bids for round 3/);
    assert.ok(out.vectors.every((v) => v.length === 1 && v[0] === ask));
  });

  test('a bid signed for another round is not valid in this one', () => {
    const u = signed(generateSigningIdentity(), 2n, 900n);
    const out = screen(3n, [[u], [u], [u]]);
    assert.ok(out.vectors.every((v) => v.length === 0));
  });
});
