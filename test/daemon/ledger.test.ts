import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Ledger, type LedgerOwner } from '../../src/daemon/ledger.js';
import { daemonCluster } from '../../src/daemon/signed-bid.js';
import { loadKeys } from '../../src/node/keys.js';
import { signResult } from '../../src/node/signed-result.js';
import { AbortCode } from '../../src/protocol/abort.js';
import type { RoundFailure, RoundStats } from '../../src/protocol/fast-round.js';
import { Phase } from '../../src/protocol/phases.js';
import { sessionId } from '../../src/protocol/session.js';
import { writeDaemonFixture, type DaemonFixture } from './helpers.js';

describe('the ledger', () => {
  let f: DaemonFixture;
  let owner: LedgerOwner;
  before(async () => {
    f = await writeDaemonFixture({
      m: 3,
      k: 1,
      users: 1,
      periodMs: 1000,
      startInMs: 0,
      phaseTimeoutMs: 500,
      startTimeoutMs: 500,
    });
    owner = {
      clusterId: f.cluster.file.clusterId,
      providerId: 'gw-a',
      providerIndex: 0,
      paramsHash: 'ab'.repeat(32),
      clusterJson: JSON.stringify(f.cluster.file),
    };
  });
  after(() => rmSync(f.dir, { recursive: true, force: true }));

  const abort = (round: bigint): RoundFailure => ({
    ok: false,
    round,
    sid: sessionId(daemonCluster(f.cluster).params, round),
    reason: {
      code: AbortCode.TIMEOUT,
      blamed: [2],
      phase: Phase.START,
      message: 'deadline of START passed without a message from provider 2 (gw-c)',
      evidence: [new Uint8Array([1, 2, 3])],
    },
    stats: {} as RoundStats,
    durationMs: 3,
    transcript: [],
  });

  test('bids of a turn share a transaction; a round is written once, never rewritten', async () => {
    const path = join(f.dir, 'l1.sqlite');
    const ledger = Ledger.open(path, owner);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const bid = {
      bidder: 'u',
      signed: new Uint8Array([9]),
      receivedAt: 1,
      status: 'accepted',
    } as const;
    await Promise.all([
      ledger.recordBid({ ...bid, round: 4n }),
      ledger.recordBid({ ...bid, round: 5n }),
    ]);
    assert.equal(ledger.lastRound(), null);
    assert.deepEqual(ledger.unfinishedRounds(6n), [4n, 5n]);

    // The round and the bid still waiting go in one transaction.
    const keys = loadKeys(join(f.dir, 'keys-0'));
    const result = abort(5n);
    const signed = signResult(daemonCluster(f.cluster).params, 0, keys.signing, result);
    void ledger.recordBid({ ...bid, round: 5n, bidder: 'v' });
    ledger.recordRound(result, signed, 1234);
    const rec = ledger.readRound(5n)!;
    assert.equal(rec.status, 'abort');
    assert.equal(rec.abortCode, 'TIMEOUT');
    assert.deepEqual(rec.blamed, [2]);
    assert.deepEqual(rec.evidence, [new Uint8Array([1, 2, 3])]);
    assert.deepEqual(rec.signedResult, signed);
    assert.deepEqual(
      rec.bids.map((b) => b.bidder),
      ['u', 'v'],
    );
    assert.equal(ledger.lastRound(), 5n);

    assert.throws(() => ledger.recordRound(result, signed, 1235), /UNIQUE constraint/);
    ledger.recordInterrupted(4n, result.sid, 1, 'this provider stopped during the round');
    assert.deepEqual(ledger.unfinishedRounds(6n), []);
    ledger.close();

    const db = new Database(path);
    assert.throws(
      () => db.prepare("UPDATE rounds SET status = 'outcome' WHERE round = 5").run(),
      /finished rounds are never rewritten/,
    );
    db.close();
  });

  test('a ledger belongs to one provider of one cluster configuration', () => {
    const path = join(f.dir, 'l2.sqlite');
    Ledger.open(path, owner).close();
    assert.throws(
      () => Ledger.open(path, { ...owner, providerId: 'gw-b' }),
      /written with providerId = gw-a, not gw-b/,
    );
    assert.throws(
      () => Ledger.open(path, { ...owner, paramsHash: 'cd'.repeat(32) }),
      /written with paramsHash = abab/,
    );
  });

  test('an acknowledged bid survives kill -9 (WAL, synchronous = FULL)', async () => {
    const path = join(f.dir, 'l3.sqlite');
    const ledgerJs = fileURLToPath(new URL('../../src/daemon/ledger.js', import.meta.url));
    const script = `
      const { Ledger } = await import(${JSON.stringify(ledgerJs)});
      const ledger = Ledger.open(${JSON.stringify(path)}, ${JSON.stringify(owner)});
      await ledger.recordBid({ round: 7n, bidder: 'u', signed: new Uint8Array([1]),
        receivedAt: 1, status: 'accepted' });
      process.stdout.write('recorded\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('recorded') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const ledger = Ledger.open(path, owner);
    assert.deepEqual(ledger.acceptedBids(7n), [{ bidder: 'u', signed: new Uint8Array([1]) }]);
    ledger.close();
  });
});
