/** Runs the shared Transport conformance suite against every implementation. */
import { createMemoryNetwork } from '../../src/transport/memory.js';
import { transportConformance } from './conformance.js';
import { zmqMesh } from './helpers.js';

transportConformance('memory (reorder, random delay)', async (m) => {
  const transports = createMemoryNetwork(m, { seed: `conformance/${m}`, maxDelayMs: 3 });
  return {
    transports,
    quiesce: () => transports[0]!.network.idle(),
    close: async () => void (await Promise.all(transports.map((t) => t.close()))),
  };
});

transportConformance('memory (fifo, fixed latency)', async (m) => {
  const transports = createMemoryNetwork(m, { seed: 'fifo', fifo: true, latencyMs: 1 });
  return {
    transports,
    quiesce: () => transports[0]!.network.idle(),
    close: async () => void (await Promise.all(transports.map((t) => t.close()))),
  };
});

transportConformance('zeromq over loopback TCP', async (m) => {
  const mesh = await zmqMesh(m);
  return { transports: mesh.transports.map((t) => t!), close: () => mesh.close() };
});
