/**
 * The contract every transport between providers fulfils: the ZeroMQ one for deployments and
 * the in-memory one for tests. A transport moves opaque frames; it neither parses nor signs
 * them (the protocol layer does both), but it does authenticate the channel: `from` in a
 * delivered frame is the configured index of the peer whose channel the frame came in on,
 * never a value read from the frame itself.
 */

/** Index of a provider in the session's ordered provider list, 0..m-1. */
export type ProviderIndex = number;

/** Called for every frame that arrives, in arrival order per channel. */
export type FrameHandler = (from: ProviderIndex, frame: Uint8Array) => void;

/** Counters a transport keeps for reports and benchmarks. */
export interface TransportStats {
  /** Frames handed to send() (a broadcast to m−1 peers counts m−1). */
  framesSent: number;
  /** Payload bytes handed to send(). */
  bytesSent: number;
  framesReceived: number;
  bytesReceived: number;
}

/** A provider's view of its point-to-point channels to every other provider. */
export interface Transport {
  /** This provider's index. */
  readonly self: ProviderIndex;
  /** Number of providers m. */
  readonly size: number;
  /** Queues a frame for one peer; never blocks, never throws for a slow or absent peer. */
  send(to: ProviderIndex, frame: Uint8Array): void;
  /** Sends the same frame to every peer except self. */
  broadcast(frame: Uint8Array): void;
  /** Registers the single handler for incoming frames (replaces any earlier one). */
  onFrame(handler: FrameHandler): void;
  /** Counters since creation. */
  stats(): TransportStats;
  /** Stops delivery and releases sockets; pending frames may be dropped. */
  close(): Promise<void>;
}
