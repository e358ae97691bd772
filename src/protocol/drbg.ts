/**
 * The deterministic random bit generator that turns a common-coin seed into samples
 * (protocols.md §7.3). Every provider that holds the same seed and label draws the same
 * sequence, on any platform: HMAC-SHA-256 blocks, rejection sampling for integers, and no
 * floating-point or transcendental arithmetic anywhere in the integer paths.
 *
 * @example
 *   const rng = new Drbg(seed, 'alloc/task/1/draw');
 *   const i = rng.uniformInt(10n); // 0n..9n
 */
import { hmacSha256 } from '../core/hash.js';
import { Writer, utf8 } from '../core/bytes.js';

const DOMAIN = utf8('DA/drbg/v1');

/** A labelled, left-to-right byte stream derived from a 32-byte seed. */
export class Drbg {
  private block: Uint8Array = new Uint8Array(0);
  private offset = 0;
  private counter = 0n;
  private readonly prefix: Uint8Array;

  constructor(
    private readonly seed: Uint8Array,
    label: string,
  ) {
    const l = utf8(label);
    this.prefix = new Writer(DOMAIN.length + 4 + l.length)
      .raw(DOMAIN)
      .u32(l.length)
      .raw(l)
      .finish();
  }

  /** The next n bytes of the stream. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.offset === this.block.length) this.refill();
      const take = Math.min(n - filled, this.block.length - this.offset);
      out.set(this.block.subarray(this.offset, this.offset + take), filled);
      this.offset += take;
      filled += take;
    }
    return out;
  }

  /** A uniform integer in [0, n), exact (no modulo bias); consumes nothing when n = 1. */
  uniformInt(n: bigint): bigint {
    if (n < 1n) throw new RangeError(`uniformInt bound must be ≥ 1, got ${n}`);
    if (n === 1n) return 0n;
    const bits = bitLength(n - 1n);
    const nbytes = Math.ceil(bits / 8);
    const mask = (1n << BigInt(bits)) - 1n;
    for (;;) {
      let v = 0n;
      for (const b of this.bytes(nbytes)) v = (v << 8n) | BigInt(b);
      v &= mask;
      if (v < n) return v;
    }
  }

  /** A uniform integer in [lo, hi], both inclusive. */
  intBetween(lo: bigint, hi: bigint): bigint {
    if (hi < lo) throw new RangeError(`intBetween: empty range [${lo}, ${hi}]`);
    return lo + this.uniformInt(hi - lo + 1n);
  }

  /** A uniform double in [0, 1) with 53 random bits (exact; for reporting, not for outcomes). */
  uniform01(): number {
    let v = 0n;
    for (const b of this.bytes(8)) v = (v << 8n) | BigInt(b);
    return Number(v >> 11n) / 2 ** 53;
  }

  /** True with probability a/b (integers, 0 ≤ a ≤ b, b ≥ 1). */
  bernoulli(a: bigint, b: bigint): boolean {
    return this.uniformInt(b) < a;
  }

  /** An index drawn with probability proportional to non-negative integer weights. */
  weighted(weights: readonly bigint[]): number {
    const total = weights.reduce((s, w) => s + w, 0n);
    const u = this.uniformInt(total);
    let acc = 0n;
    for (let i = 0; i < weights.length; i++) {
      acc += weights[i]!;
      if (u < acc) return i;
    }
    throw new RangeError('weighted: all weights are zero');
  }

  /** Shuffles a copy with Fisher–Yates from the top index down. */
  shuffle<T>(xs: readonly T[]): T[] {
    const out = xs.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Number(this.uniformInt(BigInt(i + 1)));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  private refill(): void {
    const t = new Writer(8).u64(this.counter).finish();
    this.block = hmacSha256(this.seed, this.prefix, t);
    this.offset = 0;
    this.counter += 1n;
  }
}

/** Number of bits needed to write a positive bigint. */
export function bitLength(v: bigint): number {
  let bits = 0;
  while (v > 0n) {
    v >>= 1n;
    bits++;
  }
  return bits;
}
