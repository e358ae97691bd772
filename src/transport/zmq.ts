/**
 * The provider mesh over ZeroMQ (protocols.md §3.2): each provider binds one ROUTER (a CURVE
 * server) and connects one DEALER (a CURVE client) to every peer's ROUTER. Frames from i to j
 * travel on i's DEALER into j's ROUTER, so every channel is encrypted to the receiver's pinned
 * public key, and the receiver authenticates the sender in two layers:
 *
 * 1. The ZAP handler (zap.ts) approves a CURVE handshake only for the configured peers' public
 *    keys, so an unknown key cannot connect at all.
 * 2. A ROUTER sees a routing id per connection, not the CURVE key behind it, and libzmq's ZAP
 *    request does not carry the client's routing id: the `identity` frame is the ROUTER's own
 *    routing id (verified with zeromq 6.8.0 / libzmq 4.3.5, see test/transport/zmq.test.ts), and
 *    zeromq.js exposes neither message metadata (User-Id) nor per-connection keys. So the
 *    DEALER of i presents the routing id HMAC(X25519(i, j), i → j) (curve.ts). Only i and j can
 *    compute it; the ROUTER maps it to i and drops frames from any other routing id. It is sent
 *    inside the encrypted handshake and cannot be squatted, which also makes ROUTER handover
 *    safe, so a restarted peer takes its channel back at once.
 *
 * Signatures stay end-to-end above this layer; `from` here is the channel's peer, never a value
 * read from the frame.
 *
 * @example
 *   const t = await ZmqTransport.create({ self: 0, peers, curvePublicKey, curveSecretKey });
 *   t.onFrame((from, frame) => { ... });
 *   t.broadcast(frame);
 *   await t.close();
 */
import * as zmq from 'zeromq';
import type { Logger } from 'pino';
import { ConfigError } from '../core/errors.js';
import type { FrameHandler, ProviderIndex, Transport, TransportStats } from './transport.js';
import { checkCurveKeyPair, pairwiseRoutingId, parseCurveKey } from './curve.js';
import { registerZapDomain, type ZapDecision, type ZapRegistration } from './zap.js';
import { SendQueue } from './send-queue.js';
import { bindWithGrace } from './bind.js';
import { checkFrame, checkPeerIndex } from './check.js';

/** One provider's endpoint as every other provider sees it. */
export interface ZmqPeer {
  /** Where its ROUTER listens, e.g. `tcp://10.0.0.5:7100`. */
  readonly address: string;
  /** Its long-term CURVE public key (Z85, 40 characters). */
  readonly curvePublicKey: string;
}

/** Configuration of one provider's transport. */
export interface ZmqTransportOptions {
  /** This provider's index into `peers`. */
  readonly self: ProviderIndex;
  /** All m providers in session order, this one included (its entry gives the bind address). */
  readonly peers: readonly ZmqPeer[];
  /** This provider's CURVE secret key (Z85). */
  readonly curveSecretKey: string;
  /** This provider's CURVE public key (Z85); must equal `peers[self].curvePublicKey`. */
  readonly curvePublicKey: string;
  /**
   * Address to bind instead of `peers[self].address` (e.g. `tcp://0.0.0.0:7100` behind NAT).
   * @default peers[self].address
   */
  readonly bindAddress?: string;
  /**
   * Largest frame sent or accepted; larger ones are dropped and counted (and a peer that sends
   * one is disconnected by libzmq).
   * @default MAX_FRAME_BYTES (64 MiB)
   */
  readonly maxFrameBytes?: number;
  /**
   * ZeroMQ high-water mark, in messages, of each DEALER.
   * @default SEND_HIGH_WATER_MARK (1000)
   */
  readonly sendHighWaterMark?: number;
  /**
   * Most frames waiting in this process for one peer before new ones are dropped.
   * @default MAX_QUEUE_FRAMES (10 000)
   */
  readonly maxQueueFrames?: number;
  /**
   * Most payload bytes waiting in this process for one peer before new frames are dropped.
   * @default MAX_QUEUE_BYTES (256 MiB)
   */
  readonly maxQueueBytes?: number;
  /**
   * Artificial one-way delay per frame, for benchmarks.
   * @default 0
   */
  readonly latencyMs?: number;
  /**
   * How long close() lets libzmq keep flushing frames already handed to it.
   * @default LINGER_MS (100)
   */
  readonly lingerMs?: number;
  /** Logger for connection and drop events; silent when absent. */
  readonly log?: Logger;
}

/** Counters of the ZeroMQ transport: the common ones plus why frames were dropped. */
export interface ZmqTransportStats extends TransportStats {
  /** Sum of all the drop counters below. */
  framesDropped: number;
  /** Frames larger than maxFrameBytes, refused by send() or arriving from a peer. */
  droppedOversize: number;
  /** Frames refused because a peer's queue was full. */
  droppedQueueFull: number;
  /** Frames the socket refused for another reason, or handed to send() after close(). */
  droppedSendError: number;
  /** Incoming frames from a routing id that belongs to no configured peer. */
  droppedUnknownSender: number;
  /** Incoming messages that were not exactly one frame. */
  droppedMalformed: number;
  /** CURVE handshakes the ZAP handler refused (unknown client key). */
  handshakesRefused: number;
}

/** Default largest frame: 64 MiB. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Default ZeroMQ send high-water mark per DEALER, in messages. */
export const SEND_HIGH_WATER_MARK = 1000;
/** Default bound on frames waiting for one peer. */
export const MAX_QUEUE_FRAMES = 10_000;
/** Default bound on bytes waiting for one peer: 256 MiB. */
export const MAX_QUEUE_BYTES = 256 * 1024 * 1024;
/** Default linger on close, in milliseconds. */
export const LINGER_MS = 100;
/**
 * ZMTP heartbeats on every channel: a peer that vanishes without closing its TCP connection is
 * noticed after HEARTBEAT_TIMEOUT_MS and ZeroMQ starts reconnecting instead of writing into a dead
 * connection.
 */
const HEARTBEAT_INTERVAL_MS = 2_000;
const HEARTBEAT_TIMEOUT_MS = 6_000;
/**
 * libzmq applies maxMessageSize to the encrypted CURVE MESSAGE command (payload plus a 33-byte
 * header and MAC), so the socket limit gets this slack; the receive loop applies the exact one.
 */
const CURVE_WIRE_SLACK_BYTES = 1024;

interface Channel {
  readonly dealer: zmq.Dealer;
  readonly queue: SendQueue;
}

type DropCounter = Exclude<keyof ZmqTransportStats, keyof TransportStats | 'framesDropped'>;

/** A provider's point-to-point CURVE channels to every other provider, over ZeroMQ. */
export class ZmqTransport implements Transport {
  /** This provider's index. */
  readonly self: ProviderIndex;
  /** Number of providers m. */
  readonly size: number;
  private readonly router: zmq.Router;
  private readonly channels: ReadonlyMap<ProviderIndex, Channel>;
  private readonly inbound: ReadonlyMap<string, ProviderIndex>;
  private readonly zap: ZapRegistration;
  private readonly maxFrameBytes: number;
  private readonly log: Logger | undefined;
  private readonly counters: ZmqTransportStats;
  private handler: FrameHandler | null = null;
  private receiving: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  private constructor(parts: {
    self: ProviderIndex;
    size: number;
    router: zmq.Router;
    channels: Map<ProviderIndex, Channel>;
    inbound: Map<string, ProviderIndex>;
    zap: ZapRegistration;
    maxFrameBytes: number;
    counters: ZmqTransportStats;
    log: Logger | undefined;
  }) {
    this.self = parts.self;
    this.size = parts.size;
    this.router = parts.router;
    this.channels = parts.channels;
    this.inbound = parts.inbound;
    this.zap = parts.zap;
    this.maxFrameBytes = parts.maxFrameBytes;
    this.counters = parts.counters;
    this.log = parts.log;
  }

  /**
   * Binds this provider's ROUTER and connects a DEALER to every peer. Resolves once bound;
   * connections complete in the background and ZeroMQ reconnects them as needed, so peers may
   * start in any order.
   *
   * @throws ConfigError for inconsistent options (bad keys, self out of range, duplicate keys).
   * @throws TransportError `TRANSPORT_BIND` when the address cannot be bound.
   */
  static async create(opts: ZmqTransportOptions): Promise<ZmqTransport> {
    const cfg = validate(opts);
    const own = { publicKey: opts.curvePublicKey, secretKey: opts.curveSecretKey };
    const log = opts.log?.child({ provider: opts.self });
    const counters = emptyStats();

    // Who may connect: the configured peers' keys, nobody else (not even our own key).
    const allowed = new Map<string, ProviderIndex>();
    opts.peers.forEach((p, i) => i !== opts.self && allowed.set(p.curvePublicKey, i));
    const policy = (req: { mechanism: string; curvePublicKey: string | undefined }) => {
      const peer = req.curvePublicKey === undefined ? undefined : allowed.get(req.curvePublicKey);
      if (req.mechanism === 'CURVE' && peer !== undefined) {
        return { allow: true, userId: String(peer) } satisfies ZapDecision;
      }
      counters.handshakesRefused++;
      log?.warn({ key: req.curvePublicKey, mechanism: req.mechanism }, 'refused a handshake');
      return { allow: false, reason: 'unknown CURVE key' } satisfies ZapDecision;
    };
    const zap = await registerZapDomain('auctioneer/mesh', policy, log);

    // The ROUTER: CURVE server, fail closed without ZAP, newest connection wins a routing id.
    const router = new zmq.Router({
      linger: 0,
      curveServer: true,
      curvePublicKey: own.publicKey,
      curveSecretKey: own.secretKey,
      zapDomain: zap.domain,
      zapEnforceDomain: true,
      handover: true,
      maxMessageSize: cfg.maxFrameBytes + CURVE_WIRE_SLACK_BYTES,
    });
    try {
      await bindWithGrace(router, cfg.bindAddress);
    } catch (err) {
      router.close();
      await zap.release();
      throw err;
    }

    // Which routing id stands for which peer: only that peer (or we) can compute it.
    const inbound = new Map<string, ProviderIndex>();
    opts.peers.forEach((p, i) => {
      if (i !== opts.self) inbound.set(pairwiseRoutingId(own, p.curvePublicKey, 'receiver'), i);
    });

    // One DEALER and one send loop per peer, so a slow or absent peer only stalls itself.
    const channels = new Map<ProviderIndex, Channel>();
    opts.peers.forEach((p, i) => {
      if (i === opts.self) return;
      const dealer = new zmq.Dealer({
        linger: cfg.lingerMs,
        sendHighWaterMark: cfg.sendHighWaterMark,
        curveServerKey: p.curvePublicKey,
        curvePublicKey: own.publicKey,
        curveSecretKey: own.secretKey,
        routingId: pairwiseRoutingId(own, p.curvePublicKey, 'sender'),
        heartbeatInterval: HEARTBEAT_INTERVAL_MS,
        heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
      });
      dealer.connect(p.address);
      const queue = new SendQueue(dealer, {
        maxMessages: cfg.maxQueueFrames,
        maxBytes: cfg.maxQueueBytes,
        latencyMs: cfg.latencyMs,
        onSendError: () => bump(counters, 'droppedSendError'),
        log: log?.child({ peer: i }),
      });
      channels.set(i, { dealer, queue });
    });

    log?.debug({ endpoint: router.lastEndpoint, m: opts.peers.length }, 'transport up');
    return new ZmqTransport({
      self: opts.self,
      size: opts.peers.length,
      router,
      channels,
      inbound,
      zap,
      maxFrameBytes: cfg.maxFrameBytes,
      counters,
      log,
    });
  }

  /** The endpoint the ROUTER is bound to (with the real port when bound to port 0). */
  get endpoint(): string {
    return this.router.lastEndpoint ?? '';
  }

  /**
   * Queues a frame for one peer; never blocks and never throws for a slow or absent peer.
   * Frames above maxFrameBytes, frames for a full queue and frames after close() are dropped and
   * counted. The frame is copied, so the caller may reuse its buffer.
   *
   * @throws RangeError when `to` is not a peer index (or is self); TypeError for a non-byte frame.
   */
  send(to: ProviderIndex, frame: Uint8Array): void {
    const channel = this.channels.get(checkPeerIndex(this, to))!;
    checkFrame(frame);

    this.enqueue(channel, to, Buffer.from(frame));
  }

  /** Queues the same frame (one copy, shared) for every peer except self. */
  broadcast(frame: Uint8Array): void {
    checkFrame(frame);

    const copy = Buffer.from(frame);
    for (const [to, channel] of this.channels) this.enqueue(channel, to, copy);
  }

  /**
   * Registers the handler for incoming frames, replacing any earlier one. Receiving starts with
   * the first registration; until then frames wait in ZeroMQ (which pushes back on senders).
   * A handler that throws is logged and does not stop delivery.
   */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
    if (this.receiving === null && this.closing === null) this.receiving = this.receive();
  }

  /** Counters since creation (a snapshot). */
  stats(): ZmqTransportStats {
    const c = this.counters;
    const framesDropped =
      c.droppedOversize +
      c.droppedQueueFull +
      c.droppedSendError +
      c.droppedUnknownSender +
      c.droppedMalformed;
    return { ...c, framesDropped };
  }

  /**
   * Stops delivery and closes every socket. Frames still queued here are dropped; frames already
   * handed to ZeroMQ get up to `lingerMs` to leave. Idempotent; the process can exit afterwards.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Stop the writers first, then close the sockets (which also ends a pending send or receive).
    this.handler = null;
    for (const { queue } of this.channels.values()) queue.stop();
    for (const { dealer } of this.channels.values()) if (!dealer.closed) dealer.close();
    if (!this.router.closed) this.router.close();

    // Wait for the loops, then give the ZAP domain back (the ROUTER no longer needs it).
    await Promise.all([this.receiving, ...[...this.channels.values()].map((c) => c.queue.done)]);
    await this.zap.release();
    this.log?.debug('transport closed');
  }

  private enqueue(channel: Channel, to: ProviderIndex, frame: Buffer): void {
    this.counters.framesSent++;
    this.counters.bytesSent += frame.length;

    if (this.closing !== null) {
      bump(this.counters, 'droppedSendError');
    } else if (frame.length > this.maxFrameBytes) {
      bump(this.counters, 'droppedOversize');
      this.log?.warn({ to, bytes: frame.length, max: this.maxFrameBytes }, 'frame too large');
    } else if (!channel.queue.push([frame], frame.length)) {
      bump(this.counters, 'droppedQueueFull');
      this.log?.warn({ to, queued: channel.queue.length }, 'queue full; frame dropped');
    }
  }

  /** The ROUTER's single receive loop: authenticate by routing id, then hand over. */
  private async receive(): Promise<void> {
    try {
      for await (const [rid, ...parts] of this.router) {
        const from = rid === undefined ? undefined : this.inbound.get(rid.toString('latin1'));
        if (from === undefined) {
          bump(this.counters, 'droppedUnknownSender');
          this.log?.warn('frame from an unknown routing id dropped');
          continue;
        }
        const body = parts[0];
        if (parts.length !== 1 || body === undefined) {
          bump(this.counters, 'droppedMalformed');
          this.log?.warn({ from, parts: parts.length }, 'multi-part message dropped');
          continue;
        }
        if (body.length > this.maxFrameBytes) {
          bump(this.counters, 'droppedOversize');
          this.log?.warn({ from, bytes: body.length }, 'oversized frame from a peer dropped');
          continue;
        }

        this.counters.framesReceived++;
        this.counters.bytesReceived += body.length;
        this.deliver(from, new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
      }
    } catch (err) {
      if (!this.router.closed) this.log?.error({ err }, 'receive loop failed');
    }
  }

  private deliver(from: ProviderIndex, frame: Uint8Array): void {
    try {
      this.handler?.(from, frame);
    } catch (err) {
      this.log?.error({ err, from }, 'frame handler threw');
    }
  }
}

function bump(counters: ZmqTransportStats, key: DropCounter): void {
  counters[key]++;
}

function emptyStats(): ZmqTransportStats {
  return {
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
    framesDropped: 0,
    droppedOversize: 0,
    droppedQueueFull: 0,
    droppedSendError: 0,
    droppedUnknownSender: 0,
    droppedMalformed: 0,
    handshakesRefused: 0,
  };
}

/** Checks the whole options object up front and applies the named defaults. */
function validate(opts: ZmqTransportOptions) {
  const m = opts.peers?.length ?? 0;
  if (m < 2) throw new ConfigError(`peers: expected at least 2 providers, got ${m}`);
  if (!Number.isInteger(opts.self) || opts.self < 0 || opts.self >= m) {
    throw new ConfigError(`self: expected an index in [0, ${m}), got ${opts.self}`);
  }

  // Keys: well-formed, distinct, and ours matches both our secret key and our peers entry.
  const seen = new Set<string>();
  opts.peers.forEach((p, i) => {
    parseCurveKey(`peers[${i}].curvePublicKey`, p.curvePublicKey);
    if (typeof p.address !== 'string' || p.address.length === 0) {
      throw new ConfigError(`peers[${i}].address: expected an endpoint such as tcp://host:port`);
    }
    if (seen.has(p.curvePublicKey)) {
      throw new ConfigError(`peers[${i}].curvePublicKey: the same key appears twice`);
    }
    seen.add(p.curvePublicKey);
  });
  checkCurveKeyPair(opts.curvePublicKey, opts.curveSecretKey);
  if (opts.peers[opts.self]!.curvePublicKey !== opts.curvePublicKey) {
    throw new ConfigError(`peers[${opts.self}].curvePublicKey: differs from curvePublicKey`);
  }

  return {
    bindAddress: opts.bindAddress ?? opts.peers[opts.self]!.address,
    maxFrameBytes: positiveInt('maxFrameBytes', opts.maxFrameBytes, MAX_FRAME_BYTES),
    sendHighWaterMark: positiveInt(
      'sendHighWaterMark',
      opts.sendHighWaterMark,
      SEND_HIGH_WATER_MARK,
    ),
    maxQueueFrames: positiveInt('maxQueueFrames', opts.maxQueueFrames, MAX_QUEUE_FRAMES),
    maxQueueBytes: positiveInt('maxQueueBytes', opts.maxQueueBytes, MAX_QUEUE_BYTES),
    latencyMs: nonNegative('latencyMs', opts.latencyMs, 0),
    lingerMs: Math.round(nonNegative('lingerMs', opts.lingerMs, LINGER_MS)),
  };
}

function positiveInt(field: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new ConfigError(`${field}: expected a positive integer, got ${value}`);
  }
  return v;
}

function nonNegative(field: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw new ConfigError(`${field}: expected ≥ 0, got ${value}`);
  return v;
}
