import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  leaderLanes,
  leadersFromSeeds,
  leadersFromShares,
  majorityLanes,
} from '../../../src/protocol/faithful/lanes.js';

const bits = (s: string) => Uint8Array.from(s, (c) => (c === '1' ? 1 : 0));
const str = (a: Uint8Array) => [...a].join('');

describe('decision rules', () => {
  test('MAJORITY: more than m/2 ones gives 1, a tie (even m) gives 0', () => {
    const out = new Uint8Array(4);
    majorityLanes([bits('1100'), bits('1010'), bits('1001')], out);
    assert.equal(str(out), '1000');
    majorityLanes([bits('1100'), bits('1010'), bits('0110'), bits('0101')], out);
    assert.equal(str(out), '0100');
  });

  test('MAJORITY can output a bid nobody received (§6.2: 011, 101, 110 → 111)', () => {
    const out = new Uint8Array(3);
    majorityLanes([bits('011'), bits('101'), bits('110')], out);
    assert.equal(str(out), '111');
  });

  test('LEADER: each bidder copies all L lanes of its leader', () => {
    const inputs = [bits('000111'), bits('111000'), bits('010101')];
    const out = new Uint8Array(6);
    leaderLanes(inputs, Uint16Array.from([1, 2]), 3, out);
    assert.equal(str(out), '111101');
  });

  test('leadersFromShares(): Σρ mod m per bidder', () => {
    const rhos = [Uint16Array.from([0, 2]), Uint16Array.from([2, 2]), Uint16Array.from([2, 0])];
    assert.deepEqual([...leadersFromShares(rhos, 3, 2)], [1, 1]);
  });

  test('leadersFromSeeds() is deterministic, in range, and depends on every seed', () => {
    const sid = new Uint8Array(32).fill(7);
    const seeds = [1, 2, 3, 4, 5].map((v) => new Uint8Array(32).fill(v));
    const a = leadersFromSeeds(sid, seeds, 200);
    assert.deepEqual(a, leadersFromSeeds(sid, seeds, 200));
    assert.ok(a.every((l) => l < 5));
    assert.equal(new Set(a).size, 5);
    const b = leadersFromSeeds(sid, [...seeds.slice(0, 4), new Uint8Array(32)], 200);
    assert.notDeepEqual(a, b);
  });
});
