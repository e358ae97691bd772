/**
 * Scenario generators for the double auction: the paper's seeded workload, imports of the
 * bundled Freifunk maps, one entry point (loadScenario) for the CLI and benchmarks, and
 * truncateUsers for running a map with fewer users.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, InvalidInputError } from '../core/errors.js';
import { compareIds } from '../core/units.js';
import type { ProviderAsk, UserBid } from '../mechanisms/double/types.js';
import { loadMeshviewerFile } from './freifunk.js';
import { MAX_AGENTS, paperDoubleWorkload } from './paper.js';
import { checkCount } from './random.js';
import type { DoubleScenario } from './scenario.js';

export type { DoubleScenario } from './scenario.js';
export {
  DEFAULT_UNITS_PER_CLIENT,
  importMeshviewer,
  loadMeshviewerFile,
  mapNameFromPath,
  type MeshviewerFileOptions,
  type MeshviewerOptions,
} from './freifunk.js';
export {
  MAX_AGENTS,
  paperDoubleWorkload,
  paperUserId,
  type PaperWorkloadOptions,
} from './paper.js';
export {
  ASK_RANGE,
  BID_RANGE,
  CAPACITY_FACTOR_RANGE,
  DEMAND_RANGE,
  FACTOR_SCALE,
  PRICE_SCALE,
  SCENARIO_DOMAIN,
  UNITS_PER_MBIT,
  capacityFromFactor,
  checkSeed,
  scenarioRng,
  uniformIn,
  type IntRange,
} from './random.js';

/** The Freifunk maps bundled under data/freifunk/. */
export const BUNDLED_MAPS = ['bremen', 'bielefeld', 'ulm', 'cologne-bonn-area'] as const;

/** The name of a bundled Freifunk map. */
export type BundledMap = (typeof BUNDLED_MAPS)[number];

/** What loadScenario builds: the paper's workload or a meshviewer.json file. */
export type ScenarioSpec =
  | {
      readonly kind: 'paper';
      readonly users: number;
      readonly providers: number;
      readonly seed: string | number;
    }
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly seed: string | number;
      /** Short name; default: the file name without "-meshviewer.json". */
      readonly name?: string;
      /** Demand per client in units; default 250 (0.25 Mbit/s). */
      readonly unitsPerClient?: number;
      /** Keep only this many users (see truncateUsers); default: all. */
      readonly users?: number;
    };

/**
 * Builds the scenario a spec describes. Throws InvalidInputError on an unknown kind or invalid
 * options, and whatever paperDoubleWorkload / loadMeshviewerFile throw.
 */
export function loadScenario(spec: ScenarioSpec): DoubleScenario {
  if (typeof spec !== 'object' || spec === null) {
    throw new InvalidInputError('spec', spec, 'an object with kind "paper" or "file"');
  }

  switch (spec.kind) {
    case 'paper':
      return paperDoubleWorkload(spec);
    case 'file': {
      const s = loadMeshviewerFile(spec.path, spec);
      return spec.users === undefined ? s : truncateUsers(s, spec.users);
    }
    default:
      throw new InvalidInputError('kind', (spec as { kind?: unknown }).kind, '"paper" or "file"');
  }
}

let rootCache: string | undefined;

/**
 * The package root: the nearest directory at or above this module that holds a package.json
 * (this module runs from dist/src/scenarios/, so that is the project directory).
 */
export function packageRoot(): string {
  if (rootCache !== undefined) return rootCache;

  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return (rootCache = dir);
    if (dirname(dir) === dir) throw new ConfigError(`no package.json at or above ${start}`);
  }
}

/** The path of a bundled map: <package root>/data/freifunk/<name>-meshviewer.json. */
export function bundledMapPath(name: BundledMap): string {
  if (!(BUNDLED_MAPS as readonly unknown[]).includes(name)) {
    throw new InvalidInputError('map', name, `one of ${BUNDLED_MAPS.join(', ')}`);
  }

  return join(packageRoot(), 'data', 'freifunk', `${name}-meshviewer.json`);
}

/**
 * Keeps the n users with the largest demand (on a map: the most clients), ties by id, listed
 * in id order, and scales every provider capacity by keptDemand / totalDemand (floor, at least
 * 1) so that capacity stays ≈ demand / m × U[0.5, 1.5]. Seed-free, so `--users N` on a map
 * keeps the N busiest routers. Returns the scenario unchanged when it has at most n users.
 * Throws InvalidInputError (field "users") unless n is an integer in [1, 10^6].
 */
export function truncateUsers(s: DoubleScenario, n: number): DoubleScenario {
  checkCount('users', n, 1, MAX_AGENTS);
  if (s.users.length < n) {
    const note = `--users ${n}: the scenario has ${s.users.length} users, all of them run`;
    return { ...s, notes: [...s.notes, note] };
  }
  if (s.users.length === n) return s;

  const byDemand = s.users.slice().sort((a, b) => {
    if (a.demand !== b.demand) return a.demand > b.demand ? -1 : 1;
    return compareIds(a.id, b.id);
  });
  const users: UserBid[] = byDemand.slice(0, n).sort((a, b) => compareIds(a.id, b.id));

  const total = s.users.reduce((t, u) => t + u.demand, 0n);
  const kept = users.reduce((t, u) => t + u.demand, 0n);
  const providers: ProviderAsk[] = s.providers.map((p) => {
    const scaled = (p.capacity * kept) / total;
    return { ...p, capacity: scaled < 1n ? 1n : scaled };
  });

  const note =
    `kept the ${n} users with the largest demand of ${s.users.length} ` +
    `(${kept} of ${total} units); provider capacities scaled by the same ratio`;
  return { ...s, providers, users, notes: [...s.notes, note] };
}
