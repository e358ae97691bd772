import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('auctioneer demo (provider processes over ZeroMQ)', () => {
  test('--json reports an outcome equal to the centralised one', async () => {
    const args = ['demo', '--scenario', 'paper', '--users', '30', '--providers', '3', '--k', '1'];
    const { stdout } = await run(process.execPath, [main, ...args, '--json'], { timeout: 60_000 });
    const s = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(s.providers, 3);
    assert.equal(s.users, 30);
    assert.equal(s.k, 1);
    assert.equal(s.rule, 'safe');
    assert.equal(s.status, 'outcome');
    assert.equal(s.matchesCentralised, true);
    assert.match(String(s.outcomeHash), /^[0-9a-f]{64}$/);
    assert.ok(typeof s.roundMs === 'number' && s.roundMs > 0);
    assert.equal(s.envelopes, 3 * 2 * 4);
    assert.ok(typeof s.bytes === 'number' && s.bytes > 0);
  });

  test('m < 2k+1 is refused before anything starts, naming the numbers', async () => {
    const args = ['demo', '--scenario', 'paper', '--providers', '4', '--k', '2'];
    await assert.rejects(
      run(process.execPath, [main, ...args]),
      (err: { stderr: string; code: number }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /4 providers cannot tolerate k = 2/);
        return true;
      },
    );
  });

  test('bad flags name the flag and the value', async () => {
    await assert.rejects(
      run(process.execPath, [main, 'demo', '--users', 'many']),
      (err: { stderr: string; code: number }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /--users: expected an integer in \[1, 1000000\], got "many"/);
        return true;
      },
    );
  });

  test('an option that does not apply to the auction or agreement is refused, not ignored', async () => {
    const cases: [string[], RegExp][] = [
      [['--groups', '3'], /--groups: applies to --auction standard only \(this run: double\)/],
      [['--ks', 'crypto'], /--ks: applies to --agreement faithful only \(this run: fast\)/],
      [['--auction', 'standard', '--rule', 'paper'], /--rule: applies to --auction double only/],
    ];
    for (const [args, message] of cases) {
      await assert.rejects(
        run(process.execPath, [main, 'demo', ...args]),
        (err: { stderr: string; code: number }) => {
          assert.equal(err.code, 2, args.join(' '));
          assert.match(err.stderr, message);
          return true;
        },
      );
    }
  });
});
