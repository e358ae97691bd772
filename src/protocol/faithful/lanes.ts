/**
 * The per-lane decision rules of the faithful bid agreement (protocols.md §2.4), over all lanes
 * at once: inputs[i] holds provider i's reconstructed (or revealed) bit of every lane.
 *
 * - MAJORITY: 1 when more than m/2 providers input 1, else 0 (a tie, possible only for even m,
 *   gives 0).
 * - LEADER: every lane of bidder t takes the input of that bidder's leader L_t, so the whole bid
 *   follows one provider ("adopt the leader's bid", §4.1).
 */
import { Writer, utf8 } from '../../core/bytes.js';
import { sha256 } from '../../core/hash.js';
import { Drbg } from '../drbg.js';

/** MAJORITY on every lane; `out` receives 0/1 per lane. */
export function majorityLanes(inputs: readonly Uint8Array[], out: Uint8Array): void {
  const m = inputs.length;
  const ones = new Uint16Array(out.length);
  for (const x of inputs) for (let l = 0; l < out.length; l++) ones[l]! += x[l]!;
  for (let l = 0; l < out.length; l++) out[l] = 2 * ones[l]! > m ? 1 : 0;
}

/** LEADER: bidder t's L lanes are copied from inputs[leaders[t]]. */
export function leaderLanes(
  inputs: readonly Uint8Array[],
  leaders: Uint16Array,
  bitsPerBid: number,
  out: Uint8Array,
): void {
  for (let t = 0; t < leaders.length; t++) {
    const from = t * bitsPerBid;
    out.set(inputs[leaders[t]!]!.subarray(from, from + bitsPerBid), from);
  }
}

/**
 * Leaders from KS values (`it`): L_t = (Σ_j ρ_{j,t}) mod m, where rhos[j][t] is provider j's
 * reconstructed ρ for bidder t, each already checked to lie in [0, m).
 */
export function leadersFromShares(rhos: readonly Uint16Array[], m: number, n: number): Uint16Array {
  const out = new Uint16Array(n);
  for (let t = 0; t < n; t++) {
    let s = 0;
    for (const r of rhos) s += r[t]!;
    out[t] = s % m;
  }
  return out;
}

/**
 * Leaders from revealed randomness (`crypto`, §4.2): L_t = uniformInt(m) drawn from the stream
 * labelled "leader/<t>" of SHA256("DA/leader/v1" ‖ sid ‖ R_0 ‖ … ‖ R_{m−1}).
 */
export function leadersFromSeeds(
  sid: Uint8Array,
  seeds: readonly Uint8Array[],
  n: number,
): Uint16Array {
  const w = new Writer().raw(utf8('DA/leader/v1')).raw(sid);
  for (const r of seeds) w.raw(r);
  const root = sha256(w.finish());
  const m = BigInt(seeds.length);
  const out = new Uint16Array(n);
  for (let t = 0; t < n; t++) out[t] = Number(new Drbg(root, `leader/${t}`).uniformInt(m));
  return out;
}
