/**
 * How the CLI ends: an ExitError carries the exit status and a message meant for the user;
 * any AuctioneerError is the user's input or environment; anything else is a bug.
 */
import { AuctioneerError } from '../core/errors.js';

/** Ends the command with `status`, printing `message` (if any) on stderr. */
export class ExitError extends AuctioneerError {
  constructor(
    readonly status: number,
    message = '',
  ) {
    super('EXIT', message);
  }
}

/** Prints an error as the user should see it and returns the exit status. */
export function reportError(err: unknown): number {
  if (err instanceof ExitError) {
    if (err.message) process.stderr.write(`${err.message}\n`);
    return err.status;
  }
  if (err instanceof AuctioneerError) {
    process.stderr.write(`error (${err.code}): ${err.message}\n`);
    return 2;
  }
  process.stderr.write(
    `internal error — this is a bug, please report it with the command you ran:\n` +
      `${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 70;
}
