/**
 * Starts a real cluster in this process: m ProviderServers over ZeroMQ on loopback with fresh
 * keys and free ports, and a client connected to all of them.
 */
import { pino } from 'pino';
import { AuctionClient } from '../../src/client/client.js';
import { parseCluster, type Cluster } from '../../src/node/cluster.js';
import type { ProviderKeys } from '../../src/node/keys.js';
import { freePorts } from '../../src/node/ports.js';
import { ProviderServer } from '../../src/node/provider-server.js';
import { formatPublicKey, generateSigningIdentity } from '../../src/protocol/identity.js';
import type { DoubleScenario } from '../../src/scenarios/scenario.js';
import { generateCurveKeyPair } from '../../src/transport/curve.js';

/** A running loopback cluster. */
export interface ZmqCluster {
  cluster: Cluster;
  servers: ProviderServer[];
  client: AuctionClient;
  stop(): Promise<void>;
}

/** Starts one provider per scenario provider, with k and the given deadlines. */
export async function startZmqCluster(
  scenario: DoubleScenario,
  k: number,
  timing = { phaseTimeoutMs: 5_000, startTimeoutMs: 5_000 },
): Promise<ZmqCluster> {
  const m = scenario.providers.length;
  const ports = await freePorts(2 * m);
  const keys: ProviderKeys[] = scenario.providers.map(() => ({
    signing: generateSigningIdentity(),
    curve: generateCurveKeyPair(),
  }));
  const cluster = parseCluster({
    clusterId: 'zmq-test',
    k,
    auction: { kind: 'double', rule: 'safe' },
    timing,
    providers: scenario.providers.map((p, i) => ({
      id: p.id,
      peerAddress: `tcp://127.0.0.1:${ports[2 * i]}`,
      clientAddress: `tcp://127.0.0.1:${ports[2 * i + 1]}`,
      signingKey: formatPublicKey(keys[i]!.signing.publicKey),
      curveKey: keys[i]!.curve.publicKey,
    })),
  });
  const log = pino({ level: 'silent' });
  const servers = await Promise.all(
    scenario.providers.map((p, i) =>
      ProviderServer.start({
        cluster,
        self: i,
        keys: keys[i]!,
        report: { ask: p.ask, capacity: [p.capacity] },
        log,
      }),
    ),
  );
  const client = await AuctionClient.connect(cluster);
  return {
    cluster,
    servers,
    client,
    async stop() {
      await client.close();
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
