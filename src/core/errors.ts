/**
 * Error classes shared by every layer. Each failure kind has its own class and a stable `code`
 * that callers and tests branch on; messages are for people and may change.
 */

/** Base class of every error this project throws on purpose. */
export class AuctioneerError extends Error {
  /** Stable, machine-readable identity of the failure kind. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Bad input from a person or a file: a bid, a scenario, a flag. Names the field, the value
 * received and what was expected, so the message alone tells the user what to fix.
 */
export class InvalidInputError extends AuctioneerError {
  readonly field: string;
  readonly value: unknown;

  constructor(field: string, value: unknown, expected: string) {
    super('INVALID_INPUT', `${field}: expected ${expected}, got ${describeValue(value)}`);
    this.field = field;
    this.value = value;
  }
}

/** Untrusted bytes from the network that do not decode to a well-formed message. */
export class InvalidMessageError extends AuctioneerError {
  constructor(message: string) {
    super('INVALID_MESSAGE', message);
  }
}

/** A configuration that cannot run: m < 2k+1, unknown keys, a missing field. */
export class ConfigError extends AuctioneerError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

/** A wait that ran past its deadline. */
export class TimeoutError extends AuctioneerError {
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}

/** Renders a received value for an error message, short and unambiguous. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (value === undefined) return 'nothing';
  try {
    const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    return json === undefined ? String(value) : json.length > 80 ? json.slice(0, 80) + '…' : json;
  } catch {
    return String(value);
  }
}
