/**
 * The transport layer: point-to-point channels between providers (in memory for tests, ZeroMQ
 * with CURVE for deployments) and the client-facing JSON RPC.
 *
 * @example
 *   import { createMemoryNetwork, ZmqTransport, generateCurveKeyPair } from './transport/index.js';
 *   const [a, b] = createMemoryNetwork(2, { seed: 'demo' });
 *   const got: Uint8Array[] = [];
 *   b!.onFrame((from, frame) => got.push(frame));
 *   a!.send(1, new Uint8Array([1, 2, 3]));
 *   await a!.network.idle(); // got = [Uint8Array [1, 2, 3]]
 */
export type { FrameHandler, ProviderIndex, Transport, TransportStats } from './transport.js';
export { TransportError, RpcRemoteError, type TransportErrorCode } from './errors.js';
export {
  createMemoryNetwork,
  MemoryNetwork,
  MemoryTransport,
  type FrameFilter,
  type MemoryNetworkOptions,
  type MemoryNetworkStats,
} from './memory.js';
export {
  ZmqTransport,
  MAX_FRAME_BYTES,
  SEND_HIGH_WATER_MARK,
  MAX_QUEUE_FRAMES,
  MAX_QUEUE_BYTES,
  LINGER_MS,
  type ZmqPeer,
  type ZmqTransportOptions,
  type ZmqTransportStats,
} from './zmq.js';
export {
  RpcServer,
  RpcClient,
  MAX_REQUEST_BYTES,
  MAX_CONCURRENT_REQUESTS,
  REQUEST_TIMEOUT_MS,
  type RpcHandler,
  type RpcServerOptions,
  type RpcServerErrorCode,
  type RpcClientOptions,
  type RequestOptions,
} from './rpc.js';
export { generateCurveKeyPair, type CurveKeyPair } from './curve.js';
