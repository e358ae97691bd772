import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { equalBytes } from '../../src/core/bytes.js';
import { encodeDoubleOutcome } from '../../src/mechanisms/double/codec.js';
import { runStarPadding } from '../../src/mechanisms/double/star.js';
import { paperDoubleWorkload } from '../../src/scenarios/paper.js';
import { startZmqCluster, type ZmqCluster } from '../helpers/zmq-cluster.js';

describe('a round over real ZeroMQ on loopback, m = 3', () => {
  const scenario = paperDoubleWorkload({ users: 40, providers: 3, seed: 'zmq' });
  let c: ZmqCluster;
  before(async () => {
    c = await startZmqCluster(scenario, 1);
  });
  after(async () => {
    await c.stop();
  });

  test('every provider signs the outcome the mechanism gives centrally', async () => {
    const refusals = await c.client.submitBids(1n, scenario.users);
    assert.deepEqual(refusals, []);
    await c.client.closeRound(1n);
    const report = await c.client.collect(1n, 15_000);

    assert.deepEqual(report.problems, []);
    assert.equal(report.status, 'outcome');
    assert.ok(report.recomputedMatches);
    const central = encodeDoubleOutcome(
      runStarPadding({ providers: scenario.providers, users: scenario.users, rule: 'safe' }),
    );
    assert.ok(equalBytes(report.outcomeBytes!, central));
    for (const r of report.results) {
      assert.ok(!('error' in r));
      assert.equal(r.json.status, 'outcome');
      assert.equal(r.agreedBids.length, 43);
    }
  });

  test('bad bids get an error naming the field and do not disturb the round', async () => {
    const round = 2n;
    const bad = [
      { id: 'u-nan', bid: 'NaN', demand: '5' },
      { id: 'u-neg', bid: '-1', demand: '5' },
      { id: 'u-zero', bid: '10', demand: '0' },
      { id: 'u-big', bid: '10', demand: '99999999999999' },
      { id: 'p0', bid: '10', demand: '5' },
    ];
    const fields: string[] = [];
    for (const b of bad) {
      const reply = (await c.servers[0]!.handle({ type: 'bid', round: '2', bid: b })) as {
        ok: boolean;
        error: { field?: string; message: string };
      };
      assert.equal(reply.ok, false);
      fields.push(reply.error.field ?? '');
    }
    assert.deepEqual(fields, ['bid.bid', 'bid.bid', 'bid.demand', 'bid.demand', 'bid.id']);

    // A second, different bid from the same bidder is refused; the first one stands.
    const u = scenario.users[0]!;
    const first = { id: u.id, bid: String(u.bid), demand: String(u.demand) };
    const again = { ...first, bid: String(u.bid + 1n) };
    assert.deepEqual(await c.servers[0]!.handle({ type: 'bid', round: '2', bid: first }), {
      ok: true,
      accepted: true,
    });
    const dup = (await c.servers[0]!.handle({ type: 'bid', round: '2', bid: again })) as {
      ok: boolean;
      error: { code: string };
    };
    assert.equal(dup.error.code, 'DUPLICATE_BID');

    assert.deepEqual(await c.client.submitBids(round, scenario.users), []);
    await c.client.closeRound(round);
    const late = await c.client.submitBid(round, scenario.users[1]!);
    assert.deepEqual(
      late.map((r) => r.code),
      ['ROUND_CLOSED', 'ROUND_CLOSED', 'ROUND_CLOSED'],
    );
    const report = await c.client.collect(round, 15_000);
    assert.equal(report.status, 'outcome', report.problems.join('; '));
  });
});
