/**
 * A mesh of ProviderCores over real ZeroMQ transports on loopback, for fault tests: optional
 * TCP proxies on chosen channels (to cut a connection), a wrapper around each transport (to
 * duplicate frames), and providers that run no core at all (silent peers).
 *
 * The proxy sits on one directed channel i → j: provider i is told that j listens on the
 * proxy's port, everybody else (and j itself) uses j's real address. Channel addresses are not
 * part of the session parameters, so every provider still runs the same session.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { encodeDoubleBid } from '../../src/mechanisms/double/codec.js';
import { doubleAuctionMechanism } from '../../src/mechanisms/double/mechanism.js';
import { freePorts } from '../../src/node/ports.js';
import { ProviderCore } from '../../src/node/provider-core.js';
import type { RoundResult } from '../../src/protocol/fast-round.js';
import { generateSigningIdentity } from '../../src/protocol/identity.js';
import type { ClusterParams } from '../../src/protocol/session.js';
import { paperDoubleWorkload } from '../../src/scenarios/paper.js';
import type { DoubleScenario } from '../../src/scenarios/scenario.js';
import { generateCurveKeyPair } from '../../src/transport/curve.js';
import type { Transport } from '../../src/transport/transport.js';
import { ZmqTransport } from '../../src/transport/zmq.js';

/** A TCP relay that can drop every connection through it for a while. */
export class PauseProxy {
  private readonly sockets = new Set<Socket>();
  private pausedUntil = 0;
  /** Connections accepted and dropped while paused. */
  refused = 0;
  /** Bytes relayed, both ways. */
  bytes = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on `port` and relays every connection to `targetPort` on loopback. */
  static async start(port: number, targetPort: number): Promise<PauseProxy> {
    const server = createServer();
    const proxy = new PauseProxy(server, port);
    server.on('connection', (client) => proxy.relay(client, targetPort));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  /** Drops every open connection and refuses new ones for `ms` milliseconds. */
  pause(ms: number): void {
    this.pausedUntil = Date.now() + ms;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** Closes the relay and every connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private relay(client: Socket, targetPort: number): void {
    if (Date.now() < this.pausedUntil) {
      this.refused++;
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(a);
      a.on('data', (chunk: Buffer) => {
        this.bytes += chunk.length;
        b.write(chunk);
      });
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
    }
  }
}

/** Options of a fault-test mesh. */
export interface MeshOptions {
  readonly m: number;
  readonly k: number;
  readonly users: number;
  readonly phaseTimeoutMs: number;
  readonly startTimeoutMs: number;
  /** One-way delay on every transport (to stretch a round). */
  readonly latencyMs?: number;
  /** Directed channels [from, to] that go through a PauseProxy. */
  readonly proxied?: readonly (readonly [number, number])[];
  /** Replaces provider i's transport as its core sees it. */
  readonly wrap?: (i: number, t: Transport) => Transport;
  /** Providers that get a transport but no core: they never send anything. */
  readonly silent?: readonly number[];
}

/** A running mesh. */
export interface Mesh {
  readonly scenario: DoubleScenario;
  readonly params: ClusterParams;
  /** Cores by provider index (undefined for silent providers). */
  readonly cores: (ProviderCore | undefined)[];
  readonly proxies: Map<string, PauseProxy>;
  /** Submits every user's bid to every core and closes the round everywhere. */
  round(round: bigint): Promise<RoundResult>[];
  stop(): Promise<void>;
}

/** Starts the mesh. */
export async function startMesh(o: MeshOptions): Promise<Mesh> {
  const scenario = paperDoubleWorkload({ users: o.users, providers: o.m, seed: 'zmq-faults' });
  const mechanism = doubleAuctionMechanism('safe');
  const ids = scenario.providers.map(() => generateSigningIdentity());
  const curves = scenario.providers.map(() => generateCurveKeyPair());
  const params: ClusterParams = {
    clusterId: 'zmq-faults',
    k: o.k,
    providers: scenario.providers.map((p, i) => ({ id: p.id, signingKey: ids[i]!.publicKey })),
    agreement: 'fast',
    mechanismParams: mechanism.paramsBytes(),
  };

  // Ports: one per provider, one per proxy.
  const proxied = o.proxied ?? [];
  const ports = await freePorts(o.m + proxied.length);
  const proxies = new Map<string, PauseProxy>();
  for (const [n, [from, to]] of proxied.entries()) {
    proxies.set(`${from}->${to}`, await PauseProxy.start(ports[o.m + n]!, ports[to]!));
  }
  const address = (i: number, j: number) => {
    const proxy = proxies.get(`${i}->${j}`);
    return `tcp://127.0.0.1:${proxy ? proxy.port : ports[j]}`;
  };

  const transports = await Promise.all(
    scenario.providers.map((_, i) =>
      ZmqTransport.create({
        self: i,
        peers: scenario.providers.map((_p, j) => ({
          address: j === i ? `tcp://127.0.0.1:${ports[i]}` : address(i, j),
          curvePublicKey: curves[j]!.publicKey,
        })),
        curvePublicKey: curves[i]!.publicKey,
        curveSecretKey: curves[i]!.secretKey,
        lingerMs: 0,
        ...(o.latencyMs !== undefined && { latencyMs: o.latencyMs }),
      }),
    ),
  );
  const silent = new Set(o.silent ?? []);
  const cores = transports.map((t, i) =>
    silent.has(i)
      ? undefined
      : new ProviderCore({
          params,
          self: i,
          identity: ids[i]!,
          transport: o.wrap ? o.wrap(i, t) : t,
          mechanism,
          ownBid: () => encodeDoubleBid(scenario.providers[i]!),
          phaseTimeoutMs: o.phaseTimeoutMs,
          startTimeoutMs: o.startTimeoutMs,
        }),
  );

  return {
    scenario,
    params,
    cores,
    proxies,
    round(round) {
      const live = cores.filter((c): c is ProviderCore => c !== undefined);
      for (const c of live) {
        for (const u of scenario.users) c.submitBid(round, u.id, encodeDoubleBid(u));
      }
      return live.map((c) => c.close(round));
    },
    async stop() {
      for (const c of cores) c?.shutdown();
      await Promise.all(transports.map((t) => t.close()));
      await Promise.all([...proxies.values()].map((p) => p.close()));
    },
  };
}

/** Resolves with the value, or rejects once `ms` passed (a hang is a failure, not a wait). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}
