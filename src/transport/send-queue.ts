/**
 * The one writer of a ZeroMQ socket: a bounded FIFO and a single send loop (style.md practice 10,
 * after zeromq.js `examples/queue`). zeromq.js allows one pending `send()` per socket, and a send
 * blocks while the peer's high-water mark is reached or, on a DEALER, while no peer is
 * connected; the loop absorbs that wait so callers never block, and the bound turns a peer that
 * stays away into dropped frames instead of unbounded memory.
 */
import type { Logger } from 'pino';
import type * as zmq from 'zeromq';

/** Limits and behaviour of one queue. */
export interface SendQueueOptions {
  /** Most messages waiting at once; a push beyond it is refused. */
  readonly maxMessages: number;
  /** Most payload bytes waiting at once; a push beyond it is refused. */
  readonly maxBytes: number;
  /** Artificial one-way delay added before each message is handed to the socket. */
  readonly latencyMs?: number;
  /** Called when the socket refuses a message for a reason other than being closed. */
  readonly onSendError?: (err: unknown) => void;
  readonly log?: Logger | undefined;
}

interface Item {
  readonly message: zmq.MessageLike[];
  readonly bytes: number;
  readonly readyAt: number;
}

/** A bounded outgoing queue drained by one loop into one socket. */
export class SendQueue {
  /** Resolves when the loop has ended (after stop() or the socket's close). */
  readonly done: Promise<void>;
  private readonly socket: zmq.Writable & { readonly closed: boolean };
  private readonly opts: SendQueueOptions;
  private items: Item[] = [];
  private head = 0;
  private queuedBytes = 0;
  private stopped = false;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(socket: zmq.Writable & { readonly closed: boolean }, opts: SendQueueOptions) {
    this.socket = socket;
    this.opts = opts;
    this.done = this.run();
  }

  /** Messages waiting to be handed to the socket. */
  get length(): number {
    return this.items.length - this.head;
  }

  /**
   * Appends a message unless the queue is full or stopped; never blocks.
   *
   * @returns false when the message was refused (the caller counts the drop).
   */
  push(message: zmq.MessageLike[], bytes: number): boolean {
    if (this.stopped) return false;
    if (this.length >= this.opts.maxMessages) return false;
    if (this.queuedBytes + bytes > this.opts.maxBytes && this.length > 0) return false;

    const readyAt = performance.now() + (this.opts.latencyMs ?? 0);
    this.items.push({ message, bytes, readyAt });
    this.queuedBytes += bytes;
    this.poke();
    return true;
  }

  /** Ends the loop; messages still queued are dropped. Idempotent. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.poke();
  }

  private async run(): Promise<void> {
    while (!this.stopped && !this.socket.closed) {
      // Idle: park until push() or stop() wakes the loop.
      const item = this.items[this.head];
      if (item === undefined) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }

      // Artificial latency: hold the head until its time (later items are never earlier).
      const wait = item.readyAt - performance.now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, wait);
        });
        this.timer = null;
        continue;
      }

      // Hand over; this await is where a slow or absent peer waits, alone.
      try {
        await this.socket.send(item.message);
      } catch (err) {
        if (this.stopped || this.socket.closed) break;
        this.opts.log?.warn({ err }, 'send failed; message dropped');
        this.opts.onSendError?.(err);
      }
      this.shift();
    }
    this.items = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private shift(): void {
    const item = this.items[this.head]!;
    this.queuedBytes -= item.bytes;
    this.head++;

    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
