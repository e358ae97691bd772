/**
 * Exact memos of the two costliest pure crypto calls of a simulated round, installed only while
 * the simulator runs (simulate.ts withSimEnvironment):
 *
 * - Ed25519 verification. Every provider verifies the same broadcast envelope, so the same
 *   (public key, message, signature) triple is checked m−1 times; a verification is a pure
 *   function of that triple, so answering the repeats from a table changes no result and cuts
 *   the dominant cost (~170 µs per OpenSSL verification here) by a factor of about m−1. It
 *   patches Verifier.prototype.verify, because ProviderCore builds its own verifiers.
 * - Public-key parsing. Every ProviderCore parses the m public keys of its cluster (m² parses
 *   per run, ~100 µs each); the same DER bytes always give an equivalent, immutable KeyObject,
 *   so node:crypto's createPublicKey is wrapped (and the ESM bindings of node:crypto synced,
 *   so identity.ts sees the wrapper) to reuse them. Other call shapes pass through.
 *
 * Both are global to the thread: install them only in a thread that runs simulations.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { KeyObject, PublicKeyInput } from 'node:crypto';
import { equalBytes } from '../core/bytes.js';
import { Verifier } from '../protocol/identity.js';

/** Entries kept before a table is emptied (one run needs a few hundred). */
export const MEMO_ENTRIES = 4096;

type VerifyFn = (this: Verifier, message: Uint8Array, signature: Uint8Array) => boolean;
type CreatePublicKey = (key: unknown) => KeyObject;

const cryptoModule = createRequire(import.meta.url)('node:crypto') as {
  createPublicKey: CreatePublicKey;
};

let originalVerify: VerifyFn | null = null;
let originalCreate: CreatePublicKey | null = null;
let verifications = new Map<string, { key: Uint8Array; message: Uint8Array; ok: boolean }[]>();
let keys = new Map<string, KeyObject>();
let counters = { hits: 0, misses: 0 };

/** Installs both memos (idempotent); returns a function that removes them. */
export function installCryptoMemo(): () => void {
  if (originalVerify === null) {
    const real = Verifier.prototype.verify as VerifyFn;
    originalVerify = real;
    Verifier.prototype.verify = function memoVerify(message, signature): boolean {
      // Indexed by the signature; a hit must also match the key and the message byte for byte.
      const sig = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
      const index = sig.toString('latin1');
      const seen = verifications.get(index);
      const known = seen?.find(
        (e) => equalBytes(e.key, this.publicKey) && equalBytes(e.message, message),
      );
      if (known) {
        counters.hits++;
        return known.ok;
      }

      counters.misses++;
      const ok = real.call(this, message, signature);
      if (verifications.size >= MEMO_ENTRIES) verifications = new Map();
      const entry = { key: this.publicKey, message: message.slice(), ok };
      verifications.set(index, [...(seen ?? []), entry]);
      return ok;
    };
  }
  if (originalCreate === null) {
    const real = cryptoModule.createPublicKey;
    originalCreate = real;
    cryptoModule.createPublicKey = (input: unknown) => {
      const der = derInput(input);
      if (der === null) return real(input);
      const have = keys.get(der);
      if (have) return have;
      const made = real(input);
      if (keys.size >= MEMO_ENTRIES) keys = new Map();
      keys.set(der, made);
      return made;
    };
    syncBuiltinESMExports();
  }
  return uninstallCryptoMemo;
}

/** Removes both memos and forgets their tables. */
export function uninstallCryptoMemo(): void {
  if (originalVerify !== null) {
    Verifier.prototype.verify = originalVerify;
    originalVerify = null;
  }
  if (originalCreate !== null) {
    cryptoModule.createPublicKey = originalCreate;
    originalCreate = null;
    syncBuiltinESMExports();
  }
  verifications = new Map();
  keys = new Map();
}

/** Verification hits and misses since the last reset (for measuring the simulator). */
export function cryptoMemoStats(): { hits: number; misses: number } {
  return { ...counters };
}

/** Resets the hit and miss counters. */
export function resetCryptoMemoStats(): void {
  counters = { hits: 0, misses: 0 };
}

/** The memo key of a { key: DER bytes, format: 'der', type: 'spki' } input, else null. */
function derInput(input: unknown): string | null {
  if (typeof input !== 'object' || input === null || input instanceof Uint8Array) return null;
  const o = input as PublicKeyInput & { key?: unknown; type?: unknown };
  if (o.format !== 'der' || o.type !== 'spki' || !(o.key instanceof Uint8Array)) return null;
  if (Object.keys(o).length !== 3) return null;
  return Buffer.from(o.key.buffer, o.key.byteOffset, o.key.byteLength).toString('latin1');
}
