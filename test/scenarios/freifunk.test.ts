/**
 * Freifunk meshviewer imports: the bundled maps (Bremen counted independently from the raw
 * JSON), the drawn values' grid and capacity rule, determinism, ids, every oddity on small
 * synthetic maps, structure validation, file errors, bundledMapPath and truncateUsers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AuctioneerError, InvalidInputError } from '../../src/core/errors.js';
import { MAX_QUANTITY, compareIds } from '../../src/core/units.js';
import {
  BUNDLED_MAPS,
  bundledMapPath,
  importMeshviewer,
  loadMeshviewerFile,
  loadScenario,
  mapNameFromPath,
  truncateUsers,
} from '../../src/scenarios/index.js';
import type { DoubleScenario } from '../../src/scenarios/index.js';

/** A node of a synthetic map: online non-gateway with 1 client unless overridden. */
type RawNode = Record<string, unknown>;

let counter = 0;

/** A synthetic node; `over` replaces fields, and a field set to undefined is left out. */
function node(over: RawNode = {}): RawNode {
  counter++;
  const base: RawNode = {
    node_id: `n${counter.toString(16).padStart(11, '0')}`,
    hostname: `node-${counter}`,
    is_online: true,
    is_gateway: false,
    clients: 1,
    gateway: 'g00000000001',
  };
  const out: RawNode = { ...base, ...over };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** A synthetic gateway with node_id g…, hostname gw-N. */
function gateway(n: number, over: RawNode = {}): RawNode {
  return node({
    node_id: `g${String(n).padStart(11, '0')}`,
    hostname: `gw-${n}`,
    is_gateway: true,
    clients: 0,
    ...over,
  });
}

/** Imports a synthetic map under the name "synthetic". */
function importNodes(nodes: RawNode[], seed: string | number = 1): DoubleScenario {
  return importMeshviewer({ nodes }, { name: 'synthetic', source: 'test map', seed });
}

/** Asserts that fn throws an InvalidInputError whose field is `field`; returns its message. */
function invalidField(fn: () => unknown, field: string): string {
  let message = '';
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
    assert.equal(err.field, field);
    message = err.message;
    return true;
  });
  return message;
}

/** Asserts that fn throws a project error; returns its message. */
function projectError(fn: () => unknown): string {
  let message = '';
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AuctioneerError, `expected an AuctioneerError, got ${String(err)}`);
    message = err.message;
    return true;
  });
  return message;
}

/** The note matching re, or a failure listing the notes. */
function noteMatching(s: DoubleScenario, re: RegExp): string {
  const found = s.notes.find((n) => re.test(n));
  assert.ok(found !== undefined, `no note matches ${re}: ${JSON.stringify(s.notes)}`);
  return found;
}

/** Total demand of a scenario. */
function totalDemand(s: DoubleScenario): bigint {
  return s.users.reduce((t, u) => t + u.demand, 0n);
}

/** Asserts asks, bids and capacities are on the grid and follow the capacity rule. */
function assertDrawnOnGrid(s: DoubleScenario): void {
  const d = totalDemand(s);
  const m = BigInt(s.providers.length);
  const lo = (d * 500_000n) / (m * 1_000_000n);
  const hi = (d * 1_500_000n) / (m * 1_000_000n);

  for (const u of s.users) assert.ok(u.bid >= 750_000n && u.bid <= 1_250_000n, `bid ${u.bid}`);
  for (const p of s.providers) {
    assert.ok(p.ask >= 1n && p.ask <= 1_000_000n, `ask ${p.ask}`);
    assert.ok(p.capacity >= (lo < 1n ? 1n : lo) && p.capacity <= (hi < 1n ? 1n : hi));
  }
}

/** The raw nodes of a bundled map, read without the module under test. */
function rawNodes(name: (typeof BUNDLED_MAPS)[number]): RawNode[] {
  const json = JSON.parse(readFileSync(bundledMapPath(name), 'utf8')) as { nodes: RawNode[] };
  return json.nodes;
}

describe('bundled maps', () => {
  test('bundledMapPath finds data/freifunk/<name>-meshviewer.json from the package root', () => {
    for (const name of BUNDLED_MAPS) {
      const p = bundledMapPath(name);
      assert.ok(p.endsWith(join('data', 'freifunk', `${name}-meshviewer.json`)), p);
      assert.ok(existsSync(p), p);
    }

    invalidField(() => bundledMapPath('berlin' as never), 'map');
  });

  test('the raw Bremen map has the counts of data/README.md', () => {
    const nodes = rawNodes('bremen');

    assert.equal(nodes.length, 891);
    assert.equal(nodes.filter((n) => n.is_online === true).length, 833);
    assert.equal(nodes.filter((n) => n.is_gateway === true).length, 6);
    const clients = nodes.reduce((t, n) => t + ((n.clients as number | null) ?? 0), 0);
    assert.equal(clients, 1135);
  });

  test('Bremen: 6 gateways become providers, online nodes with clients become users', () => {
    const nodes = rawNodes('bremen');
    const expectedUsers = nodes.filter(
      (n) => n.is_online === true && n.is_gateway !== true && ((n.clients as number) ?? 0) >= 1,
    );
    const expectedDemand = expectedUsers.reduce((t, n) => t + BigInt(n.clients as number), 0n);

    const s = loadMeshviewerFile(bundledMapPath('bremen'), { seed: 1 });
    assert.equal(s.name, 'bremen');
    assert.equal(s.source, bundledMapPath('bremen'));
    assert.deepEqual(
      s.providers.map((p) => p.id),
      ['gw-1', 'gw-2', 'gw-3', 'gw-4', 'gw-5', 'gw-6'],
    );
    assert.equal(s.users.length, expectedUsers.length);
    assert.equal(s.users.length, 411);
    assert.equal(totalDemand(s), expectedDemand * 250n);
    assert.equal(totalDemand(s), 283_750n);

    const byHost = new Map(expectedUsers.map((n) => [n.hostname as string, n]));
    for (const u of s.users)
      assert.equal(u.demand, BigInt(byHost.get(u.id)!.clients as number) * 250n);
    const ids = s.users.map((u) => u.id);
    assert.deepEqual(ids, ids.slice().sort(compareIds));
    assertDrawnOnGrid(s);
  });

  test('Bremen notes report the oddities with their counts', () => {
    const s = loadMeshviewerFile(bundledMapPath('bremen'), { seed: 1 });

    noteMatching(s, /^demand = clients × 250 units = 0\.25 Mbit\/s per client/);
    noteMatching(s, /^58 offline nodes skipped$/);
    noteMatching(s, /^13 nodes name a gateway that is not in nodes \(2 distinct ids\)$/);
    assert.ok(!s.notes.some((n) => /offline gateways/.test(n)));
    assert.ok(!s.notes.some((n) => /clients missing or null/.test(n)));
  });

  test('every bundled map imports, with one provider per online gateway', () => {
    const expected = { bremen: 6, bielefeld: 3, ulm: 3, 'cologne-bonn-area': 5 };

    for (const name of BUNDLED_MAPS) {
      const s = loadScenario({ kind: 'file', path: bundledMapPath(name), seed: 'maps' });
      const nodes = rawNodes(name);
      const online = nodes.filter((n) => n.is_online === true);
      assert.equal(s.providers.length, expected[name], name);
      assert.equal(online.filter((n) => n.is_gateway === true).length, expected[name], name);
      const users = online.filter((n) => n.is_gateway !== true && ((n.clients as number) ?? 0) > 0);
      assert.equal(s.users.length, users.length, name);
      assertDrawnOnGrid(s);
    }

    const cologne = loadMeshviewerFile(bundledMapPath('cologne-bonn-area'), { seed: 1 });
    noteMatching(cologne, /^9 offline gateways skipped$/);
  });

  test('same seed gives the same scenario, different seeds differ', () => {
    const path = bundledMapPath('ulm');

    const a = loadMeshviewerFile(path, { seed: 4 });
    assert.deepEqual(loadMeshviewerFile(path, { seed: 4 }), a);
    const b = loadMeshviewerFile(path, { seed: 5 });
    assert.notDeepEqual(b.users, a.users);
    assert.notDeepEqual(b.providers, a.providers);
    assert.deepEqual(
      b.users.map((u) => [u.id, u.demand]),
      a.users.map((u) => [u.id, u.demand]),
    );
  });

  test('truncateUsers keeps the users with the most clients and loadScenario applies it', () => {
    const s = loadMeshviewerFile(bundledMapPath('bremen'), { seed: 2 });

    const t = truncateUsers(s, 25);
    assert.equal(t.users.length, 25);
    const minKept = t.users.reduce((mn, u) => (u.demand < mn ? u.demand : mn), MAX_QUANTITY);
    const kept = new Set(t.users.map((u) => u.id));
    for (const u of s.users) if (!kept.has(u.id)) assert.ok(u.demand <= minKept);
    const viaSpec = loadScenario({
      kind: 'file',
      path: bundledMapPath('bremen'),
      seed: 2,
      users: 25,
    });
    assert.deepEqual(viaSpec, t);
  });
});

describe('synthetic maps: oddities are handled and reported', () => {
  test('a clean map: ids are hostnames, demand is clients × unitsPerClient', () => {
    const s = importNodes([
      gateway(2),
      gateway(1),
      node({ hostname: 'node-b', clients: 3 }),
      node({ hostname: 'node-a', clients: 1 }),
    ]);

    assert.deepEqual(
      s.providers.map((p) => p.id),
      ['gw-1', 'gw-2'],
    );
    assert.deepEqual(
      s.users.map((u) => [u.id, u.demand]),
      [
        ['node-a', 250n],
        ['node-b', 750n],
      ],
    );
    assert.equal(s.name, 'synthetic');
    assert.equal(s.source, 'test map');
    assertDrawnOnGrid(s);

    const big = importMeshviewer(
      { nodes: [gateway(1), node({ clients: 3 })] },
      { name: 'x', source: 'y', seed: 1, unitsPerClient: 1000 },
    );
    assert.equal(big.users[0]!.demand, 3000n);
    noteMatching(big, /^demand = clients × 1000 units = 1 Mbit\/s per client$/);
  });

  test('clients null or missing count as 0 and are reported', () => {
    const s = importNodes([
      gateway(1),
      node({ clients: null }),
      node({ clients: null }),
      node({ clients: undefined }),
      node({ clients: 2 }),
    ]);

    assert.equal(s.users.length, 1);
    noteMatching(s, /^clients missing or null on 3 nodes \(1 missing, 2 null\), treated as 0$/);
    noteMatching(s, /^3 online nodes without clients/);
  });

  test('offline nodes and offline gateways are skipped and reported', () => {
    const s = importNodes([
      gateway(1),
      gateway(2, { is_online: false }),
      node({ is_online: false, clients: 5 }),
      node({ is_online: false }),
      node({ is_online: null }),
      node({ clients: 4 }),
    ]);

    assert.deepEqual(
      s.providers.map((p) => p.id),
      ['gw-1'],
    );
    assert.equal(s.users.length, 1);
    assert.equal(s.users[0]!.demand, 1000n);
    noteMatching(s, /^3 offline nodes skipped$/);
    noteMatching(s, /^1 offline gateways skipped$/);
    noteMatching(s, /^is_online missing or null on 1 nodes, offline$/);
  });

  test('gateways a node names that are not in nodes are reported', () => {
    const s = importNodes([
      gateway(1),
      node({ gateway: 'ffffffffffff' }),
      node({ gateway: 'ffffffffffff' }),
      node({ gateway: 'eeeeeeeeeeee', is_online: false }),
      node({ gateway: null }),
      node({ gateway: undefined }),
    ]);

    assert.equal(s.users.length, 4);
    noteMatching(s, /^3 nodes name a gateway that is not in nodes \(2 distinct ids\)$/);
  });

  test('hostname falls back to node_id when invalid or shared; no usable id is skipped', () => {
    const s = importNodes([
      gateway(1),
      node({ hostname: 'twin', node_id: 'aaaa00000001' }),
      node({ hostname: 'twin', node_id: 'aaaa00000002' }),
      node({ hostname: 'has space', node_id: 'aaaa00000003' }),
      node({ hostname: null, node_id: 'aaaa00000004' }),
      node({ hostname: null, node_id: null }),
      node({ hostname: 'bad id', node_id: 'also bad' }),
      node({ hostname: 'node-ok' }),
    ]);

    assert.deepEqual(
      s.users.map((u) => u.id),
      ['aaaa00000001', 'aaaa00000002', 'aaaa00000003', 'aaaa00000004', 'node-ok'],
    );
    noteMatching(s, /^2 nodes without a usable id skipped/);
    noteMatching(s, /^4 agents identified by node_id/);
  });

  test('an id taken by two agents is not used by either', () => {
    const s = importNodes([
      gateway(1),
      node({ hostname: 'x y', node_id: 'dup' }),
      node({ hostname: 'dup' }),
      node({ hostname: 'node-ok' }),
    ]);

    assert.deepEqual(
      s.users.map((u) => u.id),
      ['node-ok'],
    );
    noteMatching(s, /^2 nodes without a usable id skipped/);
  });

  test('a map without a gateway is refused, naming the map', () => {
    const msg = projectError(() => importNodes([node(), node()]));
    assert.match(msg, /synthetic/);
    assert.match(msg, /test map/);
    assert.match(msg, /no online gateway/);

    const offline = projectError(() => importNodes([gateway(1, { is_online: false }), node()]));
    assert.match(offline, /no online gateway.*1 gateways in nodes, 1 offline/);
  });

  test('a map without any user is refused', () => {
    const msg = projectError(() => importNodes([gateway(1), node({ clients: 0 })]));

    assert.match(msg, /synthetic/);
    assert.match(msg, /no online non-gateway node with at least one client/);
  });

  test('each agent draws from its own stream: other nodes do not change its values', () => {
    const nodes = [gateway(1), node({ hostname: 'node-a' }), node({ hostname: 'node-b' })];

    const all = importNodes(nodes, 8);
    const fewer = importNodes([nodes[0]!, nodes[2]!], 8);
    assert.equal(fewer.users[0]!.bid, all.users.find((u) => u.id === 'node-b')!.bid);
    assert.equal(fewer.providers[0]!.ask, all.providers[0]!.ask);
  });

  test('capacities above MAX_QUANTITY are lowered and reported', () => {
    const nodes = [gateway(1), node({ clients: 1000 }), node({ clients: 1000 }), node()];

    const s = importMeshviewer(
      { nodes },
      { name: 'huge', source: 'test', seed: 1, unitsPerClient: 1_000_000 },
    );
    assert.equal(s.providers[0]!.capacity, MAX_QUANTITY);
    noteMatching(s, /^1 provider capacities lowered to MAX_QUANTITY$/);
    invalidField(
      () =>
        importMeshviewer(
          { nodes: [gateway(1), node({ clients: 1001 })] },
          { name: 'huge', source: 'test', seed: 1, unitsPerClient: 1_000_000 },
        ),
      'nodes[1].clients',
    );
  });
});

describe('structure and option validation', () => {
  test('a wrong structure names the failing field and the source', () => {
    const imp = (json: unknown): unknown =>
      importMeshviewer(json, { name: 'bad', source: '/maps/bad.json', seed: 1 });

    invalidField(() => imp(null), 'meshviewer');
    invalidField(() => imp([]), 'meshviewer');
    invalidField(() => imp({}), 'nodes');
    invalidField(() => imp({ nodes: {} }), 'nodes');
    invalidField(() => imp({ nodes: [gateway(1), null] }), 'nodes[1]');
    const msg = invalidField(
      () => imp({ nodes: [gateway(1), node({ clients: '3' })] }),
      'nodes[1].clients',
    );
    assert.match(msg, /^\/maps\/bad\.json: nodes\[1\]\.clients: expected a non-negative integer/);
    invalidField(() => imp({ nodes: [node({ clients: -1 })] }), 'nodes[0].clients');
    invalidField(() => imp({ nodes: [node({ clients: 1.5 })] }), 'nodes[0].clients');
    invalidField(() => imp({ nodes: [node({ is_online: 'yes' })] }), 'nodes[0].is_online');
    invalidField(() => imp({ nodes: [node({ is_gateway: 1 })] }), 'nodes[0].is_gateway');
    invalidField(() => imp({ nodes: [node({ node_id: 17 })] }), 'nodes[0].node_id');
  });

  test('unknown fields and missing optional parts are accepted', () => {
    const s = importMeshviewer(
      {
        timestamp: null,
        nodes: [gateway(1, { extra: [1, 2] }), { is_online: true, clients: 2, node_id: 'abc' }],
      },
      { name: 'lenient', source: 'test', seed: 1 },
    );

    assert.deepEqual(
      s.users.map((u) => u.id),
      ['abc'],
    );
    noteMatching(s, /^is_gateway missing or null on 1 nodes, not gateways$/);
  });

  test('invalid options throw InvalidInputError naming the option', () => {
    const json = { nodes: [gateway(1), node()] };

    invalidField(() => importMeshviewer(json, { name: '', source: 's', seed: 1 }), 'name');
    invalidField(
      () => importMeshviewer(json, { name: 'n', source: 1 as never, seed: 1 }),
      'source',
    );
    invalidField(() => importMeshviewer(json, { name: 'n', source: 's', seed: 0.5 }), 'seed');
    for (const unitsPerClient of [0, -5, 2.5, 1_000_000_001]) {
      invalidField(
        () => importMeshviewer(json, { name: 'n', source: 's', seed: 1, unitsPerClient }),
        'unitsPerClient',
      );
    }
    invalidField(() => importMeshviewer(json, null as never), 'opts');
  });
});

describe('files', () => {
  test('missing, unreadable and invalid JSON files name the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auctioneer-scenarios-'));
    try {
      const missing = join(dir, 'missing-meshviewer.json');
      assert.match(
        invalidField(() => loadMeshviewerFile(missing, { seed: 1 }), 'path'),
        /missing-/,
      );
      assert.match(
        invalidField(() => loadMeshviewerFile(dir, { seed: 1 }), 'path'),
        /auctioneer-/,
      );

      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{"nodes": [');
      const msg = invalidField(() => loadMeshviewerFile(broken, { seed: 1 }), 'path');
      assert.match(msg, /valid JSON/);
      assert.ok(msg.includes(broken), msg);

      assert.match(
        invalidField(() => loadScenario({ kind: 'file', path: missing, seed: 1 }), 'path'),
        /missing-meshviewer\.json/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a file map: name from the file name, source is the path, no gateway names the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auctioneer-scenarios-'));
    try {
      const good = join(dir, 'tiny-meshviewer.json');
      writeFileSync(good, JSON.stringify({ nodes: [gateway(1), node({ clients: 2 })] }));
      const s = loadMeshviewerFile(good, { seed: 1 });
      assert.equal(s.name, 'tiny');
      assert.equal(s.source, good);
      assert.equal(loadMeshviewerFile(good, { seed: 1, name: 'other' }).name, 'other');

      const noGw = join(dir, 'nogw.json');
      writeFileSync(noGw, JSON.stringify({ nodes: [node(), node()] }));
      const msg = projectError(() => loadMeshviewerFile(noGw, { seed: 1 }));
      assert.ok(msg.includes(noGw), msg);
      assert.match(msg, /"nogw"/);
      assert.match(msg, /no online gateway/);

      const badNode = join(dir, 'bad-node.json');
      writeFileSync(badNode, JSON.stringify({ nodes: [gateway(1), node({ clients: 'x' })] }));
      const bad = invalidField(() => loadMeshviewerFile(badNode, { seed: 1 }), 'nodes[1].clients');
      assert.ok(bad.startsWith(badNode), bad);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mapNameFromPath strips -meshviewer.json and .json', () => {
    assert.equal(mapNameFromPath('/a/b/ulm-meshviewer.json'), 'ulm');
    assert.equal(mapNameFromPath('x/nodes.json'), 'nodes');
    assert.equal(mapNameFromPath('plain'), 'plain');
  });
});
