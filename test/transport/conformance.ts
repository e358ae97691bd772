/**
 * The behaviour every Transport must show, run against each implementation
 * (conformance.test.ts): exactly-once delivery with the right `from`, broadcast, 1 MB frames,
 * counters, argument checks and an idempotent close. Importing this module defines no tests.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Transport } from '../../src/transport/transport.js';
import { collectAll, tagged, untag, type Collector } from './helpers.js';

/** A freshly built set of m connected transports. */
export interface TransportFixture {
  readonly transports: readonly Transport[];
  /** Resolves when nothing more can arrive (optional; the suite also runs a marker round). */
  quiesce?(): Promise<void>;
  close(): Promise<void>;
}

const MARKER = 0xffffffff;

/** Defines the conformance tests for one transport implementation. */
export function transportConformance(
  name: string,
  make: (m: number) => Promise<TransportFixture>,
): void {
  describe(`${name} conformance`, () => {
    it('delivers every frame exactly once to the right peer with the right from', async (t) => {
      const m = 3;
      const perChannel = 25;
      const fx = await make(m);
      t.after(() => fx.close());
      const cs = collectAll(fx.transports);

      // Every ordered pair (i, j) carries perChannel numbered frames.
      for (let k = 0; k < perChannel; k++) {
        for (const ti of fx.transports) {
          for (let j = 0; j < m; j++) if (j !== ti.self) ti.send(j, tagged(ti.self, j, k));
        }
      }
      await Promise.all(cs.map((c) => c.until((m - 1) * perChannel)));
      await settle(fx, cs);

      // Exactly once: each (from, seq) once, `from` equal to the sender named inside.
      cs.forEach((c, j) => {
        const data = c.frames.filter((r) => untag(r.frame).seq !== MARKER);
        assert.equal(data.length, (m - 1) * perChannel, `provider ${j} frame count`);
        const seen = new Set<string>();
        for (const { from, frame } of data) {
          const tag = untag(frame);
          assert.equal(tag.to, j, 'frame reached the wrong provider');
          assert.equal(from, tag.from, 'from differs from the actual sender');
          const key = `${tag.from}/${tag.seq}`;
          assert.ok(!seen.has(key), `duplicate ${key} at ${j}`);
          seen.add(key);
        }
      });
    });

    it('broadcast reaches every other provider and not the sender', async (t) => {
      const m = 4;
      const fx = await make(m);
      t.after(() => fx.close());
      const cs = collectAll(fx.transports);

      for (const ti of fx.transports) ti.broadcast(tagged(ti.self, 0xffff, 7));
      await Promise.all(cs.map((c) => c.until(m - 1)));
      await settle(fx, cs);

      cs.forEach((c, j) => {
        const data = c.frames.filter((r) => untag(r.frame).seq !== MARKER);
        const senders = data.map((r) => r.from).sort();
        assert.deepEqual(
          senders,
          [...Array(m).keys()].filter((i) => i !== j),
        );
        for (const r of data) assert.equal(untag(r.frame).from, r.from);
      });
    });

    it('carries 1 MB frames intact', async (t) => {
      const fx = await make(3);
      t.after(() => fx.close());
      const cs = collectAll(fx.transports);
      const big = new Uint8Array(randomBytes(1024 * 1024));
      const other = new Uint8Array(randomBytes(1024 * 1024 + 3));

      fx.transports[0]!.send(1, big);
      fx.transports[2]!.broadcast(other);
      await cs[1]!.until(2);
      await cs[0]!.until(1);

      const at1 = new Map(cs[1]!.frames.map((r) => [r.from, r.frame]));
      assert.ok(equal(at1.get(0)!, big), '1 MiB frame from 0 differs');
      assert.ok(equal(at1.get(2)!, other), '1 MiB broadcast from 2 differs at 1');
      assert.ok(equal(cs[0]!.frames[0]!.frame, other), '1 MiB broadcast from 2 differs at 0');
    });

    it('counts frames and bytes in stats', async (t) => {
      const m = 3;
      const fx = await make(m);
      t.after(() => fx.close());
      const cs = collectAll(fx.transports);

      const [a, b] = fx.transports;
      a!.send(1, new Uint8Array(100));
      a!.broadcast(new Uint8Array(10));
      b!.send(2, new Uint8Array(1));
      await cs[1]!.until(2);
      await cs[2]!.until(2);

      assert.equal(a!.stats().framesSent, 3);
      assert.equal(a!.stats().bytesSent, 120);
      assert.equal(b!.stats().framesSent, 1);
      assert.equal(fx.transports[1]!.stats().framesReceived, 2);
      assert.equal(fx.transports[1]!.stats().bytesReceived, 110);
      assert.equal(fx.transports[2]!.stats().bytesReceived, 11);
    });

    it('copies frames on send, so the caller may reuse its buffer', async (t) => {
      const fx = await make(2);
      t.after(() => fx.close());
      const cs = collectAll(fx.transports);

      const buf = new Uint8Array([1, 2, 3]);
      fx.transports[0]!.send(1, buf);
      buf.fill(9);
      await cs[1]!.until(1);

      assert.deepEqual([...cs[1]!.frames[0]!.frame], [1, 2, 3]);
    });

    it('refuses self, out-of-range peers and non-byte frames as programmer errors', async (t) => {
      const fx = await make(2);
      t.after(() => fx.close());
      const t0 = fx.transports[0]!;

      assert.equal(t0.size, 2);
      assert.throws(() => t0.send(0, new Uint8Array(1)), RangeError);
      assert.throws(() => t0.send(2, new Uint8Array(1)), RangeError);
      assert.throws(() => t0.send(0.5, new Uint8Array(1)), RangeError);
      assert.throws(() => t0.send(1, 'text' as unknown as Uint8Array), TypeError);
    });

    it('close() is idempotent and later sends are ignored', async () => {
      const fx = await make(2);
      const t0 = fx.transports[0]!;

      await Promise.all([t0.close(), t0.close()]);
      await t0.close();
      assert.doesNotThrow(() => t0.send(1, new Uint8Array(1)));
      await fx.close();
    });
  });
}

/** A marker on every channel, awaited everywhere, then the fixture's own quiescence. */
async function settle(fx: TransportFixture, cs: Collector[]): Promise<void> {
  const m = fx.transports.length;
  const before = cs.map((c) => c.frames.length);
  for (const ti of fx.transports) ti.broadcast(tagged(ti.self, 0, MARKER));
  await Promise.all(cs.map((c, j) => c.until(before[j]! + m - 1, 'markers')));
  await fx.quiesce?.();
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
