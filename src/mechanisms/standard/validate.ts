/**
 * Input checks for the standard auction: every report is parsed from untrusted data (JSON,
 * a form, a decoded message) into exact bigints, and every refusal is an InvalidInputError
 * naming the field path (e.g. `users[3].demand[1]`) and the value received.
 */
import { InvalidInputError } from '../../core/errors.js';
import { MAX_QUANTITY, checkAgentId, toBoundedInteger } from '../../core/units.js';
import {
  DEFAULT_EPSILON_PPM,
  MAX_EPSILON_PPM,
  type StandardAuctionInput,
  type StandardMode,
  type StandardProvider,
  type StandardUser,
} from './types.js';

/** Largest bid of one user for its whole demand, in micro-units (10^15 = 10^9 currency units). */
export const MAX_STANDARD_BID = 1_000_000_000_000_000n;

/** Most resource types R per auction. */
export const MAX_RESOURCES = 64;

/** Most providers per auction. */
export const MAX_STANDARD_PROVIDERS = 1024;

/** Most users per auction. */
export const MAX_STANDARD_USERS = 1_000_000;

/**
 * Parses one provider report `{ id, capacity }` (no other keys).
 *
 * @param resources when given, the required vector length R
 * @throws InvalidInputError for a bad id, an unknown key, a capacity vector of the wrong
 *   length, or an entry that is not an integer in [0, MAX_QUANTITY]
 */
export function parseStandardProvider(
  raw: unknown,
  field: string,
  resources?: number,
): StandardProvider {
  const o = record(raw, field, ['id', 'capacity']);
  const id = checkAgentId(`${field}.id`, o['id']);
  const capacity = vector(o['capacity'], `${field}.capacity`, MAX_QUANTITY, resources);
  return { id, capacity };
}

/**
 * Parses one user report `{ id, demand, accepts?, bid }` (no other keys). `accepts` absent or
 * null means every provider; an empty list means none (the user cannot be served, which is
 * what remains when every provider it named is absent from the round).
 *
 * @param resources when given, the required vector length R
 * @throws InvalidInputError for a bad id, an unknown key, a demand vector of the wrong
 *   length or all zero, a bad or repeated accepted id, or a bid that is not an integer in
 *   [0, MAX_STANDARD_BID]
 */
export function parseStandardUser(raw: unknown, field: string, resources?: number): StandardUser {
  const o = record(raw, field, ['id', 'demand', 'accepts', 'bid']);
  const id = checkAgentId(`${field}.id`, o['id']);
  const demand = vector(o['demand'], `${field}.demand`, MAX_QUANTITY, resources);
  if (demand.every((d) => d === 0n)) {
    throw new InvalidInputError(`${field}.demand`, o['demand'], 'a vector that is not all zero');
  }

  // Accepted providers: null (all) or a list of distinct ids.
  let accepts: string[] | null = null;
  const a = o['accepts'];
  if (a !== undefined && a !== null) {
    if (!Array.isArray(a) || a.length > MAX_STANDARD_PROVIDERS) {
      throw new InvalidInputError(`${field}.accepts`, a, 'null or a list of provider ids');
    }
    accepts = a.map((x: unknown, j) => checkAgentId(`${field}.accepts[${j}]`, x));
    const seen = new Set<string>();
    accepts.forEach((x, j) => {
      if (seen.has(x)) throw new InvalidInputError(`${field}.accepts[${j}]`, x, 'no repeated id');
      seen.add(x);
    });
  }

  const bid = toBoundedInteger(`${field}.bid`, o['bid'], 0n, MAX_STANDARD_BID);
  return { id, demand, accepts, bid };
}

/**
 * Parses and cross-checks a whole input: at least one provider, one vector length R for all
 * capacities and demands, distinct provider ids, distinct user ids, accepted ids that name
 * providers, ε in 0..MAX_EPSILON_PPM ppm (default 100_000), mode `midr` (default) or `wvcg`.
 *
 * @returns a normalised copy (bigints, accept lists as given)
 * @throws InvalidInputError naming the offending field and value
 */
export function validateStandardAuctionInput(raw: unknown, field = 'input'): StandardAuctionInput {
  const o = record(raw, field, ['providers', 'users', 'epsilonPpm', 'mode']);

  // Providers: one capacity length R for all, distinct ids.
  const rawProviders = list(o['providers'], `${field}.providers`, 1, MAX_STANDARD_PROVIDERS);
  const providers = rawProviders.map((p, k) =>
    parseStandardProvider(p, `${field}.providers[${k}]`),
  );
  const R = providers[0]!.capacity.length;
  if (R > MAX_RESOURCES) {
    throw new InvalidInputError(
      `${field}.providers[0].capacity`,
      R,
      `at most ${MAX_RESOURCES} types`,
    );
  }
  const providerIds = new Set<string>();
  providers.forEach((p, k) => {
    if (p.capacity.length !== R) {
      const f = `${field}.providers[${k}].capacity`;
      throw new InvalidInputError(f, p.capacity.length, `a vector of length ${R}`);
    }
    if (providerIds.has(p.id)) {
      throw new InvalidInputError(`${field}.providers[${k}].id`, p.id, 'an id not used before');
    }
    providerIds.add(p.id);
  });

  // Users: demand length R, distinct ids, accepted ids among the providers.
  const rawUsers = list(o['users'], `${field}.users`, 0, MAX_STANDARD_USERS);
  const users = rawUsers.map((u, k) => parseStandardUser(u, `${field}.users[${k}]`));
  const userIds = new Set<string>();
  users.forEach((u, k) => {
    const f = `${field}.users[${k}]`;
    if (u.demand.length !== R) {
      throw new InvalidInputError(`${f}.demand`, u.demand.length, `a vector of length ${R}`);
    }
    if (userIds.has(u.id)) throw new InvalidInputError(`${f}.id`, u.id, 'an id not used before');
    userIds.add(u.id);
    u.accepts?.forEach((a, j) => {
      if (!providerIds.has(a))
        throw new InvalidInputError(`${f}.accepts[${j}]`, a, 'a provider id');
    });
  });

  const epsilonPpm = epsilon(o['epsilonPpm'] ?? DEFAULT_EPSILON_PPM, `${field}.epsilonPpm`);
  const mode = parseMode(o['mode'] ?? 'midr', `${field}.mode`);
  return { providers, users, epsilonPpm, mode };
}

/**
 * Checks ε in parts per million: an integer in 0..MAX_EPSILON_PPM.
 *
 * @throws InvalidInputError otherwise
 */
export function epsilon(value: unknown, field: string): number {
  const v = toBoundedInteger(field, value, 0n, BigInt(MAX_EPSILON_PPM));
  return Number(v);
}

/** Checks a mode name. */
function parseMode(value: unknown, field: string): StandardMode {
  if (value !== 'midr' && value !== 'wvcg') {
    throw new InvalidInputError(field, value, '"midr" or "wvcg"');
  }
  return value;
}

function record(raw: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidInputError(field, raw, `an object with ${keys.join(', ')}`);
  }
  for (const k of Object.keys(raw)) {
    if (!keys.includes(k)) throw new InvalidInputError(`${field}.${k}`, k, 'no such field');
  }
  return raw as Record<string, unknown>;
}

function list(raw: unknown, field: string, min: number, max: number): unknown[] {
  if (!Array.isArray(raw) || raw.length < min || raw.length > max) {
    const size = min === max ? `${min}` : `${min} to ${max}`;
    throw new InvalidInputError(field, raw, `a list of ${size} entries`);
  }
  return raw;
}

function vector(raw: unknown, field: string, max: bigint, length?: number): bigint[] {
  const v = list(raw, field, length ?? 1, length ?? MAX_RESOURCES);
  return v.map((x, r) => toBoundedInteger(`${field}[${r}]`, x, 0n, max));
}
