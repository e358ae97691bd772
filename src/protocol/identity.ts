/**
 * Ed25519 signing identities (node:crypto). A provider's public key travels as 32 raw bytes,
 * written base64url in files; the private key stays in a PKCS#8 PEM file readable by its owner
 * only. Verification never throws on bad input: a malformed signature simply fails.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { InvalidInputError } from '../core/errors.js';

/** DER prefix of an SPKI-encoded Ed25519 public key (RFC 8410); the raw key follows. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A private signing key and its public half. */
export interface SigningIdentity {
  readonly privateKey: KeyObject;
  readonly publicKey: Uint8Array;
}

/** Creates a fresh Ed25519 identity. */
export function generateSigningIdentity(): SigningIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

/** Loads an identity from a PKCS#8 PEM private key. */
export function signingIdentityFromPem(pem: string): SigningIdentity {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new InvalidInputError('signing key', privateKey.asymmetricKeyType, 'an Ed25519 key');
  }
  return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

/** The PKCS#8 PEM text of an identity's private key. */
export function signingIdentityToPem(id: SigningIdentity): string {
  return id.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** A verifier for one public key, parsed once. */
export class Verifier {
  private readonly key: KeyObject;

  constructor(readonly publicKey: Uint8Array) {
    if (publicKey.length !== 32) {
      throw new InvalidInputError('public key', publicKey.length, '32 bytes');
    }
    this.key = createPublicKey({
      key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
  }

  /** True when `signature` is a valid signature of `message`; false for anything else. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== 64) return false;
    try {
      return verify(null, message, this.key, signature);
    } catch {
      return false;
    }
  }
}

/** Signs `message` (Ed25519 takes no digest algorithm: null, per node:crypto). */
export function signBytes(id: SigningIdentity, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, id.privateKey));
}

/** Parses a base64url (or base64) public key of 32 bytes. */
export function parsePublicKey(field: string, text: unknown): Uint8Array {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_\-+/]{43}=?$/.test(text)) {
    throw new InvalidInputError(field, text, 'a 32-byte Ed25519 public key in base64url');
  }
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'));
  if (bytes.length !== 32) throw new InvalidInputError(field, text, 'a 32-byte key');
  return bytes;
}

/** The base64url text of a public key. */
export function formatPublicKey(key: Uint8Array): string {
  return Buffer.from(key).toString('base64url');
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}
