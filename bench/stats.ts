/**
 * Summaries of repeated measurements: the median, the smallest and the largest value. Benchmarks
 * report these three rather than a mean, because one slow run (a GC pause, a scheduler hiccup
 * on a 2-core machine shared by m + 1 processes) would move a mean but not the median.
 */

/** The median, min and max of a non-empty sample. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Summarises a sample. The median of an even count is the mean of the two middle values.
 *
 * @throws RangeError when the sample is empty or holds a value that is not finite
 */
export function spread(sample: readonly number[]): Spread {
  if (sample.length === 0) throw new RangeError('spread: expected at least one value, got none');
  const bad = sample.find((x) => !Number.isFinite(x));
  if (bad !== undefined) throw new RangeError(`spread: expected finite numbers, got ${bad}`);

  const s = [...sample].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/** Rounds to two decimals, for JSON and tables (times in ms, ratios). */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** A spread with every value rounded to two decimals. */
export function roundSpread(s: Spread): Spread {
  return { median: round2(s.median), min: round2(s.min), max: round2(s.max) };
}

/** paper / ours, rounded to two decimals; null when either side is missing or ours is 0. */
export function ratio(paper: number | null, ours: number | null): number | null {
  if (paper === null || ours === null || ours <= 0) return null;
  return round2(paper / ours);
}
