/**
 * Units and limits shared by the mechanisms, the scenarios and the bid intake.
 *
 * - Bandwidth is an integer number of base units (one unit = 1 kbit/s in the scenarios).
 * - Money is an integer number of micro-units (1 currency unit = 1_000_000 micro-units);
 *   a price is micro-units per bandwidth unit, so price × units is micro-units.
 *
 * Everything that decides an outcome is a bigint. A price or a quantity fits 64 bits; a
 * product of the two can reach 10^21, so money totals are encoded in 128 bits (docs/decisions.md
 * D1).
 */
import { InvalidInputError } from './errors.js';

/** Micro-units in one currency unit. */
export const MICRO = 1_000_000n;

/** Largest accepted unit price, in micro-units per bandwidth unit (10^6 currency units). */
export const MAX_PRICE = 1_000_000_000_000n;

/** Largest accepted quantity (demand or capacity), in bandwidth units (10^9 kbit/s = 1 Tbit/s). */
export const MAX_QUANTITY = 1_000_000_000n;

/** Agent ids: printable ASCII, so that string order equals byte order on every provider. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9_.:@+/=-]{1,128}$/;

/**
 * Converts a user-supplied number, numeric string or bigint into an integer bigint in
 * [min, max], or throws InvalidInputError naming `field` and the value.
 */
export function toBoundedInteger(field: string, value: unknown, min: bigint, max: bigint): bigint {
  const expected = `an integer in [${min}, ${max}]`;
  let v: bigint;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new InvalidInputError(field, value, expected);
    v = BigInt(value);
  } else if (typeof value === 'string' && /^-?[0-9]{1,30}$/.test(value.trim())) {
    v = BigInt(value.trim());
  } else {
    throw new InvalidInputError(field, value, expected);
  }
  if (v < min || v > max) throw new InvalidInputError(field, value, expected);
  return v;
}

/** Checks an agent id against AGENT_ID_PATTERN. */
export function checkAgentId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !AGENT_ID_PATTERN.test(value)) {
    throw new InvalidInputError(field, value, 'an id of 1–128 characters from [A-Za-z0-9_.:@+/=-]');
  }
  return value;
}

/** Compares agent ids in canonical (byte) order; ids are ASCII so code-unit order is byte order. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
