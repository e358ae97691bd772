/**
 * How a bench fails: a round with a wrong result voids the run and ends the command with
 * status 1 (main.ts).
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
