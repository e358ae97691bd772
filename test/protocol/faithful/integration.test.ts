/**
 * The faithful mode outside the round engine: the cluster file, the provider's bid intake, a
 * round through ProviderCore, and `auctioneer demo --agreement faithful` over ZeroMQ.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { ConfigError, InvalidInputError } from '../../../src/core/errors.js';
import { encodeDoubleBid } from '../../../src/mechanisms/double/codec.js';
import { doubleAuctionMechanism } from '../../../src/mechanisms/double/mechanism.js';
import { parseCluster } from '../../../src/node/cluster.js';
import { ProviderCore } from '../../../src/node/provider-core.js';
import { formatPublicKey } from '../../../src/protocol/identity.js';
import { generateCurveKeyPair } from '../../../src/transport/curve.js';
import { createMemoryNetwork } from '../../../src/transport/memory.js';
import { IDS, outcomes, setupRound } from './harness.js';

const run = promisify(execFile);
const main = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

function clusterFile(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    clusterId: 'c1',
    k: 1,
    auction: { kind: 'double' },
    providers: [0, 1, 2].map((i) => ({
      id: `gw-${i}`,
      peerAddress: `tcp://127.0.0.1:${7000 + i}`,
      clientAddress: `tcp://127.0.0.1:${7100 + i}`,
      signingKey: formatPublicKey(IDS[i]!.publicKey),
      curveKey: generateCurveKeyPair().publicKey,
    })),
    ...extra,
  };
}

describe('cluster file, faithful mode', () => {
  test('needs a registry, sorts it, and defaults to ks it and the majority rule', () => {
    assert.throws(
      () => parseCluster(clusterFile({ agreement: 'faithful' }), 'c.json'),
      (e: unknown) =>
        e instanceof ConfigError && /c\.json: bidders: a bidder registry/.test(e.message),
    );
    const c = parseCluster(clusterFile({ agreement: 'faithful', bidders: ['u-2', 'gw-0', 'u-1'] }));
    assert.deepEqual(c.params.faithful, {
      bidders: ['gw-0', 'u-1', 'u-2'],
      ks: 'it',
      rule: 'majority',
    });
    const f = clusterFile({
      agreement: 'faithful',
      ks: 'crypto',
      decisionRule: 'leader',
      bidders: [],
    });
    assert.deepEqual(parseCluster(f).params.faithful, {
      bidders: [],
      ks: 'crypto',
      rule: 'leader',
    });
  });

  test('refuses an unknown flavour, rule or a repeated bidder, naming the field', () => {
    const bad = (extra: Record<string, unknown>) =>
      assert.throws(
        () => parseCluster(clusterFile({ agreement: 'faithful', bidders: ['a'], ...extra })),
        ConfigError,
      );
    bad({ ks: 'shamir' });
    bad({ decisionRule: 'parity' });
    assert.throws(
      () => parseCluster(clusterFile({ agreement: 'faithful', bidders: ['a', 'a'] })),
      /bidders: a appears twice/,
    );
  });

  test('a fast cluster file is unchanged (no faithful parameters)', () => {
    assert.equal(parseCluster(clusterFile({})).params.faithful, undefined);
  });
});

describe('provider core, faithful mode', () => {
  test('refuses bidders outside the registry, then runs a round in memory', async () => {
    const s = setupRound({ m: 3, k: 1, ks: 'crypto', users: 5, seed: 'core', scripted: [0, 1, 2] });
    const network = createMemoryNetwork(3, { seed: 'core', maxDelayMs: 2 });
    const mechanism = doubleAuctionMechanism('safe');
    const cores = network.map(
      (transport, i) =>
        new ProviderCore({
          params: s.params,
          self: i,
          identity: IDS[i]!,
          transport,
          mechanism,
          ownBid: () => encodeDoubleBid(s.scenario.providers[i]!),
        }),
    );

    const stranger = encodeDoubleBid({ kind: 'user', id: 'stranger', bid: 5n, demand: 5n });
    assert.throws(
      () => cores[0]!.submitBid(1n, 'stranger', stranger),
      (e: unknown) => e instanceof InvalidInputError && /registry/.test(e.message),
    );
    for (const core of cores)
      for (const u of s.scenario.users) core.submitBid(1n, u.id, encodeDoubleBid(u));
    const res = outcomes(await Promise.all(cores.map((c) => c.close(1n))));
    assert.equal(res[0]!.agreedBids.length, 8);
  });
});

describe('auctioneer demo --agreement faithful (provider processes over ZeroMQ)', () => {
  for (const [ks, rule, perProvider] of [
    ['it', 'majority', 7],
    ['crypto', 'leader', 6],
  ] as const) {
    test(`--ks ${ks} --decision-rule ${rule}: centralised outcome, traffic per phase`, async () => {
      const args = ['demo', '--scenario', 'paper', '--users', '30', '--providers', '3', '--k', '1'];
      const flags = ['--agreement', 'faithful', '--ks', ks, '--decision-rule', rule, '--json'];
      const { stdout } = await run(process.execPath, [main, ...args, ...flags], {
        timeout: 60_000,
      });
      const s = JSON.parse(stdout) as Record<string, unknown>;
      assert.equal(s.status, 'outcome');
      assert.equal(s.matchesCentralised, true);
      assert.equal(s.agreement, 'faithful');
      assert.equal(s.ks, ks);
      assert.equal(s.decisionRule, rule);
      assert.equal(s.envelopes, 3 * 2 * perProvider);
      const env = s.phaseEnvelopes as Record<string, number>;
      const bytes = s.phaseBytes as Record<string, number>;
      assert.equal(Object.keys(env).length, perProvider);
      assert.ok(Object.values(env).every((n) => n === 6));
      assert.equal(
        Object.values(bytes).reduce((a, b) => a + b, 0),
        s.bytes,
      );
    });
  }
});
