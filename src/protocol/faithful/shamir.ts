/**
 * Shamir secret sharing over GF(65521) for the `it` knowledge sharing (protocols.md §2.2, §4.1),
 * on typed arrays: one polynomial of degree ≤ k per lane, provider i evaluated at α_i = i + 1.
 *
 * 65521 is the largest 16-bit prime, so a share fits a u16 and a product of two field elements
 * is below 2^32: sums of up to 2^21 such products stay exact in a JS number, which lets the
 * inner loops reduce once per lane instead of once per term.
 *
 * @example
 *   const shares = dealShares(new Uint16Array([1, 0, 1]), 1, 3, randomBytes);
 *   const r = new Reconstructor(3, 1);
 *   const out = new Uint16Array(3);
 *   r.reconstruct(shares, out); // → { ok: true }, out = [1, 0, 1]
 */

/** The field's prime p. */
export const FIELD_PRIME = 65521;

const INV_PRIME = 1 / FIELD_PRIME;

/**
 * x mod p for an integer 0 ≤ x < 2^52, without floating-point `%` (slow): the quotient from one
 * multiplication is off by at most one, which the two corrections fix, so the result is exact.
 */
export function modP(x: number): number {
  const r = x - Math.floor(x * INV_PRIME) * FIELD_PRIME;
  return r < 0 ? r + FIELD_PRIME : r >= FIELD_PRIME ? r - FIELD_PRIME : r;
}

/** Evaluation point of provider i: α_i = i + 1 (never 0, which holds the secret). */
export function evaluationPoint(i: number): number {
  return i + 1;
}

/** (a · b) mod p for field elements a, b. */
export function mulMod(a: number, b: number): number {
  return (a * b) % FIELD_PRIME;
}

/** The multiplicative inverse of a non-zero field element (extended Euclid). */
export function invMod(a: number): number {
  let [r0, r1] = [((a % FIELD_PRIME) + FIELD_PRIME) % FIELD_PRIME, FIELD_PRIME];
  if (r0 === 0) throw new RangeError('invMod: 0 has no inverse');
  let [s0, s1] = [1, 0];
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % FIELD_PRIME) + FIELD_PRIME) % FIELD_PRIME;
}

/**
 * Lagrange weights λ_t(z) for the points xs: f(z) = Σ_t λ_t(z) · f(xs[t]) for every polynomial
 * of degree < xs.length. The xs must be distinct field elements.
 */
export function lagrangeWeights(xs: readonly number[], z: number): Uint32Array {
  const out = new Uint32Array(xs.length);
  for (let t = 0; t < xs.length; t++) {
    let num = 1;
    let den = 1;
    for (let u = 0; u < xs.length; u++) {
      if (u === t) continue;
      num = mulMod(num, (z - xs[u]! + FIELD_PRIME) % FIELD_PRIME);
      den = mulMod(den, (xs[t]! - xs[u]! + FIELD_PRIME) % FIELD_PRIME);
    }
    out[t] = mulMod(num, invMod(den));
  }
  return out;
}

/**
 * `count` uniform field elements drawn by rejection from 16-bit big-endian words of `random`
 * (about 1 word in 4369 is rejected, so the result is exactly uniform on [0, p)).
 */
export function randomFieldElements(count: number, random: (n: number) => Uint8Array): Uint16Array {
  const out = new Uint16Array(count);
  let filled = 0;
  while (filled < count) {
    const bytes = random(2 * (count - filled) + 16);
    for (let b = 0; b + 1 < bytes.length && filled < count; b += 2) {
      const v = (bytes[b]! << 8) | bytes[b + 1]!;
      if (v < FIELD_PRIME) out[filled++] = v;
    }
  }
  return out;
}

/**
 * Deals one degree-k polynomial per lane with f_ℓ(0) = secrets[ℓ] and uniform other
 * coefficients; returns shares[r][ℓ] = f_ℓ(α_r) for every provider r in 0..m-1.
 */
export function dealShares(
  secrets: Uint16Array,
  k: number,
  m: number,
  random: (n: number) => Uint8Array,
): Uint16Array[] {
  const n = secrets.length;
  const coeffs = randomFieldElements(n * k, random); // a_c of lane ℓ at (c−1)·n + ℓ

  // Horner per receiver, one coefficient at a time over all lanes:
  // f(α) = ((a_k·α + a_{k-1})·α + … + a_1)·α + secret.
  const shares: Uint16Array[] = [];
  const acc = new Uint32Array(n);
  for (let r = 0; r < m; r++) {
    const alpha = evaluationPoint(r) % FIELD_PRIME;
    acc.fill(0);
    for (let c = k - 1; c >= -1; c--) {
      const term = c >= 0 ? coeffs.subarray(c * n, (c + 1) * n) : secrets;
      for (let l = 0; l < n; l++) acc[l] = modP(acc[l]! * alpha + term[l]!);
    }
    shares.push(Uint16Array.from(acc));
  }
  return shares;
}

/** Why reconstruction of one origin's lanes failed: a point off the polynomial. */
export interface Inconsistency {
  readonly ok: false;
  /** The first lane whose points do not lie on one polynomial of degree ≤ k. */
  readonly lane: number;
  /** A reporter whose point is off the polynomial through the first k+1 points. */
  readonly reporter: number;
}

/**
 * Reconstructs secrets from the points of all m providers (§4.1 "decide"): the first k+1
 * providers T fix the polynomial, every other point must lie on it, and f(0) is the secret.
 * The Lagrange weights are computed once per (m, k).
 */
export class Reconstructor {
  private readonly atZero: Uint32Array;
  /** atPoint[(r − (k+1))·(k+1) + t] = λ_t(α_r) for r ∉ T. */
  private readonly atPoint: Uint32Array;

  constructor(
    readonly m: number,
    readonly k: number,
  ) {
    if (m < k + 1) throw new RangeError(`Reconstructor: ${m} points cannot fix degree ${k}`);
    if (m >= FIELD_PRIME) throw new RangeError(`Reconstructor: m = ${m} needs m < p`);
    const xs = Array.from({ length: k + 1 }, (_, t) => evaluationPoint(t));
    this.atZero = lagrangeWeights(xs, 0);
    this.atPoint = new Uint32Array((m - k - 1) * (k + 1));
    for (let r = k + 1; r < m; r++) {
      this.atPoint.set(lagrangeWeights(xs, evaluationPoint(r)), (r - k - 1) * (k + 1));
    }
  }

  /**
   * Writes f_ℓ(0) of every lane into `out`, from points[r][ℓ] = f_ℓ(α_r); returns the first
   * inconsistency instead when some point is off its lane's polynomial.
   */
  reconstruct(points: readonly Uint16Array[], out: Uint16Array): { ok: true } | Inconsistency {
    const k1 = this.k + 1;
    const n = out.length;
    const acc = new Float64Array(n);

    // Check every point outside T against the polynomial through T, one reporter at a time.
    for (let r = k1; r < this.m; r++) {
      combine(points, this.atPoint.subarray((r - k1) * k1, (r - k1 + 1) * k1), acc);
      const pr = points[r]!;
      for (let l = 0; l < n; l++) {
        if (modP(acc[l]!) !== pr[l]) return { ok: false, lane: l, reporter: r };
      }
    }

    // Then f(0) from T.
    combine(points, this.atZero, acc);
    for (let l = 0; l < n; l++) out[l] = modP(acc[l]!);
    return { ok: true };
  }
}

/**
 * acc[ℓ] = Σ_t w[t] · points[t][ℓ], unreduced: each term is below 2^32, so the sum is exact for
 * up to 2^21 terms. One tight loop per term keeps the inner loop monomorphic.
 */
function combine(points: readonly Uint16Array[], w: Uint32Array, acc: Float64Array): void {
  acc.fill(0);
  for (let t = 0; t < w.length; t++) {
    const wt = w[t]!;
    const pt = points[t]!;
    for (let l = 0; l < acc.length; l++) acc[l]! += wt * pt[l]!;
  }
}
