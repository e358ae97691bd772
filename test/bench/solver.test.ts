/**
 * `bench solver`: a real run in a worker equals the mechanism run in this process on the same
 * coin, and the table counts finished runs, runs past the limit and solves by the search.
 * Nothing here asserts a time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resultHeader, startMark } from '../../bench/results.js';
import { coinSeed, runSolverBench, solverFiles, solverTable } from '../../bench/solver.js';
import { standardWorkload } from '../../bench/standard.js';
import { toHex } from '../../src/core/bytes.js';
import { encodeStandardOutcome } from '../../src/mechanisms/standard/codec.js';
import { runPvcg } from '../../src/mechanisms/standard/pvcg.js';
import { DEFAULT_EPSILON_PPM } from '../../src/mechanisms/standard/types.js';
import { outcomeHash } from '../../src/protocol/fast-round.js';

describe('bench solver', () => {
  test('a worker run is the mechanism on the coin it names', async () => {
    const r = await runSolverBench({
      users: [25],
      coins: 2,
      timeoutS: 600,
      seed: '1',
      command: 'test',
    });
    assert.equal(r.samples.length, 2);

    const scenario = standardWorkload('1', 25);
    for (const s of r.samples) {
      const outcome = runPvcg(
        {
          providers: scenario.providers,
          users: scenario.users,
          epsilonPpm: DEFAULT_EPSILON_PPM,
          mode: 'midr',
        },
        coinSeed(s.coin),
      );
      assert.ok(s.run, `coin ${s.coin} finished`);
      assert.equal(s.run.outcomeHash, toHex(outcomeHash(encodeStandardOutcome(outcome))));
      assert.equal(s.run.winners, outcome.winners.length);
      assert.ok(s.run.searchSolves <= 1 + s.run.winners);
    }
    assert.notEqual(r.samples[0]!.run!.outcomeHash, r.samples[1]!.run!.outcomeHash);
  });

  test('the table: finished runs, runs past the limit, solves by the search', () => {
    const run = (wallMs: number, winners: number, searchSolves: number) => ({
      wallMs,
      winners,
      searchSolves,
      outcomeHash: '00',
    });
    const r = {
      ...resultHeader('solver', 'npm run bench -- solver', startMark(), []),
      options: { users: [150, 250], coins: 3, timeoutS: 30, seed: '1' },
      samples: [
        { n: 150, coin: 0, run: run(15_000, 27, 28) },
        { n: 150, coin: 1, run: null },
        { n: 150, coin: 2, run: null },
        { n: 250, coin: 0, run: run(100, 40, 0) },
        { n: 250, coin: 1, run: run(300, 44, 0) },
        { n: 250, coin: 2, run: run(200, 42, 0) },
      ],
    };
    assert.deepEqual(solverTable(r).rows, [
      ['150', '3', '15000.0 [15000.0–15000.0]', '2', '28 of 28'],
      ['250', '3', '200.0 [100.0–300.0]', '0', '0 of 129'],
    ]);
    assert.match(solverFiles(r)['solver.md']!, /not done in 30 s/);
  });
});
