import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { AuctionClient } from '../../src/client/client.js';
import { DaemonClient, signedBidRequest } from '../../src/daemon/client.js';
import { ProviderDaemon } from '../../src/daemon/daemon.js';
import { roundDeadline } from '../../src/daemon/schedule.js';
import { daemonCluster } from '../../src/daemon/signed-bid.js';
import { loadKeys } from '../../src/node/keys.js';
import { RpcClient } from '../../src/transport/rpc.js';
import { until, writeDaemonFixture, type DaemonFixture, type TestUser } from './helpers.js';
import { join } from 'node:path';

/** Clock offsets of the three providers: a few hundred ms apart. */
const SKEW_MS = [-400, 0, 400];

describe('three daemons whose clocks are 400 ms apart (in one process, ZeroMQ on loopback)', () => {
  let f: DaemonFixture;
  let daemons: ProviderDaemon[];
  let client: DaemonClient;
  before(async () => {
    f = await writeDaemonFixture({
      m: 3,
      k: 1,
      users: 6,
      periodMs: 2000,
      startInMs: 1000,
      phaseTimeoutMs: 1000,
      startTimeoutMs: 1500,
    });
    const cluster = f.cluster;
    daemons = await Promise.all(
      cluster.file.providers.map((p, i) =>
        ProviderDaemon.start({
          cluster,
          self: i,
          keys: loadKeys(join(f.dir, `keys-${i}`)),
          report: {
            kind: 'provider',
            id: p.id,
            ask: 200_000n + BigInt(i) * 100_000n,
            capacity: 2_000n,
          },
          schedule: f.schedule,
          ledgerPath: f.ledgers[i]!,
          status: { host: '127.0.0.1', port: 0 },
          log: pino({ level: 'silent' }),
          now: () => Date.now() + SKEW_MS[i]!,
        }),
      ),
    );
    client = DaemonClient.connect(daemonCluster(cluster));
  });
  after(async () => {
    await client.close();
    await Promise.all(daemons.map((d) => d.stop()));
    rmSync(f.dir, { recursive: true, force: true });
  });

  const bid = (u: TestUser, round: bigint) =>
    client.submitBid(u.identity, round, u.price, u.demand);
  const accepted = (answers: { accepted: boolean }[]) =>
    answers.flatMap((a, i) => (a.accepted ? [i] : []));

  test('they agree on every round; a majority decides which late bids count', async () => {
    const [a, b, x, y] = f.users;
    const s = f.schedule;

    // Round 1: two users bid early; every provider takes them.
    for (const u of [a!, b!]) assert.deepEqual(accepted(await bid(u, 1n)), [0, 1, 2]);

    // Round 2: x bids 150 ms before the deadline, y 200 ms after it (by the true clock).
    const deadline = roundDeadline(s, 2n);
    await until(deadline - 150);
    const xs = await bid(x!, 2n);
    await until(deadline + 200);
    const ys = await bid(y!, 2n);
    assert.deepEqual(accepted(xs), [0, 1]);
    assert.deepEqual(accepted(ys), [0]);
    assert.equal(ys[1]!.code, 'ROUND_CLOSED');
    assert.match(
      ys[1]!.message!,
      /round 2 is closed for bids: its bids were due at .*; the open round is 3/,
    );

    // A bid after round 1 closed everywhere is refused with a clear answer.
    const late = await bid(a!, 1n);
    assert.deepEqual(accepted(late), []);
    assert.ok(late.every((l) => l.code === 'ROUND_CLOSED'));

    // Results: every provider signs the same outcome in rounds 1 and 2.
    const auction = await AuctionClient.connect(daemonCluster(f.cluster));
    try {
      for (const round of [1n, 2n]) {
        const report = await auction.collect(round, 10_000);
        assert.deepEqual(report.problems, []);
        assert.equal(report.status, 'outcome');
      }
      const r2 = await auction.collect(2n, 1_000);
      const first = r2.results[0]!;
      assert.ok(!('error' in first));
      const bidders = first.agreedBids.map((z) => z.bidder);
      assert.ok(bidders.includes(x!.id), 'x was held by 2 of 3: in');
      assert.ok(!bidders.includes(y!.id), 'y was held by 1 of 3: out');
      assert.deepEqual(first.json.noMajority, [y!.id]);
    } finally {
      await auction.close();
    }
  });

  test('a user who signs two different bids for one round is left out everywhere', async () => {
    const e = f.users[4]!;
    const round = 3n;
    const rpcs = f.cluster.file.providers.map((p) =>
      RpcClient.connect({ address: p.clientAddress, serverPublicKey: p.curveKey }),
    );
    try {
      const one = signedBidRequest(e.identity, f.cluster.file.clusterId, round, e.price, e.demand);
      const two = signedBidRequest(
        e.identity,
        f.cluster.file.clusterId,
        round,
        e.price + 1n,
        e.demand,
      );
      const replies = await Promise.all(rpcs.map((r, i) => r.request(i === 0 ? one : two)));
      assert.ok(replies.every((r) => (r as { ok: boolean }).ok));

      // The same user's second, different bid at provider 0: refused, kept as evidence.
      const again = (await rpcs[0]!.request(two)) as { ok: boolean; error: { code: string } };
      assert.equal(again.error.code, 'DUPLICATE_BID');
    } finally {
      await Promise.all(rpcs.map((r) => r.close()));
    }

    const auction = await AuctionClient.connect(daemonCluster(f.cluster));
    try {
      const report = await auction.collect(round, 10_000);
      assert.equal(report.status, 'outcome', report.problems.join('; '));
      for (const r of report.results) {
        assert.ok(!('error' in r));
        assert.ok(!r.agreedBids.some((z) => z.bidder === e.id));
        assert.match(r.json.invalidBids![0]!.reason, /^equivocation: 2 different signed bids/);
      }
    } finally {
      await auction.close();
    }
  });

  test('the status endpoint reports the round and Prometheus metrics', async () => {
    const status = (await (await fetch(`${daemons[1]!.statusUrl}/status`)).json()) as {
      openRound: { round: string; phase: string };
      lastOutcomes: { round: string; status: string }[];
      bids: { refused: Record<string, number> };
    };
    assert.equal(status.openRound.phase, 'bidding');
    assert.equal(status.lastOutcomes[0]!.round, '3');
    assert.equal(status.bids.refused.ROUND_CLOSED, 2);

    const res = await fetch(`${daemons[1]!.statusUrl}/metrics`);
    assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^# HELP auctioneer_bids_refused_total Bids refused, by reason\.$/m);
    assert.match(text, /^# TYPE auctioneer_bids_refused_total counter$/m);
    assert.match(text, /^auctioneer_bids_refused_total\{code="ROUND_CLOSED"\} 2$/m);
    assert.match(text, /^auctioneer_rounds_total\{status="outcome"\} 3$/m);
    assert.match(text, /^auctioneer_open_round 4$/m);
    for (const line of text.trim().split('\n')) {
      assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{\w+="[^"]*"\})? [0-9.e+-]+)$/);
    }
  });
});
