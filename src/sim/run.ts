/**
 * Executes one RunPlan: m ProviderCores (the production round keeper, with the production
 * FastRound) on a seeded in-memory network, the coalition's deviation applied through the
 * engines' `outgoing` hook and the network's filter, the round driven on virtual time until
 * every provider has its result, and the run judged.
 *
 * Driving: the memory network delivers zero-delay frames in setImmediate steps; the driver
 * lets those run until the network stops moving, then advances the virtual clock to the next
 * timer (a delayed frame, a provider closing late, a phase deadline) and fires it alone, and
 * repeats. Deadlines therefore fire exactly when, in virtual time, nothing else can happen
 * before them, whatever the machine's load, and a run is a function of its plan.
 *
 * A faithful run (#4) has the same engine in its faithful mode, with the plan's KS flavour and
 * decision rule, and a bidder registry of the scenario's users and providers plus the ids a
 * lying coalition may add bids for (FAKE_USER_IDS).
 */
import type { AuctionMechanism, BidReport } from '../mechanisms/mechanism.js';
import { ProviderCore } from '../node/provider-core.js';
import { decodeBidVector } from '../protocol/bid-vector.js';
import type { Drbg } from '../protocol/drbg.js';
import { openEnvelope } from '../protocol/envelope.js';
import { bitCodecFor } from '../protocol/faithful/bit-codec.js';
import { sortedRegistry } from '../protocol/faithful/params.js';
import type { RoundResult } from '../protocol/fast-round.js';
import { Phase } from '../protocol/phases.js';
import { sessionId, type ClusterParams } from '../protocol/session.js';
import { createMemoryNetwork, type MemoryNetwork } from '../transport/memory.js';
import { simScenario, type SimScenario } from './auctions.js';
import type { VirtualClock } from './clock.js';
import { judge, type FaithfulJudging, type Verdict } from './judge.js';
import type { SimIdentities } from './keys.js';
import { runRng, simMode, type RunPlan } from './plan.js';
import {
  FAKE_USER_IDS,
  strategySpec,
  type Deviation,
  type DeviationContext,
  type FrameLog,
} from './strategies.js';
import { framePayload, framePhase, readReveal, readStart } from './wire.js';

/** What every run of a thread shares: the virtual clock (installed) and the identities. */
export interface SimEnvironment {
  readonly clock: VirtualClock;
  readonly identities: SimIdentities;
}

/** One executed run, with everything a test may want to look at. */
export interface RunDetail {
  readonly plan: RunPlan;
  readonly scenario: SimScenario;
  readonly params: ClusterParams;
  /** Each provider's result of the strategy's round; null if it never finished. */
  readonly results: readonly (RoundResult | null)[];
  readonly verdict: Verdict;
  /** Virtual milliseconds the strategy's round took. */
  readonly virtualMs: number;
  /** Frames the network delivered in the run. */
  readonly frames: number;
}

/** Rounds give up after this much virtual time (deadlines end every round long before). */
const VIRTUAL_LIMIT_FACTOR = 10;

interface SimCluster {
  readonly params: ClusterParams;
  readonly network: MemoryNetwork;
  readonly cores: ProviderCore[];
  /** Where the filter logs frames, and whether the coalition deviates, right now. */
  readonly state: { log: FrameLog; sid: Uint8Array; deviate: boolean; round: bigint };
  readonly draws: Uint8Array[][];
}

/** Executes a plan in an installed simulation environment. */
export async function executePlan(plan: RunPlan, env: SimEnvironment): Promise<RunDetail> {
  const scenario = simScenario(plan.auction, plan.users, plan.m, plan.scenarioSeed);
  const mechanism = scenario.mechanism;
  const honest = [...Array(plan.m).keys()].filter((i) => !plan.coalition.includes(i));
  const spec = strategySpec(plan.strategy);
  const mode = simMode(plan.faithful);
  const rng = (label: string) => runRng(plan.seed, plan.index, `sim/${label}`);

  // The replay source: an earlier session of another cluster with the same keys.
  const earlier: FrameLog = new Map();
  const source = spec.earlier?.(plan.variant) ?? null;
  if (source === 'session') {
    const old = buildCluster(plan, scenario, mechanism, env, null, rng, 'earlier');
    old.state.log = earlier;
    old.state.sid = sessionId(old.params, plan.round);
    await playRound(old, plan, scenario, null, env, plan.round, new Map());
    await closeCluster(old);
  }

  // The cluster of this run, and the coalition's deviation built against it.
  const sent: FrameLog = new Map();
  const params = clusterParams(plan, scenario, env, 'main', mechanism);
  const sid = sessionId(params, plan.round);
  const draws: Uint8Array[][] = Array.from({ length: plan.m }, () => []);
  const ctx: DeviationContext = {
    m: plan.m,
    coalition: plan.coalition,
    honest,
    params,
    sid,
    scenario,
    mode,
    groups: plan.groups,
    variant: plan.variant,
    identity: (i) => env.identities.providers[i]!,
    outsider: env.identities.outsider,
    sent,
    earlier,
    drawn: (i) => {
      const d = draws[i]!;
      return { rho: d[d.length - 2]!, nonce: d[d.length - 1]! };
    },
    rng: (label) => rng(`strategy/${label}`),
  };
  const deviation = spec.build(ctx);
  const c = buildCluster(plan, scenario, mechanism, env, deviation, rng, 'main', draws);

  // An earlier round of the same cluster, honest, when the strategy replays from it.
  if (source === 'round') {
    c.state.log = earlier;
    c.state.sid = sessionId(params, plan.round - 1n);
    await playRound(c, plan, scenario, null, env, plan.round - 1n, new Map());
  }

  // The strategy's round.
  c.state.log = sent;
  c.state.sid = sid;
  c.state.deviate = true;
  c.state.round = plan.round;
  const submitted = new Map<number, Map<string, Uint8Array>>();
  const t0 = env.clock.now;
  const results = await playRound(c, plan, scenario, deviation, env, plan.round, submitted);
  const virtualMs = env.clock.now - t0;
  const frames = c.network.stats().framesDelivered;
  await closeCluster(c);

  const providerIds = new Set(params.providers.map((p) => p.id));
  const honestSubmitted = new Map(honest.map((h) => [h, submitted.get(h) ?? new Map()]));
  const faithful: FaithfulJudging | undefined = params.faithful && {
    rule: params.faithful.rule,
    registry: params.faithful.bidders,
    codec: bitCodecFor(mechanism, providerIds),
  };
  const verdict = judge({
    coalition: plan.coalition,
    honest,
    mechanism,
    providerIds,
    results,
    honestVectors: faithful
      ? honestInputs(results, honest, sid, params, honestSubmitted)
      : honestVectors(sent, honest),
    submitted: honestSubmitted,
    expected: spec.expect(plan.variant, mode),
    ...(faithful && { faithful }),
  });
  return { plan, scenario, params, results, verdict, virtualMs, frames };
}

/** Submits the bids, closes every provider at its time, and drives until all have results. */
async function playRound(
  c: SimCluster,
  plan: RunPlan,
  scenario: SimScenario,
  deviation: Deviation | null,
  env: SimEnvironment,
  round: bigint,
  submitted: Map<number, Map<string, Uint8Array>>,
): Promise<(RoundResult | null)[]> {
  // Bids: every user to every provider, the inconsistent user's as the plan says.
  const members = new Set(plan.coalition);
  c.cores.forEach((core, p) => {
    let bids = new Map<string, Uint8Array>();
    scenario.users.forEach((u, j) => {
      const inc = plan.inconsistentUser?.user === j ? plan.inconsistentUser.values[p] : 'a';
      if (inc === 'a') bids.set(u.id, u.bytes);
      else if (inc === 'b') bids.set(u.id, u.alternative);
    });
    if (deviation?.bids && members.has(p)) bids = deviation.bids(p, bids);
    submitted.set(p, bids);
    for (const [id, bytes] of bids) core.submitBid(round, id, bytes);
  });

  // Close: at once, or at the provider's virtual time (close skew).
  const results: (RoundResult | null)[] = c.cores.map(() => null);
  const close = (p: number) =>
    void c.cores[p]!.close(round).then((r) => {
      results[p] = r;
    });
  plan.schedule.closeAtMs.forEach((at, p) => {
    if (at === 0) close(p);
    else setTimeout(() => close(p), at);
  });

  // Drive: drain the event loop, then fire the next timer, until every provider has a result.
  const limit =
    env.clock.now + VIRTUAL_LIMIT_FACTOR * (plan.startTimeoutMs + 5 * plan.phaseTimeoutMs);
  for (;;) {
    await drain(c.network);
    if (results.every((r) => r !== null)) break;
    if (env.clock.now > limit || !env.clock.fireNext()) break;
  }
  return results;
}

/** Builds the providers of a run on a fresh network, with the filter that logs and deviates. */
function buildCluster(
  plan: RunPlan,
  scenario: SimScenario,
  mechanism: AuctionMechanism,
  env: SimEnvironment,
  deviation: Deviation | null,
  rng: (label: string) => Drbg,
  which: 'main' | 'earlier',
  draws: Uint8Array[][] = Array.from({ length: plan.m }, () => []),
): SimCluster {
  const params = clusterParams(plan, scenario, env, which, mechanism);
  const transports = createMemoryNetwork(plan.m, {
    seed: rng(`network/${which}`).bytes(32),
    maxDelayMs: plan.schedule.maxDelayMs,
    latencyMs: plan.schedule.latencyMs,
  });
  const network = transports[0]!.network;
  const state = { log: new Map() as FrameLog, sid: new Uint8Array(32), deviate: false, round: 0n };
  const members = new Set(plan.coalition);
  const permissive: AuctionMechanism = { ...mechanism, checkBid: () => null };

  // Members run modified software: hooks, permissive intake and their own ask.
  const cores = transports.map((transport, i) => {
    const member = members.has(i) && deviation !== null;
    const hook = member ? deviation.outgoing?.(i) : undefined;
    const honestAsk = scenario.providerBids[i]!;
    const coin = rng(`${which}/coin/${i}`);
    return new ProviderCore({
      params,
      self: i,
      identity: env.identities.providers[i]!,
      transport,
      mechanism: member && deviation.permissive ? permissive : mechanism,
      ownBid: (round) =>
        member && deviation.ownBid && round === state.round && state.deviate
          ? deviation.ownBid(i, honestAsk)
          : honestAsk,
      phaseTimeoutMs: plan.phaseTimeoutMs,
      startTimeoutMs: plan.startTimeoutMs,
      groups: plan.groups,
      ...(hook && { outgoing: (ph, pl, peers) => (state.deviate ? hook(ph, pl, peers) : null) }),
      random: (n) => {
        const bytes = coin.bytes(n);
        draws[i]!.push(bytes);
        return bytes;
      },
    });
  });

  // The wire: log what engines send, apply frame-level deviations, duplicate some frames.
  const dup = rng(`${which}/duplicates`);
  network.setFilter((from, to, frame) => {
    logFrame(state.log, state.sid, from, frame);
    let out: Uint8Array[] = [frame];
    if (state.deviate && members.has(from) && deviation?.frames) {
      out = deviation.frames(from, to, frame) ?? [frame];
    }
    if (plan.schedule.dupPercent > 0) {
      out = out.flatMap((f) =>
        Number(dup.uniformInt(100n)) < plan.schedule.dupPercent ? [f, f] : [f],
      );
    }
    for (const f of out.slice(1)) network.inject(from, to, f);
    return out[0] ?? null;
  });
  return { params, network, cores, state, draws };
}

/** The cluster parameters of a run (another cluster id for the earlier session). */
function clusterParams(
  plan: RunPlan,
  scenario: SimScenario,
  env: SimEnvironment,
  which: 'main' | 'earlier',
  mechanism: AuctionMechanism,
): ClusterParams {
  return {
    clusterId: `sim/${plan.seed}/${plan.index}${which === 'earlier' ? '/earlier' : ''}`,
    k: plan.k,
    providers: scenario.providerIds.map((id, i) => ({
      id,
      signingKey: env.identities.providers[i]!.publicKey,
    })),
    agreement: plan.agreement,
    mechanismParams: mechanism.paramsBytes(),
    ...(plan.faithful && {
      faithful: {
        bidders: sortedRegistry([
          ...scenario.providerIds,
          ...scenario.users.map((u) => u.id),
          ...FAKE_USER_IDS,
        ]),
        ks: plan.faithful.ks,
        rule: plan.faithful.rule,
      },
    }),
  };
}

async function closeCluster(c: SimCluster): Promise<void> {
  c.cores.forEach((core) => core.shutdown());
  await Promise.all(c.network.endpoints().map((t) => t.close()));
}

/** Keeps the first frame of each (sender, phase) of the session being logged. */
function logFrame(log: FrameLog, sid: Uint8Array, from: number, frame: Uint8Array): void {
  if (frame.length < 36 || !sameSid(frame, sid)) return;
  const byPhase = log.get(from) ?? new Map<number, Uint8Array>();
  const phase = framePhase(frame);
  if (!byPhase.has(phase)) byPhase.set(phase, frame.slice());
  log.set(from, byPhase);
}

function sameSid(frame: Uint8Array, sid: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (frame[4 + i] !== sid[i]) return false;
  return true;
}

/** The vectors honest providers committed to, read from their BA_REVEAL frames. */
function honestVectors(sent: FrameLog, honest: readonly number[]): Map<number, BidReport[]> {
  const out = new Map<number, BidReport[]>();
  for (const h of honest) {
    const frame = sent.get(h)?.get(Phase.BA_REVEAL);
    if (!frame) continue;
    try {
      out.set(h, decodeBidVector(readReveal(framePayload(frame)).vector));
    } catch {
      // An honest reveal that does not parse would be a bug; the judge reports it as missing.
    }
  }
  return out;
}

/**
 * Faithful mode: the bids each honest provider held when it fixed its lane inputs, which no
 * message carries in the clear (`it` sends only shares): the users' bids it was handed, and
 * the own bid in every provider's START it accepted, read from its round's transcript (the
 * slot of each phase and sender keeps the first valid envelope, the one the round used).
 */
export function honestInputs(
  results: readonly (RoundResult | null)[],
  honest: readonly number[],
  sid: Uint8Array,
  params: ClusterParams,
  submitted: ReadonlyMap<number, ReadonlyMap<string, Uint8Array>>,
): Map<number, BidReport[]> {
  const out = new Map<number, BidReport[]>();
  for (const h of honest) {
    const held = new Map(submitted.get(h) ?? []);
    const starts = new Set<number>();
    for (const frame of results[h]?.transcript ?? []) {
      if (framePhase(frame) !== Phase.START) continue;
      try {
        const env = openEnvelope(frame, frame.length);
        if (!sameSid(frame, sid) || starts.has(env.from)) continue;
        starts.add(env.from);
        const { bid } = readStart(env.payload);
        if (bid.length > 0) held.set(params.providers[env.from]!.id, bid);
      } catch {
        // A START the round could not read ended it at START: no honest provider outputs then.
      }
    }

    // Without every provider's START the provider never fixed its inputs.
    if (starts.size === params.providers.length) {
      out.set(
        h,
        [...held].map(([bidder, bytes]) => ({ bidder, bytes })),
      );
    }
  }
  return out;
}

/**
 * Lets the event loop run until the network stops delivering zero-delay frames: its counters
 * stay the same over two turns in a row (a pending zero-delay step always runs within one).
 */
async function drain(network: MemoryNetwork): Promise<void> {
  let last = activity(network);
  for (let still = 0; still < 2;) {
    await nextTurn();
    const now = activity(network);
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

/** One number that changes whenever the network delivers, drops or queues a frame. */
function activity(network: MemoryNetwork): number {
  const s = network.stats();
  return s.framesDelivered + s.framesDropped * 2 ** 20 + s.inFlight * 2 ** 40;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
