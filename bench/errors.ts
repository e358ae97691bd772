/**
 * How a bench fails: a round with a wrong result voids the run; a bench whose subject does not
 * exist yet is blocked. Both end the command with status 1 (main.ts).
 */
import { AuctioneerError } from '../src/core/errors.js';

/** A round whose result was not the right one: the bench reports it and exits non-zero. */
export class WrongResultError extends AuctioneerError {
  constructor(
    readonly label: string,
    readonly problems: readonly string[],
  ) {
    super('WRONG_RESULT', `${label}: ${problems.join('; ')}`);
  }
}

/** A bench that cannot run yet; the message says what it waits for. */
export class BlockedError extends AuctioneerError {
  constructor(message: string) {
    super('BLOCKED', message);
  }
}
