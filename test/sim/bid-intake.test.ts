/**
 * Bad user input reaching a provider (issue #7, item 5), through ProviderServer.handle on a
 * real loopback cluster: every bad bid gets an error naming the field, and the round goes on
 * with the other bids.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_PRICE, MAX_QUANTITY } from '../../src/core/units.js';
import { paperDoubleWorkload } from '../../src/scenarios/paper.js';
import { startZmqCluster, type ZmqCluster } from '../helpers/zmq-cluster.js';

interface Reply {
  ok: boolean;
  accepted?: boolean;
  error?: { code: string; field?: string; message: string };
}

describe('bad user input at a provider', () => {
  const scenario = paperDoubleWorkload({ users: 12, providers: 3, seed: 'intake' });
  let c: ZmqCluster;
  before(async () => {
    c = await startZmqCluster(scenario, 1);
  });
  after(async () => {
    await c.stop();
  });

  const ask = (req: unknown) => c.servers[0]!.handle(req) as Promise<Reply>;
  const bid = (fields: Record<string, unknown>, round: unknown = '1') =>
    ask({ type: 'bid', round, bid: { id: 'u-bad', bid: '900000', demand: '10', ...fields } });

  const cases: [string, Record<string, unknown>, string][] = [
    ['NaN price', { bid: NaN }, 'bid.bid'],
    ['NaN text', { bid: 'NaN' }, 'bid.bid'],
    ['negative price', { bid: -1 }, 'bid.bid'],
    ['negative text', { bid: '-250' }, 'bid.bid'],
    ['price above MAX_PRICE', { bid: String(MAX_PRICE + 1n) }, 'bid.bid'],
    ['price beyond a safe number', { bid: 1e30 }, 'bid.bid'],
    ['fractional price', { bid: '1.5' }, 'bid.bid'],
    ['non-numeric price', { bid: 'a lot' }, 'bid.bid'],
    ['empty price', { bid: '' }, 'bid.bid'],
    ['price as a list', { bid: [5] }, 'bid.bid'],
    ['Infinity demand', { demand: Infinity }, 'bid.demand'],
    ['zero demand', { demand: 0 }, 'bid.demand'],
    ['zero demand text', { demand: '0' }, 'bid.demand'],
    ['negative demand', { demand: -3 }, 'bid.demand'],
    ['demand above MAX_QUANTITY', { demand: String(MAX_QUANTITY + 1n) }, 'bid.demand'],
    ['non-numeric demand', { demand: '12abc' }, 'bid.demand'],
    ['missing demand', { demand: undefined }, 'bid.demand'],
    ['empty id', { id: '' }, 'bid.id'],
    ['id with a space', { id: 'u 1' }, 'bid.id'],
    ['id too long', { id: 'u'.repeat(129) }, 'bid.id'],
    ["a provider's id", { id: 'p1' }, 'bid.id'],
    ['numeric id', { id: 42 }, 'bid.id'],
    ['unknown field', { colour: 'red' }, 'bid.colour'],
  ];
  for (const [what, fields, field] of cases) {
    test(`${what}: refused, naming ${field}`, async () => {
      const reply = await bid(fields);
      assert.equal(reply.ok, false);
      assert.equal(reply.error?.code, 'INVALID_INPUT', reply.error?.message);
      assert.equal(reply.error?.field, field, reply.error?.message);
    });
  }

  for (const round of [0, -1, 'abc', '1.5', NaN, String(2n ** 63n), null]) {
    test(`a bid for round ${String(round)}: refused, naming round`, async () => {
      const reply = await bid({}, round);
      assert.equal(reply.error?.code, 'INVALID_INPUT');
      assert.equal(reply.error?.field, 'round');
    });
  }

  test('a zero price is a valid bid (it never wins): prices are in [0, MAX_PRICE]', async () => {
    const reply = await ask({ type: 'bid', round: '9', bid: { id: 'u-zero', bid: 0, demand: 1 } });
    assert.deepEqual(reply, { ok: true, accepted: true });
  });

  test('duplicates, other rounds, then the round goes on with the other bids', async () => {
    const [u0, u1] = scenario.users;
    const wire = (u: typeof u0) => ({ id: u!.id, bid: String(u!.bid), demand: String(u!.demand) });

    // A second, different bid from the same user is refused naming it; the first stands.
    assert.deepEqual(await ask({ type: 'bid', round: '1', bid: wire(u0) }), {
      ok: true,
      accepted: true,
    });
    const dup = await ask({ type: 'bid', round: '1', bid: { ...wire(u0), bid: '1' } });
    assert.equal(dup.error?.code, 'DUPLICATE_BID');
    assert.match(dup.error!.message, new RegExp(u0!.id));

    // A bid for a later round waits for that round and stays out of this one.
    const later = await ask({
      type: 'bid',
      round: '2',
      bid: { id: 'u-later', bid: '5', demand: '5' },
    });
    assert.equal(later.ok, true);

    // The round: every valid bid to every provider, close, collect.
    assert.deepEqual(await c.client.submitBids(1n, scenario.users), []);
    await c.client.closeRound(1n);
    const closed = await ask({ type: 'bid', round: '1', bid: wire(u1) });
    assert.equal(closed.error?.code, 'ROUND_CLOSED');
    assert.match(closed.error!.message, /round 1/);

    const report = await c.client.collect(1n, 15_000);
    assert.deepEqual(report.problems, []);
    assert.equal(report.status, 'outcome');
    for (const r of report.results) {
      assert.ok(!('error' in r));
      const ids = r.agreedBids.map((b) => b.bidder);
      assert.equal(ids.length, scenario.providers.length + scenario.users.length);
      assert.ok(!ids.includes('u-bad') && !ids.includes('u-later') && !ids.includes('u-zero'));
      const first = r.agreedBids.find((b) => b.bidder === u0!.id)!;
      assert.ok(first, 'the first bid of the duplicated user stands');
    }
  });
});
