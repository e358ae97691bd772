/**
 * A provider's key directory: its Ed25519 signing key (PKCS#8 PEM) and its CURVE key pair
 * (Z85), each in a file readable by its owner only, plus a public summary.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import {
  formatPublicKey,
  generateSigningIdentity,
  signingIdentityFromPem,
  signingIdentityToPem,
  type SigningIdentity,
} from '../protocol/identity.js';
import { generateCurveKeyPair, type CurveKeyPair } from '../transport/curve.js';

/** File names inside a key directory. */
export const KEY_FILES = {
  signing: 'signing.pem',
  curve: 'curve.json',
  public: 'public.json',
} as const;

/** A loaded identity: signing and transport keys. */
export interface ProviderKeys {
  readonly signing: SigningIdentity;
  readonly curve: CurveKeyPair;
}

/** The public half of an identity, as printed by keygen and written in cluster files. */
export interface PublicIdentity {
  readonly signingKey: string;
  readonly curveKey: string;
}

/** Creates a key directory with fresh keys; private files get mode 0600. */
export function writeNewKeys(dir: string): PublicIdentity {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const signing = generateSigningIdentity();
  const curve = generateCurveKeyPair();
  writePrivate(join(dir, KEY_FILES.signing), signingIdentityToPem(signing));
  writePrivate(join(dir, KEY_FILES.curve), JSON.stringify(curve, null, 2) + '\n');
  const pub: PublicIdentity = {
    signingKey: formatPublicKey(signing.publicKey),
    curveKey: curve.publicKey,
  };
  writeFileSync(join(dir, KEY_FILES.public), JSON.stringify(pub, null, 2) + '\n');
  return pub;
}

/** Loads a key directory, refusing private files that others can read. */
export function loadKeys(dir: string): ProviderKeys {
  const signingPath = join(dir, KEY_FILES.signing);
  const curvePath = join(dir, KEY_FILES.curve);
  for (const p of [signingPath, curvePath]) checkPrivate(p);

  const signing = signingIdentityFromPem(readFileSync(signingPath, 'utf8'));
  let curve: CurveKeyPair;
  try {
    curve = JSON.parse(readFileSync(curvePath, 'utf8')) as CurveKeyPair;
  } catch (err) {
    throw new ConfigError(`${curvePath}: not a CURVE key file: ${(err as Error).message}`);
  }
  if (typeof curve.publicKey !== 'string' || typeof curve.secretKey !== 'string') {
    throw new ConfigError(`${curvePath}: expected { "publicKey", "secretKey" } in Z85`);
  }
  return { signing, curve };
}

function writePrivate(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function checkPrivate(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    throw new ConfigError(`key file ${path} does not exist (create keys with: auctioneer keygen)`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(`key file ${path} is readable by others; run: chmod 600 ${path}`);
  }
}
