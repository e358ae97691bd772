/**
 * m transports connected in memory, for tests and simulations. A seeded scheduler decides the
 * delivery order: with `reorder` (the default) it delivers a random frame among those due, across
 * and within channels, and each frame may get a random extra delay; every draw comes from a Drbg,
 * so the same seed and the same sequence of sends give the same deliveries.
 *
 * Time is kept on a virtual clock: a frame sent while virtual time is t is due at
 * t + latencyMs + delay (delay uniform in [0, maxDelayMs]); the scheduler always delivers a due
 * frame with the earliest time, advances the clock to it, and sleeps the real difference so
 * protocol deadlines see realistic waits. Delivery always happens in a later macrotask, never
 * inside send().
 *
 * Per-channel FIFO is NOT kept by default: protocols.md §3.3 gates on phases, not arrival order,
 * and ZeroMQ may reorder across reconnects, so tests should exercise any order. `fifo: true`
 * restores per-channel order (for debugging a failure) while still interleaving channels.
 *
 * Fault injection lives on the shared MemoryNetwork (`transport.network`): a filter that drops or
 * rewrites frames on send, partitioning a peer, and injecting frames as if from a given peer.
 *
 * @example
 *   const ts = createMemoryNetwork(4, { seed: 'test-1', maxDelayMs: 5 });
 *   ts[2]!.network.setFilter((from, to, frame) => (from === 1 && to === 2 ? null : frame));
 */
import type { Logger } from 'pino';
import { sha256 } from '../core/hash.js';
import { utf8 } from '../core/bytes.js';
import { Drbg } from '../protocol/drbg.js';
import type { FrameHandler, ProviderIndex, Transport, TransportStats } from './transport.js';
import { checkFrame, checkPeerIndex } from './check.js';

/** Options of createMemoryNetwork. */
export interface MemoryNetworkOptions {
  /** Seed of the scheduler's Drbg; the same seed replays the same schedule. */
  readonly seed: string | Uint8Array;
  /**
   * Largest random extra delay per frame, in whole milliseconds.
   * @default 0
   */
  readonly maxDelayMs?: number;
  /**
   * Deliver due frames in random order. When false, frames arrive in global send order (delays
   * then only add latency).
   * @default true
   */
  readonly reorder?: boolean;
  /**
   * Fixed one-way latency added to every frame, in milliseconds.
   * @default 0
   */
  readonly latencyMs?: number;
  /**
   * Keep frames of one channel (from, to) in send order while still interleaving channels.
   * @default false
   */
  readonly fifo?: boolean;
  /** Logger for handler failures; silent when absent. */
  readonly log?: Logger;
}

/**
 * Sees every frame a provider sends (not injected ones) before it enters the network: return
 * the frame (possibly a different one) to let it through, or null to drop it.
 */
export type FrameFilter = (
  from: ProviderIndex,
  to: ProviderIndex,
  frame: Uint8Array,
) => Uint8Array | null;

/** Counters of the network as a whole. */
export interface MemoryNetworkStats {
  /** Frames handed to a handler. */
  framesDelivered: number;
  /** Frames dropped by the filter, a partition, or a closed receiver. */
  framesDropped: number;
  /** Frames a filter replaced by a different byte string. */
  framesAltered: number;
  /** Frames injected through inject(). */
  framesInjected: number;
  /** Handler calls that threw (logged, delivery continues). */
  handlerErrors: number;
  /** Frames currently in flight. */
  inFlight: number;
}

interface InFlight {
  readonly seq: number;
  readonly from: ProviderIndex;
  readonly to: ProviderIndex;
  readonly frame: Uint8Array;
  readonly dueAt: number;
  readonly injected: boolean;
}

/** Shared state and fault-injection hooks of one in-memory network. */
export class MemoryNetwork {
  /** Number of providers m. */
  readonly size: number;
  private readonly transports: MemoryTransport[] = [];
  private readonly rng: Drbg;
  private readonly maxDelayMs: number;
  private readonly latencyMs: number;
  private readonly reorder: boolean;
  private readonly fifo: boolean;
  private readonly log: Logger | undefined;
  private readonly partitioned = new Set<ProviderIndex>();
  private readonly lastDue: number[];
  private filter: FrameFilter | null = null;
  private pool: InFlight[] = [];
  private seq = 0;
  private now = 0;
  private lastDueAny = 0;
  private timer: { handle: NodeJS.Timeout | NodeJS.Immediate; dueAt: number } | null = null;
  private idleWaiters: (() => void)[] = [];
  private counters = {
    framesDelivered: 0,
    framesDropped: 0,
    framesAltered: 0,
    framesInjected: 0,
    handlerErrors: 0,
  };

  /** Use createMemoryNetwork(); the network and its transports are built together. */
  constructor(m: number, opts: MemoryNetworkOptions) {
    if (!Number.isInteger(m) || m < 1) {
      throw new RangeError(`m: expected an integer ≥ 1, got ${m}`);
    }
    this.size = m;
    this.maxDelayMs = wholeMs('maxDelayMs', opts.maxDelayMs);
    this.latencyMs = wholeMs('latencyMs', opts.latencyMs);
    this.reorder = opts.reorder ?? true;
    this.fifo = opts.fifo ?? false;
    this.log = opts.log;
    this.lastDue = new Array<number>(m * m).fill(0);

    // The scheduler's only source of randomness; a string seed is hashed to 32 bytes.
    const seed = typeof opts.seed === 'string' ? utf8(opts.seed) : opts.seed;
    this.rng = new Drbg(sha256(seed), 'transport/memory/schedule');
    for (let i = 0; i < m; i++) this.transports.push(new MemoryTransport(this, i));
  }

  /** The m transports, index = provider index. */
  endpoints(): MemoryTransport[] {
    return this.transports.slice();
  }

  /** Installs (or with null removes) the filter every sent frame passes through. */
  setFilter(filter: FrameFilter | null): void {
    this.filter = filter;
  }

  /**
   * Cuts a peer off: frames it sends and frames sent to it are dropped, including those already
   * in flight when they come due. Injected frames still get through.
   */
  partition(peer: ProviderIndex): void {
    this.checkIndex('peer', peer);
    this.partitioned.add(peer);
  }

  /** Reconnects a partitioned peer, or every peer when called without one. */
  heal(peer?: ProviderIndex): void {
    if (peer === undefined) this.partitioned.clear();
    else this.partitioned.delete(this.checkIndex('peer', peer));
  }

  /** Whether a peer is currently partitioned. */
  isPartitioned(peer: ProviderIndex): boolean {
    return this.partitioned.has(peer);
  }

  /**
   * Schedules a frame for `to` as if `from` had sent it on their channel, bypassing the filter
   * and partitions; it is not counted in `from`'s stats (the provider did not send it).
   *
   * @throws RangeError for indices out of range or from === to.
   */
  inject(from: ProviderIndex, to: ProviderIndex, frame: Uint8Array): void {
    this.checkIndex('from', from);
    checkPeerIndex({ self: from, size: this.size }, to);
    checkFrame(frame);

    this.counters.framesInjected++;
    this.enqueue(from, to, new Uint8Array(frame), true);
  }

  /**
   * Resolves once no frame is in flight and the last delivery's synchronous follow-ups (frames
   * sent from handlers) have been delivered too.
   */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdleSoon();
    });
  }

  /** Network-wide counters (a snapshot). */
  stats(): MemoryNetworkStats {
    return { ...this.counters, inFlight: this.pool.length };
  }

  /** Internal: MemoryTransport.send() hands a counted, checked frame to the network. */
  submit(from: ProviderIndex, to: ProviderIndex, frame: Uint8Array): void {
    // Partition and filter act at the sender's edge; a dropped frame never enters the network.
    if (this.partitioned.has(from) || this.partitioned.has(to) || this.transports[to]!.closed) {
      this.counters.framesDropped++;
      return;
    }
    let out: Uint8Array | null = frame;
    if (this.filter !== null) {
      out = this.filter(from, to, frame);
      if (out === null) {
        this.counters.framesDropped++;
        return;
      }
      if (out !== frame) this.counters.framesAltered++;
    }

    this.enqueue(from, to, new Uint8Array(out), false);
  }

  /** Internal: MemoryTransport.close() reports; the last close stops the scheduler. */
  closed(): void {
    if (!this.transports.every((t) => t.closed)) return;

    this.counters.framesDropped += this.pool.length;
    this.pool = [];
    this.cancelTimer();
    this.resolveIdle();
  }

  /** Internal: counts and logs a handler that threw. */
  handlerFailed(err: unknown, from: ProviderIndex, to: ProviderIndex): void {
    this.counters.handlerErrors++;
    this.log?.error({ err, from, to }, 'frame handler threw');
  }

  private enqueue(from: ProviderIndex, to: ProviderIndex, frame: Uint8Array, injected: boolean) {
    // Due time on the virtual clock: latency plus a seeded random delay.
    const delay =
      this.maxDelayMs > 0 ? Number(this.rng.uniformInt(BigInt(this.maxDelayMs + 1))) : 0;
    let dueAt = this.now + this.latencyMs + delay;

    // Order constraints: global send order without reorder, channel order with fifo.
    const channel = from * this.size + to;
    if (!this.reorder) dueAt = Math.max(dueAt, this.lastDueAny);
    if (this.fifo) dueAt = Math.max(dueAt, this.lastDue[channel]!);
    this.lastDueAny = Math.max(this.lastDueAny, dueAt);
    this.lastDue[channel] = Math.max(this.lastDue[channel]!, dueAt);

    this.pool.push({ seq: this.seq++, from, to, frame, dueAt, injected });
    this.arm();
  }

  /** Makes sure a timer is set for the earliest due frame. */
  private arm(): void {
    if (this.pool.length === 0) return;
    const dueAt = this.pool.reduce((min, f) => Math.min(min, f.dueAt), Infinity);
    if (this.timer !== null && this.timer.dueAt <= dueAt) return;

    // Always a later macrotask: frames sent in the same tick compete for the next slot.
    this.cancelTimer();
    const wait = dueAt - this.now;
    const handle = wait > 0 ? setTimeout(() => this.step(), wait) : setImmediate(() => this.step());
    this.timer = { handle, dueAt };
  }

  /** Delivers one frame: a random (or the oldest) one among those due earliest. */
  private step(): void {
    this.timer = null;
    if (this.pool.length === 0) return;

    // Candidates: frames due at the earliest time; with fifo, only each channel's oldest.
    const dueAt = this.pool.reduce((min, f) => Math.min(min, f.dueAt), Infinity);
    let candidates = this.pool.filter((f) => f.dueAt === dueAt);
    if (this.fifo) candidates = oldestPerChannel(candidates, this.size);
    const pick = this.reorder
      ? candidates[Number(this.rng.uniformInt(BigInt(candidates.length)))]!
      : candidates.reduce((a, b) => (b.seq < a.seq ? b : a));

    // Advance the clock, deliver, then schedule the next frame (possibly sent by the handler).
    this.pool.splice(this.pool.indexOf(pick), 1);
    this.now = dueAt;
    this.deliver(pick);
    this.arm();
    if (this.pool.length === 0) this.checkIdleSoon();
  }

  private deliver(f: InFlight): void {
    const receiver = this.transports[f.to]!;
    const cut = this.partitioned.has(f.from) || this.partitioned.has(f.to);
    if (receiver.closed || (cut && !f.injected)) {
      this.counters.framesDropped++;
      return;
    }

    this.counters.framesDelivered++;
    receiver.receive(f.from, f.frame);
  }

  private checkIdleSoon(): void {
    setImmediate(() => {
      if (this.pool.length === 0) this.resolveIdle();
    });
  }

  private resolveIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private cancelTimer(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer.handle as NodeJS.Timeout);
    clearImmediate(this.timer.handle as NodeJS.Immediate);
    this.timer = null;
  }

  private checkIndex(field: string, i: ProviderIndex): ProviderIndex {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) {
      throw new RangeError(`${field}: expected an index in [0, ${this.size}), got ${i}`);
    }
    return i;
  }
}

/** One provider's end of a MemoryNetwork. */
export class MemoryTransport implements Transport {
  /** This provider's index. */
  readonly self: ProviderIndex;
  /** The network this transport belongs to, with its fault-injection hooks. */
  readonly network: MemoryNetwork;
  private handler: FrameHandler | null = null;
  private parked: { from: ProviderIndex; frame: Uint8Array }[] = [];
  private flushing = false;
  private isClosed = false;
  private readonly counters: TransportStats = {
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
  };

  /** Use createMemoryNetwork(). */
  constructor(network: MemoryNetwork, self: ProviderIndex) {
    this.network = network;
    this.self = self;
  }

  /** Number of providers m. */
  get size(): number {
    return this.network.size;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Hands a copy of the frame to the network; delivery happens later, in a separate macrotask.
   * Ignored after close().
   *
   * @throws RangeError when `to` is not a peer index (or is self); TypeError for a non-byte frame.
   */
  send(to: ProviderIndex, frame: Uint8Array): void {
    checkPeerIndex(this, to);
    checkFrame(frame);
    if (this.isClosed) return;

    this.counters.framesSent++;
    this.counters.bytesSent += frame.length;
    this.network.submit(this.self, to, frame);
  }

  /** Sends the frame to every peer except self (each peer gets its own copy). */
  broadcast(frame: Uint8Array): void {
    checkFrame(frame);
    for (let to = 0; to < this.size; to++) if (to !== this.self) this.send(to, frame);
  }

  /**
   * Registers the handler, replacing any earlier one. Frames that arrived before any handler
   * was registered are delivered to it, in order, in a later macrotask.
   */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
    if (this.parked.length > 0) this.flushSoon();
  }

  /** Counters since creation (a snapshot). */
  stats(): TransportStats {
    return { ...this.counters };
  }

  /** Stops delivery to and from this provider; frames in flight to it are dropped. */
  close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.handler = null;
      this.parked = [];
      this.network.closed();
    }
    return Promise.resolve();
  }

  /** Internal: the network hands over a frame for this provider that came due. */
  receive(from: ProviderIndex, frame: Uint8Array): void {
    // No handler yet, or older frames still parked: keep arrival order.
    if (this.handler === null || this.parked.length > 0) {
      this.parked.push({ from, frame });
      if (this.handler !== null) this.flushSoon();
      return;
    }

    this.hand(from, frame);
  }

  private flushSoon(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      while (this.handler !== null && this.parked.length > 0) {
        const { from, frame } = this.parked.shift()!;
        this.hand(from, frame);
      }
    });
  }

  private hand(from: ProviderIndex, frame: Uint8Array): void {
    this.counters.framesReceived++;
    this.counters.bytesReceived += frame.length;
    try {
      this.handler!(from, frame);
    } catch (err) {
      this.network.handlerFailed(err, from, this.self);
    }
  }
}

/**
 * Builds m transports connected through one seeded in-memory network. Fault-injection hooks are
 * on `transports[i].network` (the same object for all i).
 *
 * @throws RangeError for m < 1 or a negative or fractional delay.
 */
export function createMemoryNetwork(m: number, opts: MemoryNetworkOptions): MemoryTransport[] {
  return new MemoryNetwork(m, opts).endpoints();
}

function oldestPerChannel(frames: InFlight[], m: number): InFlight[] {
  const oldest = new Map<number, InFlight>();
  for (const f of frames) {
    const key = f.from * m + f.to;
    const prev = oldest.get(key);
    if (prev === undefined || f.seq < prev.seq) oldest.set(key, f);
  }
  return [...oldest.values()];
}

function wholeMs(field: string, value: number | undefined): number {
  const v = value ?? 0;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${field}: expected a whole number of milliseconds ≥ 0, got ${value}`);
  }
  return v;
}
