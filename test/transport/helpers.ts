/**
 * Test helpers for the transport suites: free ports, frame collectors that resolve on a count,
 * condition waits with a deadline, and a ZeroMQ mesh factory that registers its own teardown.
 * Importing this module has no side effects (the test runner may load it as a file).
 */
import { createServer } from 'node:net';
import type { FrameHandler, ProviderIndex, Transport } from '../../src/transport/transport.js';
import { generateCurveKeyPair, type CurveKeyPair } from '../../src/transport/curve.js';
import { ZmqTransport, type ZmqTransportOptions } from '../../src/transport/zmq.js';

/** Upper bound on any single wait in these tests; a hang fails fast instead of stalling CI. */
export const WAIT_LIMIT_MS = 8_000;

/** Asks the OS for n distinct free TCP ports on 127.0.0.1. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** One received frame. */
export interface Received {
  readonly from: ProviderIndex;
  readonly frame: Uint8Array;
}

/** Records the frames a transport delivers and lets a test await a count. */
export class Collector {
  readonly frames: Received[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  /** A handler to pass to onFrame(). */
  readonly handler: FrameHandler = (from, frame) => {
    this.frames.push({ from, frame });
    this.waiters = this.waiters.filter((w) => {
      if (this.frames.length < w.count) return true;
      w.resolve();
      return false;
    });
  };

  /** Resolves once at least `count` frames have arrived; rejects after WAIT_LIMIT_MS. */
  until(count: number, what = `${count} frames`): Promise<void> {
    if (this.frames.length >= count) return Promise.resolve();
    return withDeadline(
      new Promise<void>((resolve) => this.waiters.push({ count, resolve })),
      () => `${what} (have ${this.frames.length})`,
    );
  }
}

/** Attaches a new Collector to each transport. */
export function collectAll(transports: readonly Transport[]): Collector[] {
  return transports.map((t) => {
    const c = new Collector();
    t.onFrame(c.handler);
    return c;
  });
}

/**
 * Resolves when `cond` holds, checking after every macrotask turn (for state only observable by
 * polling, such as counters); rejects after WAIT_LIMIT_MS.
 */
export async function waitUntil(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Races a promise against WAIT_LIMIT_MS. */
export function withDeadline<T>(p: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what()}`)), WAIT_LIMIT_MS);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Keys, addresses and the transports of a ZeroMQ mesh on loopback. */
export interface ZmqMesh {
  readonly keys: CurveKeyPair[];
  readonly addresses: string[];
  readonly transports: (ZmqTransport | undefined)[];
  /** Options for provider i (to start a late or restarted provider). */
  options(i: number): ZmqTransportOptions;
  /** Closes every transport that was started. */
  close(): Promise<void>;
}

/**
 * Builds a mesh of m providers on free loopback ports; `start` says which to start now (the
 * others have reserved addresses and can be started later with `ZmqTransport.create`).
 */
export async function zmqMesh(
  m: number,
  extra: Partial<ZmqTransportOptions> = {},
  start: (i: number) => boolean = () => true,
): Promise<ZmqMesh> {
  const keys = Array.from({ length: m }, () => generateCurveKeyPair());
  const addresses = (await freePorts(m)).map((p) => `tcp://127.0.0.1:${p}`);
  const peers = keys.map((k, i) => ({ address: addresses[i]!, curvePublicKey: k.publicKey }));
  const options = (i: number): ZmqTransportOptions => ({
    self: i,
    peers,
    curvePublicKey: keys[i]!.publicKey,
    curveSecretKey: keys[i]!.secretKey,
    ...extra,
  });

  const transports: (ZmqTransport | undefined)[] = [];
  for (let i = 0; i < m; i++) {
    transports.push(start(i) ? await ZmqTransport.create(options(i)) : undefined);
  }
  return {
    keys,
    addresses,
    transports,
    options,
    close: async () => {
      await Promise.all(transports.map((t) => t?.close()));
    },
  };
}

/** A frame that names its channel and sequence number, for checking delivery. */
export function tagged(from: number, to: number, seq: number, size = 16): Uint8Array {
  const frame = new Uint8Array(Math.max(size, 12));
  const view = new DataView(frame.buffer);
  view.setUint32(0, from);
  view.setUint32(4, to);
  view.setUint32(8, seq);
  return frame;
}

/** Reads back a tagged() frame. */
export function untag(frame: Uint8Array): { from: number; to: number; seq: number } {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return { from: view.getUint32(0), to: view.getUint32(4), seq: view.getUint32(8) };
}
