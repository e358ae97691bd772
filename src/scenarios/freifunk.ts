/**
 * Double-auction scenarios built from real Freifunk node maps (meshviewer.json, see
 * data/README.md and mechanisms.md Decision 6c).
 *
 * - Providers are the online gateways (`is_gateway: true`, `is_online: true`).
 * - Users are the online non-gateway nodes with at least one client; a user's demand is
 *   clients × unitsPerClient units (default 250 units = 0.25 Mbit/s per client).
 * - The map holds no money and no capacities, so asks, bids and capacities are drawn from the
 *   seed with the paper's distributions (random.ts): ask U(0, 1], bid U[0.75, 1.25], capacity
 *   = total demand / m × U[0.5, 1.5]. Each agent draws from its own stream, labelled
 *   `freifunk/<name>/<provider|user>/<id>`, so its values do not depend on the other nodes of
 *   the map (capacity aside, which scales with total demand), and two maps loaded with the same
 *   seed are not correlated.
 * - An agent's id is its `hostname` when that is a valid agent id shared by no other agent,
 *   else its `node_id`; nodes with neither are skipped. Providers and users are sorted by id.
 *
 * The maps' oddities (clients missing or null, offline nodes and gateways, gateways named but
 * not in `nodes`, nodes without a usable id) are handled and counted in the scenario's notes.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { z } from 'zod';
import { ConfigError, InvalidInputError } from '../core/errors.js';
import { AGENT_ID_PATTERN, MAX_QUANTITY, compareIds } from '../core/units.js';
import type { ProviderAsk, UserBid } from '../mechanisms/double/types.js';
import {
  capacityFromFactor,
  checkCount,
  checkSeed,
  clampQuantity,
  drawAsk,
  drawBid,
  drawCapacityFactor,
  scenarioRng,
} from './random.js';
import type { DoubleScenario } from './scenario.js';

/** Default demand per client: 250 units = 0.25 Mbit/s. */
export const DEFAULT_UNITS_PER_CLIENT = 250;

/** Options of importMeshviewer. */
export interface MeshviewerOptions {
  /** Short name for reports, e.g. "bremen"; also part of the random streams' labels. */
  readonly name: string;
  /** Where the map came from (a file path), used in notes and error messages. */
  readonly source: string;
  /** Seed of the drawn asks, bids and capacities. */
  readonly seed: string | number;
  /** Demand per client in units (1 unit = 1 kbit/s); default 250 (0.25 Mbit/s). */
  readonly unitsPerClient?: number;
}

/** Options of loadMeshviewerFile: name defaults to the file name, source is the path. */
export interface MeshviewerFileOptions {
  /** Short name; default: the file name without "-meshviewer.json" / ".json". */
  readonly name?: string;
  /** Seed of the drawn asks, bids and capacities. */
  readonly seed: string | number;
  /** Demand per client in units; default 250 (0.25 Mbit/s). */
  readonly unitsPerClient?: number;
}

/** One node as far as the import needs it; every field may be missing or null. */
const NodeSchema = z.object({
  node_id: z.string().nullish(),
  hostname: z.string().nullish(),
  is_online: z.boolean().nullish(),
  is_gateway: z.boolean().nullish(),
  clients: z.number().int().min(0).nullish(),
  gateway: z.string().nullish(),
});

/** A meshviewer.json document: an object with a `nodes` array; other keys are ignored. */
const MeshviewerSchema = z.object({ nodes: z.array(NodeSchema) });

type MeshNode = z.infer<typeof NodeSchema>;

/** What each field must be, for error messages, by the last key of the failing path. */
const EXPECTED: Record<string, string> = {
  '': 'a meshviewer.json object with a "nodes" array',
  nodes: 'an array of node objects',
  node: 'a node object',
  node_id: 'a string, null or nothing',
  hostname: 'a string, null or nothing',
  gateway: 'a string, null or nothing',
  is_online: 'true, false, null or nothing',
  is_gateway: 'true, false, null or nothing',
  clients: 'a non-negative integer, null or nothing',
};

/** A candidate agent before ids are settled. */
interface Candidate {
  readonly role: 'provider' | 'user';
  readonly index: number;
  readonly node: MeshNode;
  readonly clients: number;
}

/**
 * Builds a double-auction scenario from a parsed meshviewer.json document. Throws
 * InvalidInputError (with the failing `field`, e.g. "nodes[3].clients") when the structure is
 * wrong or an option is invalid, and ConfigError when the map has no online gateway or no
 * online node with clients.
 */
export function importMeshviewer(json: unknown, opts: MeshviewerOptions): DoubleScenario {
  const { name, source, seed, unitsPerClient } = checkOptions(opts);
  const where = `map "${name}" (${source})`;

  const parsed = MeshviewerSchema.safeParse(json);
  if (!parsed.success) throw structureError(source, json, parsed.error.issues[0]);

  const nodes = parsed.data.nodes;
  const counts = countOddities(nodes);

  const census = classify(nodes);
  const { candidates, gateways, offlineGateways } = census;

  const { ids, fallbacks } = settleIds(candidates);
  const kept = candidates.flatMap((c, i) => {
    const id = ids[i];
    return id === null || id === undefined ? [] : [{ ...c, id }];
  });
  const noId = candidates.length - kept.length;
  const providerNodes = kept.filter((c) => c.role === 'provider');
  const userNodes = kept.filter((c) => c.role === 'user');

  if (providerNodes.length === 0) {
    const why = [`${gateways} gateways in nodes`, `${offlineGateways} offline`];
    const gwNoId = candidates.filter((c, i) => c.role === 'provider' && ids[i] === null).length;
    if (gwNoId > 0) why.push(`${gwNoId} without a usable id`);
    throw new ConfigError(
      `${where}: no online gateway to act as provider (${why.join(', ')}); ` +
        'a double auction needs at least one',
    );
  }

  if (userNodes.length === 0) {
    throw new ConfigError(
      `${where}: no online non-gateway node with at least one client, so no user; ` +
        'a double auction needs at least one',
    );
  }

  const upc = BigInt(unitsPerClient);
  const users: UserBid[] = userNodes.map((c) => {
    const demand = BigInt(c.clients) * upc;
    if (demand > MAX_QUANTITY) {
      throw inputError(
        source,
        `nodes[${c.index}].clients`,
        c.clients,
        `at most ${MAX_QUANTITY / upc} clients (demand ≤ ${MAX_QUANTITY} units)`,
      );
    }

    const id = c.id;
    const bid = drawBid(scenarioRng(seed, `freifunk/${name}/user/${id}`));
    return { kind: 'user', id, bid, demand };
  });
  users.sort((a, b) => compareIds(a.id, b.id));

  const totalDemand = users.reduce((s, u) => s + u.demand, 0n);
  const m = BigInt(providerNodes.length);
  let clamped = 0;
  const providers: ProviderAsk[] = providerNodes.map((c) => {
    const id = c.id;
    const rng = scenarioRng(seed, `freifunk/${name}/provider/${id}`);
    const ask = drawAsk(rng);
    const capacity = clampQuantity(capacityFromFactor(totalDemand, m, drawCapacityFactor(rng)));
    if (capacity.clamped) clamped++;
    return { kind: 'provider', id, ask, capacity: capacity.value };
  });
  providers.sort((a, b) => compareIds(a.id, b.id));

  const notes = buildNotes(opts.unitsPerClient === undefined, unitsPerClient, {
    ...counts,
    ...census,
    noId,
    fallbacks,
    clamped,
  });
  return { name, source, providers, users, notes };
}

/**
 * Reads a meshviewer.json file and imports it (see importMeshviewer); the scenario's source is
 * the path. A missing or unreadable file, or one that is not valid JSON, throws
 * InvalidInputError with field "path" and a message that starts with the path.
 */
export function loadMeshviewerFile(path: string, opts: MeshviewerFileOptions): DoubleScenario {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidInputError('path', path, 'the path of a meshviewer.json file');
  }

  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw inputError(path, 'path', path, `a readable meshviewer.json file (${reason(err)})`);
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw inputError(path, 'path', path, `a file of valid JSON (${reason(err)})`);
  }

  const name = opts?.name ?? mapNameFromPath(path);
  return importMeshviewer(json, { ...opts, name, source: path });
}

/** The short name of a map file: its base name without "-meshviewer.json" or ".json". */
export function mapNameFromPath(path: string): string {
  const base = basename(path);

  const stripped = base.replace(/-meshviewer\.json$/i, '').replace(/\.json$/i, '');
  return stripped.length > 0 ? stripped : base;
}

/** Checks and completes importMeshviewer's options. */
function checkOptions(opts: MeshviewerOptions): Required<MeshviewerOptions> {
  if (typeof opts !== 'object' || opts === null) {
    throw new InvalidInputError('opts', opts, 'an object { name, source, seed }');
  }

  if (typeof opts.name !== 'string' || opts.name.length === 0) {
    throw new InvalidInputError('name', opts.name, 'a non-empty string');
  }

  if (typeof opts.source !== 'string') {
    throw new InvalidInputError('source', opts.source, 'a string');
  }

  const seed = checkSeed(opts.seed);
  const max = Number(MAX_QUANTITY);
  const upc = opts.unitsPerClient ?? DEFAULT_UNITS_PER_CLIENT;
  checkCount('unitsPerClient', upc, 1, max);
  return { name: opts.name, source: opts.source, seed, unitsPerClient: upc };
}

/** The nodes sorted into candidate agents, with the counts of those left out. */
interface Census {
  readonly candidates: Candidate[];
  readonly gateways: number;
  readonly offlineGateways: number;
  readonly offlineNodes: number;
  readonly withoutClients: number;
}

/**
 * Online gateways become provider candidates, online non-gateways with clients ≥ 1 user
 * candidates (clients missing or null count as 0); offline nodes and online nodes without
 * clients are only counted. A node is online only when `is_online` is true.
 */
function classify(nodes: readonly MeshNode[]): Census {
  const candidates: Candidate[] = [];
  let gateways = 0;
  let offlineGateways = 0;
  let offlineNodes = 0;
  let withoutClients = 0;

  nodes.forEach((node, index) => {
    const gateway = node.is_gateway === true;
    const clients = node.clients ?? 0;
    if (gateway) gateways++;
    if (node.is_online !== true) {
      if (gateway) offlineGateways++;
      else offlineNodes++;
    } else if (gateway) candidates.push({ role: 'provider', index, node, clients });
    else if (clients >= 1) candidates.push({ role: 'user', index, node, clients });
    else withoutClients++;
  });

  return { candidates, gateways, offlineGateways, offlineNodes, withoutClients };
}

/** The scenario notes: the demand rule, then every oddity whose count is positive. */
function buildNotes(
  defaulted: boolean,
  unitsPerClient: number,
  c: Omit<Census, 'candidates'> &
    ReturnType<typeof countOddities> & { noId: number; fallbacks: number; clamped: number },
): string[] {
  const notes = [
    `demand = clients × ${unitsPerClient} units = ${formatMbit(unitsPerClient)} Mbit/s ` +
      `per client${defaulted ? ' (the default)' : ''}`,
  ];

  const add = (count: number, text: string): void => {
    if (count > 0) notes.push(text);
  };
  const nullish = c.clientsMissing + c.clientsNull;
  add(
    nullish,
    `clients missing or null on ${nullish} nodes ` +
      `(${c.clientsMissing} missing, ${c.clientsNull} null), treated as 0`,
  );
  add(c.onlineUnknown, `is_online missing or null on ${c.onlineUnknown} nodes, offline`);
  add(c.gatewayUnknown, `is_gateway missing or null on ${c.gatewayUnknown} nodes, not gateways`);
  add(c.offlineNodes, `${c.offlineNodes} offline nodes skipped`);
  add(c.offlineGateways, `${c.offlineGateways} offline gateways skipped`);
  add(
    c.unknownGatewayNodes,
    `${c.unknownGatewayNodes} nodes name a gateway that is not in nodes ` +
      `(${c.unknownGatewayIds} distinct ids)`,
  );
  add(c.nonGatewayNamed, `${c.nonGatewayNamed} nodes name a gateway that is not a gateway`);
  add(c.offlineGatewayNamed, `${c.offlineGatewayNamed} nodes name an offline gateway`);
  add(
    c.noId,
    `${c.noId} nodes without a usable id skipped ` +
      '(hostname and node_id missing, invalid or shared)',
  );
  add(
    c.fallbacks,
    `${c.fallbacks} agents identified by node_id (hostname missing, invalid or shared)`,
  );
  add(c.withoutClients, `${c.withoutClients} online nodes without clients: no demand, not users`);
  add(c.clamped, `${c.clamped} provider capacities lowered to MAX_QUANTITY`);
  return notes;
}

/** Counts the oddities that do not depend on which nodes become agents. */
function countOddities(nodes: readonly MeshNode[]) {
  const byId = new Map<string, MeshNode>();
  for (const n of nodes) if (typeof n.node_id === 'string') byId.set(n.node_id, n);

  const unknownIds = new Set<string>();
  const c = {
    clientsMissing: 0,
    clientsNull: 0,
    onlineUnknown: 0,
    gatewayUnknown: 0,
    unknownGatewayNodes: 0,
    unknownGatewayIds: 0,
    nonGatewayNamed: 0,
    offlineGatewayNamed: 0,
  };
  for (const n of nodes) {
    if (n.clients === undefined) c.clientsMissing++;
    if (n.clients === null) c.clientsNull++;
    if (n.is_online === undefined || n.is_online === null) c.onlineUnknown++;
    if (n.is_gateway === undefined || n.is_gateway === null) c.gatewayUnknown++;
    if (typeof n.gateway !== 'string') continue;

    const gw = byId.get(n.gateway);
    if (gw === undefined) {
      c.unknownGatewayNodes++;
      unknownIds.add(n.gateway);
    } else if (gw.is_gateway !== true) c.nonGatewayNamed++;
    else if (gw.is_online !== true) c.offlineGatewayNamed++;
  }

  c.unknownGatewayIds = unknownIds.size;
  return c;
}

/**
 * Chooses each candidate's id: its hostname when valid and unique among the candidates, else
 * its node_id when valid; null when that id is missing, invalid or taken by another candidate.
 * `fallbacks` counts the kept candidates identified by node_id.
 */
function settleIds(candidates: readonly Candidate[]): {
  ids: (string | null)[];
  fallbacks: number;
} {
  const validHost = (c: Candidate): string | null =>
    typeof c.node.hostname === 'string' && AGENT_ID_PATTERN.test(c.node.hostname)
      ? c.node.hostname
      : null;
  const hostCount = tally(candidates.map(validHost));

  const viaNodeId: boolean[] = [];
  const chosen = candidates.map((c, i) => {
    const host = validHost(c);
    viaNodeId[i] = !(host !== null && hostCount.get(host) === 1);
    if (!viaNodeId[i]) return host;

    const nodeId = c.node.node_id;
    return typeof nodeId === 'string' && AGENT_ID_PATTERN.test(nodeId) ? nodeId : null;
  });

  const idCount = tally(chosen);
  const ids = chosen.map((id) => (id !== null && idCount.get(id) === 1 ? id : null));
  const fallbacks = ids.filter((id, i) => id !== null && viaNodeId[i]).length;
  return { ids, fallbacks };
}

/** Occurrences of each non-null string. */
function tally(xs: readonly (string | null)[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) if (x !== null) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** Units per client as Mbit/s, exactly (units are kbit/s). */
function formatMbit(units: number): string {
  const whole = Math.floor(units / 1000);
  const frac = String(units % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return frac.length > 0 ? `${whole}.${frac}` : String(whole);
}

/** Turns the first zod issue into an InvalidInputError naming the failing field. */
function structureError(
  source: string,
  json: unknown,
  issue: z.core.$ZodIssue | undefined,
): InvalidInputError {
  const path = issue?.path ?? [];

  let value: unknown = json;
  for (const p of path) value = isRecord(value) ? value[p as string] : undefined;

  const last = path[path.length - 1];
  const key = last === undefined ? '' : typeof last === 'number' ? 'node' : String(last);
  const expected = EXPECTED[key] ?? issue?.message ?? 'valid input';
  return inputError(source, formatPath(path) || 'meshviewer', value, expected);
}

/** A zod path as a field name, e.g. ["nodes", 3, "clients"] → "nodes[3].clients". */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const q of path) {
    if (typeof q === 'number') out = `${out}[${q}]`;
    else out = out.length > 0 ? `${out}.${String(q)}` : String(q);
  }

  return out;
}

/** True for objects and arrays (anything that can be indexed). */
function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** An InvalidInputError whose message starts with the source (file path) it came from. */
function inputError(source: string, field: string, value: unknown, expected: string) {
  const err = new InvalidInputError(field, value, expected);

  err.message = `${source}: ${err.message}`;
  return err;
}

/** The message of a caught error. */
function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
