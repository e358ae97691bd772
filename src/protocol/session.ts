/**
 * Session parameters and the session id (protocols.md §3.1). Everything every provider must
 * agree on before a round starts goes into the canonical parameter bytes; the session id binds
 * the round number to them, so no message of one round or cluster is valid in another.
 */
import { Writer, utf8 } from '../core/bytes.js';
import { ConfigError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import {
  checkFaithfulParams,
  faithfulParamsBytes,
  type FaithfulParams,
} from './faithful/params.js';

/** One provider as every other provider knows it. */
export interface ProviderInfo {
  /** Its agent id (also its bidder id when it bids, as in the double auction). */
  readonly id: string;
  /** Its Ed25519 public key, 32 bytes. */
  readonly signingKey: Uint8Array;
}

/** The parameters that stay the same from round to round in one cluster. */
export interface ClusterParams {
  /** A name that keeps two clusters with the same keys apart. */
  readonly clusterId: string;
  /** The largest coalition tolerated; m ≥ 2k + 1 is required. */
  readonly k: number;
  /** Providers in index order 0..m-1. */
  readonly providers: readonly ProviderInfo[];
  /** "fast" (bid level, §6) or "faithful" (bit level, §4). */
  readonly agreement: 'fast' | 'faithful';
  /** Canonical bytes of the mechanism and its parameters. */
  readonly mechanismParams: Uint8Array;
  /** Faithful mode only: the bidder registry, KS flavour and decision rule (#4). */
  readonly faithful?: FaithfulParams;
}

/** Refuses parameters the protocol cannot run with: m < 2k+1, duplicate ids or keys. */
export function checkClusterParams(p: ClusterParams): void {
  const m = p.providers.length;
  if (!Number.isInteger(p.k) || p.k < 0) {
    throw new ConfigError(`k: expected an integer ≥ 0, got ${p.k}`);
  }
  if (m < 2 * p.k + 1) {
    throw new ConfigError(
      `providers: ${m} providers cannot tolerate k = ${p.k}; m ≥ 2k+1 = ${2 * p.k + 1} is required`,
    );
  }
  if (m > 0xfffe) throw new ConfigError(`providers: at most 65534 supported, got ${m}`);

  const ids = new Set(p.providers.map((x) => x.id));
  if (ids.size !== m) throw new ConfigError('providers: two providers share an id');
  const keys = new Set(p.providers.map((x) => Buffer.from(x.signingKey).toString('hex')));
  if (keys.size !== m) throw new ConfigError('providers: two providers share a signing key');
  if (p.agreement === 'faithful') checkFaithfulParams(p.faithful, m);
}

/** SHA-256 of the canonical encoding of the cluster parameters. */
export function clusterParamsHash(p: ClusterParams): Uint8Array {
  const w = new Writer().raw(utf8('DA/params/v1')).string(p.clusterId).u16(p.k);
  w.u16(p.providers.length);
  for (const prov of p.providers) w.string(prov.id).raw(prov.signingKey);
  w.string(p.agreement).bytes(p.mechanismParams);
  if (p.agreement === 'faithful' && p.faithful) w.bytes(faithfulParamsBytes(p.faithful));
  return sha256(w.finish());
}

/**
 * The session id of one round:
 * SHA256("DA/sid/v1" ‖ u64be(round) ‖ SHA256(public keys in order) ‖ SHA256(params)).
 * The bidder set is open in fast mode (decided by the agreement); the faithful mode's fixed
 * registry is part of the parameters, hence of the id.
 */
export function sessionId(p: ClusterParams, round: bigint): Uint8Array {
  const keys = sha256(...p.providers.map((x) => x.signingKey));
  const w = new Writer().raw(utf8('DA/sid/v1')).u64(round).raw(keys).raw(clusterParamsHash(p));
  return sha256(w.finish());
}
