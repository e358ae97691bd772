import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { checkAgentId } from '../../src/core/units.js';
import { userIdOf, userKey } from '../../src/daemon/signed-bid.js';
import { loadKeys } from '../../src/node/keys.js';

const run = promisify(execFile);
const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('auctioneer keygen, for a provider or a user', () => {
  test('writes owner-only private files and prints the public part, a user id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auctioneer-keygen-'));
    try {
      const out = join(dir, 'alice');
      const { stdout } = await run(process.execPath, [main, 'keygen', '--out', out]);
      const pub = JSON.parse(stdout) as { signingKey: string; curveKey: string };

      assert.equal(statSync(out).mode & 0o777, 0o700);
      for (const f of ['signing.pem', 'curve.json']) {
        assert.equal(statSync(join(out, f)).mode & 0o777, 0o600, f);
      }
      assert.deepEqual(JSON.parse(readFileSync(join(out, 'public.json'), 'utf8')), pub);

      // The printed signing key is the user's id: a valid agent id whose key signs its bids.
      assert.equal(userIdOf(loadKeys(out).signing), pub.signingKey);
      assert.equal(checkAgentId('id', pub.signingKey), pub.signingKey);
      assert.ok(userKey(pub.signingKey));

      await assert.rejects(
        run(process.execPath, [main, 'keygen', '--out', out]),
        /refusing to overwrite/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
