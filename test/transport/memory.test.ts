/** The in-memory network: seeded scheduling, reordering, delays and fault-injection hooks. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryNetwork, type MemoryNetworkOptions } from '../../src/transport/memory.js';
import { collectAll, tagged, untag } from './helpers.js';

/** Every provider sends `k` numbered frames to every peer; returns the global delivery order. */
async function trace(m: number, k: number, opts: MemoryNetworkOptions): Promise<string[]> {
  const ts = createMemoryNetwork(m, opts);
  const order: string[] = [];
  ts.forEach((t) =>
    t.onFrame((from, frame) => {
      const tag = untag(frame);
      order.push(`${from}>${tag.to}#${tag.seq}`);
    }),
  );

  for (let s = 0; s < k; s++) {
    for (const t of ts)
      for (let j = 0; j < m; j++) if (j !== t.self) t.send(j, tagged(t.self, j, s));
  }
  await ts[0]!.network.idle();
  await Promise.all(ts.map((t) => t.close()));
  return order;
}

/** The send order trace() uses, for comparison. */
function sendOrder(m: number, k: number): string[] {
  const out: string[] = [];
  for (let s = 0; s < k; s++) {
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (j !== i) out.push(`${i}>${j}#${s}`);
  }
  return out;
}

/** True when some channel delivered a later frame before an earlier one. */
function channelReordered(order: string[]): boolean {
  const last = new Map<string, number>();
  for (const e of order) {
    const [ch, seq] = e.split('#') as [string, string];
    if ((last.get(ch) ?? -1) > Number(seq)) return true;
    last.set(ch, Number(seq));
  }
  return false;
}

describe('memory scheduler', () => {
  it('replays the same schedule for the same seed', async () => {
    const a = await trace(4, 10, { seed: 'same' });
    const b = await trace(4, 10, { seed: 'same' });
    const c = await trace(4, 10, { seed: new TextEncoder().encode('same') });

    assert.equal(a.length, 4 * 3 * 10);
    assert.deepEqual(a, b);
    assert.deepEqual(a, c, 'a string seed and its UTF-8 bytes give the same schedule');
  });

  it('replays the same schedule with random delays too', async () => {
    const opts = { seed: 'delays', maxDelayMs: 4, latencyMs: 1 };

    assert.deepEqual(await trace(3, 8, opts), await trace(3, 8, opts));
  });

  it('gives different seeds different schedules', async () => {
    assert.notDeepEqual(await trace(4, 10, { seed: 'one' }), await trace(4, 10, { seed: 'two' }));
  });

  it('really reorders, across and within channels', async () => {
    const order = await trace(3, 20, { seed: 'reorder' });

    assert.notDeepEqual(order, sendOrder(3, 20));
    assert.deepEqual([...order].sort(), [...sendOrder(3, 20)].sort());
    assert.ok(channelReordered(order), 'expected some channel out of order');
  });

  it('reorders through random delays alone', async () => {
    const order = await trace(3, 20, { seed: 'delay-only', maxDelayMs: 5 });

    assert.ok(channelReordered(order));
  });

  it('keeps global send order with reorder: false', async () => {
    const order = await trace(3, 10, { seed: 'x', reorder: false, maxDelayMs: 3 });

    assert.deepEqual(order, sendOrder(3, 10));
  });

  it('keeps per-channel order with fifo: true but still interleaves channels', async () => {
    const order = await trace(3, 20, { seed: 'fifo', fifo: true, maxDelayMs: 2 });

    assert.ok(!channelReordered(order));
    assert.notDeepEqual(order, sendOrder(3, 20));
  });

  it('delivers asynchronously, never inside send()', async () => {
    const [a, b] = createMemoryNetwork(2, { seed: 'async' });
    const [, cb] = collectAll([a!, b!]);
    let inSend = false;
    b!.onFrame((from, frame) => {
      assert.ok(!inSend, 'delivered re-entrantly');
      cb!.handler(from, frame);
    });

    inSend = true;
    a!.send(1, new Uint8Array([1]));
    inSend = false;
    await Promise.resolve();
    assert.equal(cb!.frames.length, 0, 'delivered in a microtask of send()');
    await cb!.until(1);
  });

  it('applies the fixed latency', async () => {
    const [a, b] = createMemoryNetwork(2, { seed: 'latency', latencyMs: 30 });
    const [, cb] = collectAll([a!, b!]);

    const start = performance.now();
    a!.send(1, new Uint8Array([1]));
    await cb!.until(1);
    assert.ok(performance.now() - start >= 29, 'frame arrived before the latency');
  });

  it('keeps frames that arrive before onFrame() and delivers them in order', async () => {
    const [a, b] = createMemoryNetwork(2, { seed: 'early', reorder: false });

    for (let s = 0; s < 5; s++) a!.send(1, tagged(0, 1, s));
    await a!.network.idle();
    const [, cb] = collectAll([a!, b!]);
    await cb!.until(5);

    assert.deepEqual(
      cb!.frames.map((r) => untag(r.frame).seq),
      [0, 1, 2, 3, 4],
    );
  });
});

describe('memory fault injection', () => {
  it('setFilter drops and alters frames on a chosen channel', async () => {
    const ts = createMemoryNetwork(3, { seed: 'filter' });
    const cs = collectAll(ts);
    const net = ts[0]!.network;
    net.setFilter((from, to, frame) => {
      if (from === 0 && to === 1) return null;
      if (from === 2 && to === 1) return new Uint8Array([42]);
      return frame;
    });

    ts[0]!.broadcast(new Uint8Array([1]));
    ts[2]!.send(1, new Uint8Array([2]));
    await net.idle();

    assert.deepEqual(
      cs[1]!.frames.map((r) => [r.from, ...r.frame]),
      [[2, 42]],
    );
    assert.deepEqual(
      cs[2]!.frames.map((r) => [r.from, ...r.frame]),
      [[0, 1]],
    );
    assert.equal(net.stats().framesDropped, 1);
    assert.equal(net.stats().framesAltered, 1);
    assert.equal(ts[0]!.stats().framesSent, 2, 'dropped frames were still handed to send()');
  });

  it('partition cuts a peer off both ways, in-flight frames too; heal restores it', async () => {
    const ts = createMemoryNetwork(3, { seed: 'partition', latencyMs: 5 });
    const cs = collectAll(ts);
    const net = ts[0]!.network;

    ts[0]!.send(2, new Uint8Array([1]));
    net.partition(2);
    ts[2]!.send(1, new Uint8Array([2]));
    ts[0]!.send(1, new Uint8Array([3]));
    await net.idle();
    assert.equal(cs[2]!.frames.length, 0, 'in-flight frame reached a partitioned peer');
    assert.deepEqual(
      cs[1]!.frames.map((r) => r.from),
      [0],
    );

    net.heal(2);
    ts[2]!.send(1, new Uint8Array([4]));
    await net.idle();
    assert.deepEqual(
      cs[1]!.frames.map((r) => r.from),
      [0, 2],
    );
  });

  it('inject delivers a frame as if a given peer had sent it', async () => {
    const ts = createMemoryNetwork(3, { seed: 'inject' });
    const cs = collectAll(ts);
    const net = ts[0]!.network;

    net.partition(2);
    net.inject(2, 0, new Uint8Array([7, 7]));
    await net.idle();

    assert.deepEqual(
      cs[0]!.frames.map((r) => [r.from, ...r.frame]),
      [[2, 7, 7]],
    );
    assert.equal(ts[2]!.stats().framesSent, 0);
    assert.equal(net.stats().framesInjected, 1);
    assert.throws(() => net.inject(1, 1, new Uint8Array(1)), RangeError);
    assert.throws(() => net.inject(3, 1, new Uint8Array(1)), RangeError);
  });

  it('a throwing handler is counted and does not stop delivery', async () => {
    const [a, b] = createMemoryNetwork(2, { seed: 'throw', reorder: false });
    let calls = 0;
    b!.onFrame(() => {
      calls++;
      throw new Error('boom');
    });

    a!.send(1, new Uint8Array([1]));
    a!.send(1, new Uint8Array([2]));
    await a!.network.idle();

    assert.equal(calls, 2);
    assert.equal(a!.network.stats().handlerErrors, 2);
  });

  it('closing a receiver drops its in-flight frames', async () => {
    const [a, b] = createMemoryNetwork(2, { seed: 'close', latencyMs: 5 });
    const [ca, cb] = collectAll([a!, b!]);

    a!.send(1, new Uint8Array([1]));
    await b!.close();
    b!.send(0, new Uint8Array([2]));
    await a!.network.idle();

    assert.equal(cb!.frames.length + ca!.frames.length, 0);
    assert.equal(a!.network.stats().framesDropped, 1);
    await a!.close();
  });

  it('refuses bad options', () => {
    assert.throws(() => createMemoryNetwork(0, { seed: 's' }), RangeError);
    assert.throws(() => createMemoryNetwork(2, { seed: 's', maxDelayMs: 1.5 }), RangeError);
    assert.throws(() => createMemoryNetwork(2, { seed: 's', latencyMs: -1 }), RangeError);
  });
});
