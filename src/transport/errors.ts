/**
 * Errors of the transport layer. Every failure kind has a stable `code` on top of the shared
 * AuctioneerError base (src/core/errors.ts); callers branch on `code`, never on message text.
 */
import { AuctioneerError } from '../core/errors.js';

/** Failure kinds of the transport layer. */
export type TransportErrorCode =
  /** The transport, server or client was closed while the operation was pending. */
  | 'TRANSPORT_CLOSED'
  /** Binding a listening socket failed (address in use, bad endpoint). */
  | 'TRANSPORT_BIND'
  /** A request could not be encoded or was refused locally before it was sent. */
  | 'RPC_BAD_REQUEST'
  /** The caller aborted a pending request through its AbortSignal. */
  | 'RPC_ABORTED'
  /** The RPC server answered with `{ ok: false, error }`; see RpcRemoteError. */
  | 'RPC_REMOTE';

/** A transport operation that could not complete; `cause` keeps any ZeroMQ error and its code. */
export class TransportError extends AuctioneerError {
  declare readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * The RPC server handled the request and answered with an error. `remoteCode` is the code the
 * server sent (for example `MALFORMED_REQUEST`, `REQUEST_TOO_LARGE`, `BUSY`, or the `code` of an
 * error the handler threw), so callers can branch on it.
 */
export class RpcRemoteError extends TransportError {
  /** The `error.code` field of the server's reply. */
  readonly remoteCode: string;

  constructor(remoteCode: string, message: string) {
    super('RPC_REMOTE', `server replied ${remoteCode}: ${message}`);
    this.remoteCode = remoteCode;
  }
}
