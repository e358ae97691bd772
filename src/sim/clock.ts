/**
 * Virtual time for the simulator. While installed, the global setTimeout and clearTimeout are
 * replaced by a queue that only advances when the simulator says so, and performance.now()
 * reads the virtual time: a deadline of 10 s costs nothing, and which timer fires first is
 * decided by (virtual due time, creation order), never by the machine's load. (FastRound
 * computes its cumulative deadlines from performance.now(); ProviderCore does not pass a
 * clock through to it, so the global is the only way in.) setImmediate stays real, so the
 * in-memory network's zero-delay deliveries and every synchronous reaction still run on the
 * event loop as they do in tests.
 *
 * The protocol engine (FastRound deadlines) and the memory network (delays) call the global
 * setTimeout at call time, so they run on virtual time without a change to their code.
 *
 * @example
 *   const clock = VirtualClock.install();
 *   try {
 *     // ... start a round, drain the event loop, then:
 *     while (!done && clock.fireNext()) await drain();
 *   } finally {
 *     clock.uninstall();
 *   }
 */
import { ConfigError } from '../core/errors.js';

/** A timer handle as callers see it; clearTimeout accepts it back. */
export interface VirtualTimerHandle {
  /** Set once the timer fired or was cleared (Node's clearImmediate reads this field). */
  _destroyed: boolean;
  ref(): VirtualTimerHandle;
  unref(): VirtualTimerHandle;
  hasRef(): boolean;
}

interface Entry {
  readonly due: number;
  readonly seq: number;
  readonly run: () => void;
  readonly handle: VirtualTimerHandle;
}

let active: VirtualClock | null = null;

/** A replacement for the global setTimeout/clearTimeout pair driven by the simulator. */
export class VirtualClock {
  private nowMs = 0;
  private seq = 0;
  private queue: Entry[] = [];
  private readonly realSetTimeout = globalThis.setTimeout;
  private readonly realClearTimeout = globalThis.clearTimeout;
  private readonly hadOwnNow = Object.prototype.hasOwnProperty.call(performance, 'now');
  private readonly realNow = performance.now;

  private constructor() {}

  /**
   * Replaces the global setTimeout, clearTimeout and performance.now with this virtual clock,
   * starting at 0.
   *
   * @throws ConfigError when a virtual clock is already installed in this thread.
   */
  static install(): VirtualClock {
    if (active !== null) throw new ConfigError('a virtual clock is already installed');
    const clock = new VirtualClock();
    const fakeSet = (cb: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      clock.schedule(() => cb(...args), ms);
    const fakeClear = (h: unknown) => clock.clear(h);
    globalThis.setTimeout = fakeSet as unknown as typeof globalThis.setTimeout;
    globalThis.clearTimeout = fakeClear as unknown as typeof globalThis.clearTimeout;
    Object.defineProperty(performance, 'now', {
      value: () => clock.nowMs,
      configurable: true,
      writable: true,
    });
    active = clock;
    return clock;
  }

  /** The virtual time in milliseconds since install(). */
  get now(): number {
    return this.nowMs;
  }

  /** Number of timers waiting. */
  get pending(): number {
    return this.queue.length;
  }

  /** Due time of the next timer, or null when none waits. */
  nextDue(): number | null {
    return this.queue[0]?.due ?? null;
  }

  /**
   * Advances virtual time to the earliest timer and runs it (one timer only, so that zero-delay
   * work it causes can be drained before a timer due at the same instant). False when none waits.
   */
  fireNext(): boolean {
    const next = this.queue.shift();
    if (next === undefined) return false;

    this.nowMs = next.due;
    next.handle._destroyed = true;
    next.run();
    return true;
  }

  /** Drops every waiting timer (between runs, so that nothing of one run fires in the next). */
  reset(): void {
    for (const e of this.queue) e.handle._destroyed = true;
    this.queue = [];
  }

  /** Drops every waiting timer and gives the real timers and performance.now back. */
  uninstall(): void {
    if (active !== this) return;
    for (const e of this.queue) e.handle._destroyed = true;
    this.queue = [];
    globalThis.setTimeout = this.realSetTimeout;
    globalThis.clearTimeout = this.realClearTimeout;
    if (this.hadOwnNow) performance.now = this.realNow;
    else delete (performance as { now?: unknown }).now;
    active = null;
  }

  private schedule(run: () => void, ms: number | undefined): VirtualTimerHandle {
    // Node's rules: a delay below 1 ms or not a finite number is 1 ms; fractions are cut.
    const delay = typeof ms === 'number' && Number.isFinite(ms) && ms >= 1 ? Math.trunc(ms) : 1;
    const handle: VirtualTimerHandle = {
      _destroyed: false,
      ref: () => handle,
      unref: () => handle,
      hasRef: () => true,
    };
    const entry: Entry = { due: this.nowMs + delay, seq: this.seq++, run, handle };

    // Keep the queue sorted by (due, seq); it holds a few dozen timers at most.
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.due > entry.due) i--;
    this.queue.splice(i, 0, entry);
    return handle;
  }

  private clear(h: unknown): void {
    const i = this.queue.findIndex((e) => e.handle === h);
    if (i >= 0) {
      this.queue[i]!.handle._destroyed = true;
      this.queue.splice(i, 1);
      return;
    }

    // A real timer made before install(): the real clearTimeout handles it.
    const fake = typeof h === 'object' && h !== null && '_destroyed' in h && !('_idleTimeout' in h);
    if (!fake) this.realClearTimeout(h as Parameters<typeof clearTimeout>[0]);
  }
}
