import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseDaemonConfig } from '../../src/daemon/config.js';
import { openRound, roundDeadline, roundOpensAt } from '../../src/daemon/schedule.js';
import { writeDaemonFixture, type DaemonFixture } from './helpers.js';

describe('provider config file', () => {
  let f: DaemonFixture;
  let base: Record<string, unknown>;
  let source: string;
  before(async () => {
    f = await writeDaemonFixture({
      m: 3,
      k: 1,
      users: 2,
      periodMs: 2000,
      startInMs: 0,
      phaseTimeoutMs: 500,
      startTimeoutMs: 500,
    });
    source = f.configs[0]!;
    base = JSON.parse(readFileSync(source, 'utf8')) as Record<string, unknown>;
  });
  after(() => rmSync(f.dir, { recursive: true, force: true }));

  const parse = (patch: Record<string, unknown>) =>
    parseDaemonConfig({ ...base, ...patch }, source);
  const fails = (patch: Record<string, unknown>, message: RegExp) =>
    assert.throws(
      () => parse(patch),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CONFIG');
        assert.match(err.message, message);
        assert.ok(err.message.startsWith(`${source}: `), err.message);
        return true;
      },
    );

  test('a good config loads, with paths relative to its directory', () => {
    const c = parse({});
    assert.equal(c.self, 0);
    assert.equal(c.cluster.file.providers.length, 3);
    assert.equal(c.ledgerPath, join(f.dir, 'ledger-0.sqlite'));
    assert.equal(c.log.file, join(f.dir, 'provider-0.log'));
    assert.equal(c.schedule.bidDeadlineMs, 2000);
    assert.equal(c.status.host, '127.0.0.1');

    // The same cluster inline, with k and the auction given by the config.
    const cluster = JSON.parse(readFileSync(f.clusterFile, 'utf8')) as Record<string, unknown>;
    const { k, auction, ...rest } = cluster;
    const inline = parse({
      cluster: rest,
      k,
      auction,
      rounds: { periodMs: 1000, epoch: '2025-01-01T00:00:00Z' },
    });
    assert.equal(inline.cluster.params.k, 1);
    assert.equal(inline.schedule.epochMs, Date.parse('2025-01-01T00:00:00Z'));
  });

  test('a wrong config fails at start with the field and the reason', () => {
    fails({ id: undefined }, /: id: Invalid input: expected string/);
    fails({ id: 'gw-z' }, /: id: provider "gw-z" is not in the cluster file \(it has: gw-a/);
    fails({ rounds: { periodMs: 2000, perodMs: 1 } }, /: rounds: Unrecognized key: "perodMs"/);
    fails({ rounds: { periodMs: 50 } }, /: rounds\.periodMs: Too small/);
    fails({ rounds: { periodMs: 1000, bidDeadlineMs: 1500 } }, /bidDeadlineMs: 1500 exceeds/);
    fails({ rounds: { periodMs: 1000, epoch: 'yesterday' } }, /: rounds\.epoch: /);
    fails({ k: 0 }, /: k: 0 differs from 1 in .*cluster\.json; every provider must run/);
    fails({ auction: { kind: 'double', rule: 'paper' } }, /: auction: .*"paper".* differs/);
    fails({ keys: 'keys-1' }, /: keys: the signing key in keys-1 is not the one .* for gw-a/);
    fails({ keys: 'nowhere' }, /: keys: key file .*nowhere.*does not exist/);
    fails({ report: { ask: '-5', capacity: '10' } }, /: report\.ask: /);
    fails({ report: { ask: '5', capacity: '0' } }, /: report\.capacity: expected an integer/);
    fails({ cluster: 'missing.json' }, /: cluster: cannot read .*missing\.json/);
    fails({ status: 'localhost' }, /: status: host:port/);
  });
});

describe('round clock', () => {
  const s = { epochMs: 10_000, periodMs: 1000, bidDeadlineMs: 800 };

  test('round r opens at epoch + (r−1)·period and closes bidDeadlineMs later', () => {
    assert.equal(roundOpensAt(s, 1n), 10_000);
    assert.equal(roundDeadline(s, 1n), 10_800);
    assert.equal(roundDeadline(s, 3n), 12_800);
  });

  test('the open round is the first whose deadline is ahead', () => {
    assert.equal(openRound(s, 0), 1n);
    assert.equal(openRound(s, 10_799), 1n);
    assert.equal(openRound(s, 10_800), 2n);
    assert.equal(openRound(s, 11_000), 2n);
    assert.equal(openRound(s, 11_799), 2n);
    assert.equal(openRound(s, 11_800), 3n);
  });
});
