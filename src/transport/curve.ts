/**
 * CURVE key helpers: Z85 text (ZeroMQ RFC 32), key-pair generation, and the pairwise routing ids
 * that let a provider's ROUTER tell, without trusting the frame, which configured peer a
 * connection belongs to (see zmq.ts for why the ZAP `identity` frame cannot do this).
 *
 * @example
 *   const { publicKey, secretKey } = generateCurveKeyPair(); // two 40-character Z85 strings
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import * as zmq from 'zeromq';
import { ConfigError } from '../core/errors.js';
import { hmacSha256 } from '../core/hash.js';
import { toHex, utf8 } from '../core/bytes.js';

/** A CURVE (X25519) key pair as ZeroMQ writes it: two 40-character Z85 strings. */
export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

const Z85_ALPHABET =
  '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_VALUE = new Map([...Z85_ALPHABET].map((c, i) => [c, i]));
const KEY_BYTES = 32;
const KEY_Z85_CHARS = 40;
/** DER prefix of a PKCS#8 X25519 private key; the 32 raw key bytes follow. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const ROUTING_ID_DOMAIN = utf8('auctioneer/zmq/routing-id/v1');

/** Generates a fresh CURVE key pair for a provider or an RPC server (libzmq's generator). */
export function generateCurveKeyPair(): CurveKeyPair {
  const { publicKey, secretKey } = zmq.curveKeyPair();
  return { publicKey, secretKey };
}

/**
 * Decodes a Z85 string (length a multiple of 5) to bytes.
 *
 * @throws RangeError for a length that is not a multiple of 5 or a character outside Z85.
 */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0)
    throw new RangeError(`z85: length ${text.length} is not a multiple of 5`);
  const out = new Uint8Array((text.length / 5) * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < text.length; i += 5) {
    let v = 0;
    for (let k = 0; k < 5; k++) {
      const d = Z85_VALUE.get(text[i + k]!);
      if (d === undefined) throw new RangeError(`z85: invalid character at ${i + k}`);
      v = v * 85 + d;
    }
    if (v > 0xffffffff) throw new RangeError(`z85: group at ${i} exceeds 32 bits`);
    view.setUint32((i / 5) * 4, v);
  }
  return out;
}

/**
 * Encodes bytes (length a multiple of 4) as Z85.
 *
 * @throws RangeError for a length that is not a multiple of 4.
 */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0)
    throw new RangeError(`z85: length ${bytes.length} is not a multiple of 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let v = view.getUint32(i);
    const group = new Array<string>(5);
    for (let k = 4; k >= 0; k--) {
      group[k] = Z85_ALPHABET[v % 85]!;
      v = Math.floor(v / 85);
    }
    out += group.join('');
  }
  return out;
}

/**
 * Decodes and checks one Z85 CURVE key (40 characters, 32 bytes).
 *
 * @throws ConfigError naming `field` when the text is not a valid key.
 */
export function parseCurveKey(field: string, text: unknown): Uint8Array {
  if (typeof text !== 'string' || text.length !== KEY_Z85_CHARS) {
    throw new ConfigError(`${field}: expected a ${KEY_Z85_CHARS}-character Z85 CURVE key`);
  }
  try {
    return z85Decode(text);
  } catch (err) {
    throw new ConfigError(`${field}: not a Z85 CURVE key (${(err as Error).message})`);
  }
}

/**
 * Checks that a secret key and a public key form one pair, so a typo in a configuration file is
 * caught at start-up instead of as a silent authentication failure later.
 *
 * @throws ConfigError when either key is malformed or they do not match.
 */
export function checkCurveKeyPair(publicKey: string, secretKey: string): void {
  const pub = parseCurveKey('curvePublicKey', publicKey);
  const derived = publicFromSecret(parseCurveKey('curveSecretKey', secretKey));
  if (Buffer.compare(Buffer.from(derived), Buffer.from(pub)) !== 0) {
    throw new ConfigError('curvePublicKey: does not belong to curveSecretKey');
  }
}

/**
 * The routing id a sender's DEALER presents to a receiver's ROUTER: 64 hex characters of
 * HMAC-SHA-256 keyed with the X25519 secret the two CURVE keys share, over the direction
 * (sender key, receiver key). Either side computes it from its own key pair and the other's
 * public key; nobody else can, because that takes one of the two secret keys. The id travels
 * inside the CURVE-encrypted handshake, so an eavesdropper never sees it either.
 *
 * @param own The key pair of the side computing the id.
 * @param otherPublicKey Z85 public key of the other side.
 * @param ownRole Whether `own` is the sender (DEALER) or the receiver (ROUTER) of the channel.
 */
export function pairwiseRoutingId(
  own: CurveKeyPair,
  otherPublicKey: string,
  ownRole: 'sender' | 'receiver',
): string {
  const other = parseCurveKey('otherPublicKey', otherPublicKey);
  const shared = x25519(parseCurveKey('secretKey', own.secretKey), other);
  const mine = parseCurveKey('publicKey', own.publicKey);
  const [sender, receiver] = ownRole === 'sender' ? [mine, other] : [other, mine];
  return toHex(hmacSha256(shared, ROUTING_ID_DOMAIN, sender, receiver));
}

/** X25519(secret, public): the 32-byte shared secret CURVE itself derives for the key pair. */
function x25519(secret: Uint8Array, pub: Uint8Array): Uint8Array {
  const privateKey = privateKeyObject(secret);
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(pub).toString('base64url') },
    format: 'jwk',
  });
  return new Uint8Array(diffieHellman({ privateKey, publicKey }));
}

function publicFromSecret(secret: Uint8Array): Uint8Array {
  const jwk = createPublicKey(privateKeyObject(secret)).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x!, 'base64url'));
}

function privateKeyObject(secret: Uint8Array): KeyObject {
  if (secret.length !== KEY_BYTES)
    throw new RangeError(`x25519: secret key of ${secret.length} bytes`);
  const der = Buffer.concat([PKCS8_X25519_PREFIX, secret]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}
