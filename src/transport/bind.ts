/** Binding a server socket, with a short grace period for an address that is being released. */
import type * as zmq from 'zeromq';
import { TransportError } from './errors.js';

/**
 * How long a bind retries EADDRINUSE. libzmq closes a listener asynchronously, so a socket
 * closed a moment ago in this process (a restart, a test) can hold its port for a few ms; a port
 * held by anything else still fails after this grace period.
 */
export const BIND_GRACE_MS = 500;
const BIND_RETRY_MS = 10;

/**
 * Binds `socket` to `address`, retrying EADDRINUSE for up to BIND_GRACE_MS.
 *
 * @throws TransportError `TRANSPORT_BIND` (with the ZeroMQ error as `cause`) on failure.
 */
export async function bindWithGrace(socket: zmq.Socket, address: string): Promise<void> {
  const deadline = performance.now() + BIND_GRACE_MS;
  for (;;) {
    try {
      await socket.bind(address);
      return;
    } catch (err) {
      const inUse = (err as { code?: string }).code === 'EADDRINUSE';
      if (!inUse || performance.now() >= deadline) {
        throw new TransportError('TRANSPORT_BIND', `cannot bind ${address}`, { cause: err });
      }
      await new Promise((resolve) => setTimeout(resolve, BIND_RETRY_MS));
    }
  }
}
