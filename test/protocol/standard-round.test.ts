/**
 * The standard auction on the parallel allocator: task 1 everywhere, payment tasks on p groups
 * of at least k+1 providers, their results through data transfer, task 3 everywhere.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Reader, Writer, equalBytes } from '../../src/core/bytes.js';
import { encodeStandardBid, encodeStandardProvider } from '../../src/mechanisms/standard/codec.js';
import { standardAuctionMechanism } from '../../src/mechanisms/standard/mechanism.js';
import { ProviderCore } from '../../src/node/provider-core.js';
import { AbortCode } from '../../src/protocol/abort.js';
import type { OutgoingHook, RoundResult } from '../../src/protocol/fast-round.js';

import { generateSigningIdentity } from '../../src/protocol/identity.js';
import { Phase } from '../../src/protocol/phases.js';
import type { ClusterParams } from '../../src/protocol/session.js';
import { paperStandardWorkload } from '../../src/scenarios/standard.js';
import { createMemoryNetwork } from '../../src/transport/memory.js';

const IDS = Array.from({ length: 8 }, () => generateSigningIdentity());
const mechanism = standardAuctionMechanism({ epsilonPpm: 100_000, mode: 'midr', resources: 1 });

async function run(
  m: number,
  k: number,
  groups: number,
  seed: number,
  deviate: Record<number, OutgoingHook> = {},
): Promise<RoundResult[]> {
  const s = paperStandardWorkload({ users: 24, providers: m, seed });
  const params: ClusterParams = {
    clusterId: `standard-${seed}`,
    k,
    providers: s.providers.map((p, i) => ({ id: p.id, signingKey: IDS[i]!.publicKey })),
    agreement: 'fast',
    mechanismParams: mechanism.paramsBytes(),
  };
  const net = createMemoryNetwork(m, { seed: `std-${seed}`, maxDelayMs: 3 });
  const cores = net.map(
    (transport, i) =>
      new ProviderCore({
        params,
        self: i,
        identity: IDS[i]!,
        transport,
        mechanism,
        groups,
        ownBid: () => encodeStandardProvider(s.providers[i]!),
        phaseTimeoutMs: 5_000,
        ...(deviate[i] && { outgoing: deviate[i] }),
      }),
  );
  for (const c of cores) for (const u of s.users) c.submitBid(1n, u.id, encodeStandardBid(u));
  return Promise.all(cores.map((c) => c.close(1n)));
}

describe('standard auction over groups', () => {
  for (const [m, k, groups] of [
    [8, 3, 1],
    [8, 3, 2],
    [8, 1, 4],
  ] as const) {
    test(`m=${m} k=${k} p=${groups}: every provider outputs the centralised outcome`, async () => {
      const res = await run(m, k, groups, 7);
      const first = res[0]!;
      assert.ok(first.ok, first.ok ? '' : first.reason.message);
      const central = mechanism.run(first.agreedBids, first.seed);
      for (const r of res) {
        assert.ok(r.ok);
        assert.ok(equalBytes(r.outcomeBytes, central.outcomeBytes));
      }
      if (groups > 1) assert.deepEqual(res[1]!.ok && res[1]!.tasks, ['1', `2.${1 % groups}`, '3']);
    });
  }

  test('a group member that vouches for a wrong payment is named by every honest provider', async () => {
    // Provider 5 is in group 1 of 4 (k = 1): it vouches for another hash of task 2.1.
    const lie: OutgoingHook = (phase, payload, peers) => {
      if (phase !== Phase.DT) return null;
      const r = new Reader(payload);
      const group = r.u16();
      const hash = r.raw(32).slice();
      hash[0] = hash[0]! ^ 1;
      const w = new Writer().u16(group).raw(hash).bytes(r.bytes());
      return new Map(peers.map((p) => [p, w.finish()]));
    };
    const res = await run(8, 1, 4, 9, { 5: lie });
    for (const [i, r] of res.entries()) {
      if (i === 5) continue;
      assert.equal(r.ok, false, `provider ${i} should output ⊥`);
      if (r.ok) continue;
      const named = r.reason.code === AbortCode.TRANSFER_MISMATCH && r.reason.blamed.includes(5);
      const relayed = r.reason.code === AbortCode.PEER_ABORT && r.reason.blamed.length === 0;
      assert.ok(named || relayed, `provider ${i}: ${r.reason.message}`);
      assert.ok(!r.reason.blamed.some((b) => b !== 5), r.reason.message);
    }
    const named = res.filter((r, i) => i !== 5 && !r.ok && r.reason.blamed.includes(5));
    assert.ok(named.length >= 1);
  });
});
