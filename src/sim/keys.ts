/**
 * Signing identities for simulations, derived from the simulation seed so that a run is the
 * same bytes on every machine, and made once per process (key setup is the slow part of a
 * small cluster): providers 0..m−1 of every run use identities 0..m−1, and one more identity
 * stands for a key no cluster knows.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { Writer, utf8 } from '../core/bytes.js';
import { hmacSha256 } from '../core/hash.js';
import type { SigningIdentity } from '../protocol/identity.js';

/** Largest number of providers in a simulated cluster. */
export const MAX_SIM_PROVIDERS = 8;

/** DER prefix of a PKCS#8 Ed25519 private key (RFC 8410); the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The identities of one simulation: one per provider slot and an outsider's. */
export interface SimIdentities {
  /** Index i signs for provider i in every run. */
  readonly providers: readonly SigningIdentity[];
  /** A key that belongs to no cluster (for "a message from an unknown key"). */
  readonly outsider: SigningIdentity;
}

const cache = new Map<string, SimIdentities>();

/** The identities for a simulation seed, derived once per process. */
export function simIdentities(seed: string): SimIdentities {
  const have = cache.get(seed);
  if (have) return have;

  const derive = (label: string) => identityFromSeed(hmacSha256(utf8(seed), utf8(label)));
  const ids: SimIdentities = {
    providers: Array.from({ length: MAX_SIM_PROVIDERS }, (_, i) => derive(`sim/key/${i}`)),
    outsider: derive('sim/key/outsider'),
  };
  cache.set(seed, ids);
  return ids;
}

/** An Ed25519 identity whose private key is the given 32-byte seed (RFC 8032). */
export function identityFromSeed(seed32: Uint8Array): SigningIdentity {
  const der = new Writer(48).raw(PKCS8_ED25519_PREFIX).raw(seed32.subarray(0, 32)).finish();
  const privateKey = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey: new Uint8Array(spki.subarray(spki.length - 32)) };
}
