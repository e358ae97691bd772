/**
 * The acceptance test of #6: three provider daemons as processes on loopback run five rounds
 * while users bid; one is killed with SIGKILL during round 3 and restarted with the same config
 * and ledger after round 3's deadline; every ledger verifies, and a hand-edited one does not.
 * "Round 1" is the first round that opens once all three answer (slow machines start late).
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { AuctionClient, type RoundReport } from '../../src/client/client.js';
import { DaemonClient } from '../../src/daemon/client.js';
import { Ledger } from '../../src/daemon/ledger.js';
import { openRound, roundDeadline, roundOpensAt } from '../../src/daemon/schedule.js';
import { daemonCluster, userIdOf } from '../../src/daemon/signed-bid.js';
import { verifyLedgerRound } from '../../src/daemon/verify.js';
import { loadKeys, writeNewKeys } from '../../src/node/keys.js';
import { until, writeDaemonFixture, type DaemonFixture } from './helpers.js';

const run = promisify(execFile);
const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const START_TIMEOUT_MS = 1000;

describe('three provider daemons as processes, five rounds, one killed in round 3', () => {
  let f: DaemonFixture;
  let children: ChildProcess[] = [];
  let client: DaemonClient;
  const reports = new Map<bigint, RoundReport>();
  /** The five rounds of the test. */
  let rounds: bigint[] = [];

  const spawnProvider = (i: number): ChildProcess => {
    const child = spawn(process.execPath, [main, 'provider', '--config', f.configs[i]!], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => {
      if (code !== null && code !== 0) process.stderr.write(`provider ${i}: ${stderr}\n`);
    });
    return child;
  };
  const waitReady = async (i: number): Promise<void> => {
    for (let t = 0; t < 150; t++) {
      if ((await client.statuses())[i] !== null) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`provider ${i} did not start`);
  };
  const stopAll = () =>
    Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );

  before(async () => {
    f = await writeDaemonFixture({
      m: 3,
      k: 1,
      users: 6,
      periodMs: 2000,
      startInMs: 0,
      phaseTimeoutMs: 1000,
      startTimeoutMs: START_TIMEOUT_MS,
    });
    client = DaemonClient.connect(daemonCluster(f.cluster), 2_000);
    children = [0, 1, 2].map(spawnProvider);
    for (const i of [0, 1, 2]) await waitReady(i);
    const first = openRound(f.schedule, Date.now()) + 1n;
    rounds = [0n, 1n, 2n, 3n, 4n].map((r) => first + r);
  });
  after(async () => {
    await client?.close();
    await stopAll();
    rmSync(f.dir, { recursive: true, force: true });
  });

  test('rounds run on the clock; round 3 is ⊥ at the others; the killed one rejoins', async () => {
    const s = f.schedule;
    const alice = join(f.dir, 'alice');
    writeNewKeys(alice);
    const users = f.users;
    const [r1, , r3, r4] = rounds as [bigint, bigint, bigint, bigint, bigint];

    for (const round of rounds) {
      await until(roundOpensAt(s, round) + 50);
      if (round === r4) await waitReady(2);

      // Every user bids for the round; one of them through `auctioneer bid`.
      const answers = await Promise.all(
        users.map((u) => client.submitBid(u.identity, round, u.price, u.demand)),
      );
      for (const a of answers.flat()) assert.ok(a.accepted, `${a.providerId}: ${a.message}`);
      if (round === r1 || round === r4) {
        const args = ['bid', '--cluster', f.clusterFile, '--key', alice, '--price', '1100000'];
        const more = ['--demand', '250', '--round', String(round)];
        const { stdout } = await run(process.execPath, [main, ...args, ...more]);
        assert.match(stdout, new RegExp(`for round ${round}: price 1100000, demand 250`));
        assert.match(stdout, /accepted by 3 of 3 providers/);
      }

      // During round 3's bidding window provider 2 dies; it comes back after the deadline.
      if (round === r3) {
        children[2]!.kill('SIGKILL');
        await new Promise((r) => children[2]!.once('exit', r));
        await until(roundDeadline(s, r3) + 100);
        children[2] = spawnProvider(2);
      }
    }

    // Results: rounds 1, 2, 4 and 5 agreed by all; round 3 ⊥ at 0 and 1, nothing at 2.
    const auction = await AuctionClient.connect(daemonCluster(f.cluster));
    try {
      for (const round of rounds) {
        reports.set(round, await auction.collect(round, round === r3 ? 2_000 : 10_000));
      }
    } finally {
      await auction.close();
    }
    for (const round of rounds.filter((r) => r !== r3)) {
      const r = reports.get(round)!;
      assert.deepEqual(r.problems, [], `round ${round}`);
      assert.equal(r.status, 'outcome');
      const first = r.results[0]!;
      assert.ok(!('error' in first));
      const bidders = new Set(first.agreedBids.map((b) => b.bidder));
      assert.ok(
        users.every((u) => bidders.has(u.id)),
        `round ${round}: every user's bid`,
      );
      const withAlice = round === r1 || round === r4;
      assert.equal(bidders.has(userIdOf(loadKeys(alice).signing)), withAlice);
    }
    const third = reports.get(r3)!;
    assert.equal(third.status, 'abort');
    for (const i of [0, 1]) {
      const r = third.results[i]!;
      assert.ok(!('error' in r));
      assert.equal(r.json.abort!.code, 'TIMEOUT');
      assert.deepEqual(r.json.abort!.blamedIds, ['gw-c']);
    }
    assert.match((third.results[2] as { error: string }).error, /no result for round/);

    // `auctioneer result` agrees: exit 0 for round 4, 1 for round 3.
    const result = (r: bigint) => ['result', '--cluster', f.clusterFile, '--round', String(r)];
    const ok = await run(process.execPath, [main, ...result(r4)]);
    assert.match(ok.stdout, new RegExp(`round ${r4} of daemon-test: outcome agreed by all 3`));
    await assert.rejects(
      run(process.execPath, [main, ...result(r3)]),
      (err: { code: number; stdout: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stdout, /gw-a {2}⊥ TIMEOUT in START: .*; blames gw-c/);
        return true;
      },
    );
    await stopAll();
  });

  test('every ledger holds every round it took part in, and each one verifies', async () => {
    await stopAll();
    const s = f.schedule;
    const r3 = rounds[2]!;
    for (const [i, path] of f.ledgers.entries()) {
      const ledger = Ledger.openReadOnly(path);
      const statuses = rounds.map((r) => ledger.readRound(r)?.status);
      const third = ledger.readRound(r3);
      ledger.close();

      if (i < 2) {
        assert.deepEqual(statuses, ['outcome', 'outcome', 'abort', 'outcome', 'outcome']);
        const late = third!.finishedAt - roundDeadline(s, r3);
        assert.ok(late < START_TIMEOUT_MS + 500, `round 3 ended ${late} ms after its deadline`);
      } else {
        // Killed during round 3 (after taking its bids), it never ran it again.
        assert.deepEqual(statuses, ['outcome', 'outcome', 'interrupted', 'outcome', 'outcome']);
      }
      for (const round of rounds) {
        const report = verifyLedgerRound(path, round, f.clusterFile);
        if (i === 2 && round === r3) {
          assert.equal(report.ok, false);
          assert.match(report.problem!, /did not finish here/);
          continue;
        }
        assert.equal(report.ok, true, `ledger ${i} round ${round}: ${report.problem}`);
      }
    }
  });

  test('`auctioneer verify` passes on a ledger and fails on one edited by hand', async () => {
    await stopAll();
    const [, r2, , r4] = rounds as [bigint, bigint, bigint, bigint];
    const args = (ledger: string) => ['verify', '--ledger', ledger, '--round', String(r2)];
    const good = await run(process.execPath, [
      main,
      ...args(f.ledgers[0]!),
      '--cluster',
      f.clusterFile,
    ]);
    assert.match(good.stdout, /ok {4}coin: the seed follows from the 3 revealed ρ_j/);
    assert.match(good.stdout, /^verified: the record matches the recomputed round/m);

    // Someone rewrites the coin's input of round 2 in a copy of the ledger.
    const edited = join(f.dir, 'edited.sqlite');
    copyFileSync(f.ledgers[0]!, edited);
    const db = new Database(edited);
    db.exec('DROP TRIGGER coin_no_update');
    db.prepare('UPDATE coin SET rho = zeroblob(32) WHERE round = ? AND provider = 1').run(r2);
    db.close();
    await assert.rejects(
      run(process.execPath, [main, ...args(edited)]),
      (err: { code: number; stdout: string }) => {
        assert.equal(err.code, 1);
        assert.match(
          err.stdout,
          /NOT verified: coin: the recorded ρ_1 is not the one provider 1 \(gw-b\) revealed/,
        );
        return true;
      },
    );

    // A flipped byte in a recorded envelope breaks its signature.
    const flipped = join(f.dir, 'flipped.sqlite');
    copyFileSync(f.ledgers[1]!, flipped);
    const db2 = new Database(flipped);
    db2.exec('DROP TRIGGER envelopes_no_update');
    const row = db2
      .prepare("SELECT seq, bytes FROM envelopes WHERE round = ? AND phase = 'BA_REVEAL'")
      .get(r4) as { seq: number; bytes: Buffer };
    row.bytes[60] = row.bytes[60]! ^ 1;
    db2
      .prepare('UPDATE envelopes SET bytes = ? WHERE round = ? AND seq = ?')
      .run(row.bytes, r4, row.seq);
    db2.close();
    const report = verifyLedgerRound(flipped, r4);
    assert.equal(report.ok, false);
    assert.match(
      report.problem!,
      /BA_REVEAL of provider 0 \(gw-a\): the signature does not verify/,
    );
  });
});
