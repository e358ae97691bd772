/** Argument checks shared by the transports (programmer errors, hence built-in error types). */
import type { ProviderIndex, Transport } from './transport.js';

/**
 * Checks that `to` names a peer of `t`: an integer in [0, size) other than self.
 *
 * @throws RangeError otherwise.
 */
export function checkPeerIndex(
  t: Pick<Transport, 'self' | 'size'>,
  to: ProviderIndex,
  field = 'to',
): ProviderIndex {
  if (!Number.isInteger(to) || to < 0 || to >= t.size || to === t.self) {
    throw new RangeError(
      `${field}: expected a peer index in [0, ${t.size}) other than ${t.self}, got ${to}`,
    );
  }
  return to;
}

/**
 * Checks that a frame is bytes.
 *
 * @throws TypeError otherwise.
 */
export function checkFrame(frame: unknown): asserts frame is Uint8Array {
  if (!(frame instanceof Uint8Array)) throw new TypeError('frame: expected a Uint8Array');
}
