/** `auctioneer keygen`: creates an identity (Ed25519 signing key and CURVE key pair). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_FILES, writeNewKeys } from '../../node/keys.js';
import { ExitError } from '../errors.js';

/** Writes fresh keys into `out` (refusing to overwrite) and prints the public part. */
export function keygenCommand(o: { out: string }): void {
  if (existsSync(join(o.out, KEY_FILES.signing))) {
    throw new ExitError(2, `${o.out} already holds keys; refusing to overwrite them`);
  }
  const pub = writeNewKeys(o.out);
  process.stdout.write(JSON.stringify(pub, null, 2) + '\n');
}
