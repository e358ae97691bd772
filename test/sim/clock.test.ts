import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../src/sim/clock.js';

describe('VirtualClock', () => {
  test('fires timers in (due time, creation) order, one per call, and advances time', () => {
    const clock = VirtualClock.install();
    try {
      const seen: string[] = [];
      setTimeout(() => seen.push('b@20'), 20);
      setTimeout(() => seen.push('a@10'), 10);
      setTimeout(() => seen.push('c@20'), 20);
      const gone = setTimeout(() => seen.push('cleared'), 5);
      clearTimeout(gone);

      assert.equal(clock.nextDue(), 10);
      while (clock.fireNext()) seen.push(`now ${clock.now}`);
      assert.deepEqual(seen, ['a@10', 'now 10', 'b@20', 'now 20', 'c@20', 'now 20']);
      assert.equal(clock.fireNext(), false);
    } finally {
      clock.uninstall();
    }
  });

  test('a timer set by a timer is due relative to the virtual now; 0 ms means 1 ms', () => {
    const clock = VirtualClock.install();
    try {
      const at: number[] = [];
      setTimeout(() => {
        at.push(clock.now);
        setTimeout(() => at.push(clock.now), 0);
      }, 100);
      while (clock.fireNext());
      assert.deepEqual(at, [100, 101]);
    } finally {
      clock.uninstall();
    }
  });

  test('uninstall gives the real timers back; a second install is refused', async () => {
    const real = globalThis.setTimeout;
    const clock = VirtualClock.install();
    assert.notEqual(globalThis.setTimeout, real);
    assert.throws(() => VirtualClock.install(), { code: 'CONFIG' });
    clock.uninstall();
    assert.equal(globalThis.setTimeout, real);
    await new Promise((resolve) => setTimeout(resolve, 1));
  });
});
