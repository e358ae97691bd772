/**
 * The paper's numbers, digitised from the vector drawings of Figures 4 and 5 of Khan, Vilaça,
 * Rodrigues and Freitag (ICDCS 2016), as listed in shared/specs/protocols.md §9. The mapping of
 * drawn series to legend entries was inferred from drawing order, so read them as approximate.
 *
 * The paper's prototype: Python on PyPy over ØMQ, providers in OpenVZ containers of 1 CPU each
 * on 4 Guifi.net hosts (Intel i7-3770), one client that measured "from input generation until
 * all results are back", 100 runs averaged.
 */

/** Users n at which Figure 4 (double auction) was read. */
export const PAPER_DOUBLE_USERS: readonly number[] = [25, 100, 200, 400, 600, 800, 1000];

/** Series of Figure 4: the centralised auctioneer and k = 1, 2, 3. */
export type DoubleSeries = 'centralised' | 'k=1' | 'k=2' | 'k=3';

/** Providers the paper ran for each k of Figure 4 (k=1 → 3, k=2 → 5, k=3 → 8). */
export const PAPER_PROVIDERS_FOR_K: Readonly<Record<number, number>> = { 1: 3, 2: 5, 3: 8 };

/** Figure 4: seconds per round, one value per entry of PAPER_DOUBLE_USERS. */
export const PAPER_DOUBLE_SECONDS: Readonly<Record<DoubleSeries, readonly number[]>> = {
  centralised: [0.012, 0.021, 0.037, 0.064, 0.09, 0.115, 0.145],
  'k=1': [0.033, 0.045, 0.092, 0.142, 0.214, 0.277, 0.343],
  'k=2': [0.035, 0.066, 0.124, 0.222, 0.326, 0.422, 0.543],
  'k=3': [0.044, 0.1, 0.206, 0.344, 0.499, 0.674, 0.818],
};

/** Users n at which Figure 5 (standard auction) was read (the first is "about 25"). */
export const PAPER_STANDARD_USERS: readonly number[] = [25, 50, 75, 100, 125];

/** Series of Figure 5: parallelism p (p = 1 is the centralised, serial run). */
export type StandardSeries = 'p=1' | 'p=2' | 'p=4';

/** k of each series of Figure 5, with m = 8: p = ⌊m/(k+1)⌋; p = 1 is centralised. */
export const PAPER_K_FOR_P: Readonly<Record<StandardSeries, number | null>> = {
  'p=1': null,
  'p=2': 3,
  'p=4': 1,
};

/** Figure 5: seconds per round, one value per entry of PAPER_STANDARD_USERS. */
export const PAPER_STANDARD_SECONDS: Readonly<Record<StandardSeries, readonly number[]>> = {
  'p=1': [0.2, 1.5, 15.5, 104, 387],
  'p=2': [2.8, 3.1, 10.5, 63, 193],
  'p=4': [2.9, 3.1, 7.1, 31, 137],
};

/** The paper's value in milliseconds for a series at n users, or null where it has none. */
export function paperMs(
  users: readonly number[],
  seconds: readonly number[] | undefined,
  n: number,
): number | null {
  const i = users.indexOf(n);
  if (i < 0 || !seconds) return null;
  return Math.round(seconds[i]! * 1000 * 100) / 100;
}
