/**
 * ZeroMQ-specific behaviour: peer authentication (ZAP allow-list plus pairwise routing ids),
 * drops and their counters, absent and late peers, latency, and configuration errors. The
 * shared behaviour is in conformance.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as zmq from 'zeromq';
import { ZmqTransport } from '../../src/transport/zmq.js';
import { TransportError } from '../../src/transport/errors.js';
import { ConfigError } from '../../src/core/errors.js';
import { generateCurveKeyPair, pairwiseRoutingId } from '../../src/transport/curve.js';
import {
  Collector,
  collectAll,
  freePorts,
  tagged,
  untag,
  waitUntil,
  withDeadline,
  zmqMesh,
} from './helpers.js';

/** Resolves with the first event of `type` on a socket. */
function nextEvent(socket: zmq.Socket, type: zmq.EventType): Promise<zmq.Event> {
  return withDeadline(
    new Promise((resolve) => socket.events.on(type, (e: zmq.Event) => resolve(e))),
    () => `socket event ${type}`,
  );
}

describe('zeromq peer authentication', () => {
  it('(experiment) the ZAP identity frame is the ROUTER own id, not the client', async (t) => {
    // A private context, so this handler does not collide with the transport's shared one.
    const context = new zmq.Context({ blocky: false });
    const zap = new zmq.Router({ context, linger: 0 });
    const server = generateCurveKeyPair();
    const client = generateCurveKeyPair();
    const router = new zmq.Router({
      context,
      linger: 0,
      curveServer: true,
      curvePublicKey: server.publicKey,
      curveSecretKey: server.secretKey,
      zapDomain: 'experiment',
      routingId: 'router-own-id',
    });
    const dealer = new zmq.Dealer({
      context,
      linger: 0,
      routingId: 'dealer-claimed-id',
      curveServerKey: server.publicKey,
      curvePublicKey: client.publicKey,
      curveSecretKey: client.secretKey,
    });
    t.after(() => [zap, router, dealer].forEach((s) => s.close()));
    await zap.bind('inproc://zeromq.zap.01');
    await router.bind('tcp://127.0.0.1:0');

    // Answer one ZAP request (RFC 27 frame layout) and keep what it said.
    const request = (async () => {
      const [rid, delim, version, reqId, domain, , identity, mechanism] = await zap.receive();
      await zap.send([rid!, delim!, version!, reqId!, '200', 'OK', '', '']);
      return { domain: `${domain}`, identity: `${identity}`, mechanism: `${mechanism}` };
    })();
    dealer.connect(router.lastEndpoint!);
    await dealer.send('hi');
    const [routed] = await router.receive();
    const seen = await withDeadline(request, () => 'ZAP request');

    assert.equal(seen.mechanism, 'CURVE');
    assert.equal(seen.domain, 'experiment');
    assert.equal(seen.identity, 'router-own-id', 'identity frame is the server socket own id');
    assert.notEqual(seen.identity, 'dealer-claimed-id');
    assert.equal(`${routed}`, 'dealer-claimed-id', 'the claim only shows up on the ROUTER');
  });

  it('(experiment) no ZAP handler: zapEnforceDomain alone keeps strangers out', async (t) => {
    const outcomes: string[] = [];
    for (const zapEnforceDomain of [false, true]) {
      const context = new zmq.Context({ blocky: false });
      const [server, client] = [generateCurveKeyPair(), generateCurveKeyPair()];
      const router = new zmq.Router({
        context,
        linger: 0,
        curveServer: true,
        curvePublicKey: server.publicKey,
        curveSecretKey: server.secretKey,
        zapDomain: 'no-handler',
        zapEnforceDomain,
      });
      const dealer = new zmq.Dealer({
        context,
        linger: 0,
        curveServerKey: server.publicKey,
        curvePublicKey: client.publicKey,
        curveSecretKey: client.secretKey,
      });
      t.after(() => [router, dealer].forEach((s) => s.close()));
      await router.bind('tcp://127.0.0.1:0');

      // Either the frame arrives, or the client's handshake fails: whichever happens first.
      const failed = new Promise<string>((resolve) =>
        dealer.events.on('handshake:error:other', () => resolve('refused')),
      );
      const arrived = router.receive().then(
        ([, body]) => `delivered ${body}`,
        () => 'closed',
      );
      dealer.connect(router.lastEndpoint!);
      await dealer.send('hi');
      outcomes.push(await withDeadline(Promise.race([failed, arrived]), () => 'an outcome'));
    }

    assert.deepEqual(outcomes, ['delivered hi', 'refused']);
  });

  it('an unconfigured CURVE key cannot connect, even with a valid routing id', async (t) => {
    const mesh = await zmqMesh(3);
    t.after(() => mesh.close());
    const [c0] = collectAll([mesh.transports[0]!]);
    const stranger = generateCurveKeyPair();

    // The stranger even presents the routing id provider 1 would use, to isolate the ZAP check.
    const rogue = new zmq.Dealer({
      linger: 0,
      curveServerKey: mesh.keys[0]!.publicKey,
      curvePublicKey: stranger.publicKey,
      curveSecretKey: stranger.secretKey,
      routingId: pairwiseRoutingId(mesh.keys[1]!, mesh.keys[0]!.publicKey, 'sender'),
    });
    t.after(() => rogue.close());
    const refused = nextEvent(rogue, 'handshake:error:auth');
    rogue.connect(mesh.addresses[0]!);
    void rogue.send(tagged(1, 0, 666)).catch(() => undefined);
    await refused;

    // Provider 0 still works, and only the genuine frame arrived.
    mesh.transports[1]!.send(0, tagged(1, 0, 1));
    await c0!.until(1);
    assert.deepEqual(
      c0!.frames.map((r) => untag(r.frame).seq),
      [1],
    );
    assert.ok(mesh.transports[0]!.stats().handshakesRefused >= 1);
  });

  it('from is the authenticated peer even when a peer lies about its routing id', async (t) => {
    const mesh = await zmqMesh(3);
    t.after(() => mesh.close());
    const [c0] = collectAll([mesh.transports[0]!]);
    const [k0, k1, k2] = mesh.keys as [
      (typeof mesh.keys)[0],
      (typeof mesh.keys)[0],
      (typeof mesh.keys)[0],
    ];

    // Provider 1 (a configured key, so ZAP lets it in) claims to be provider 2: with a naive id,
    // and with the best forgery it can compute (its own secret, 2's public key).
    const lies = [
      '2',
      'provider-2',
      pairwiseRoutingId(
        { publicKey: k2.publicKey, secretKey: k1.secretKey },
        k0.publicKey,
        'sender',
      ),
    ];
    for (const routingId of lies) {
      const liar = new zmq.Dealer({
        linger: 0,
        routingId,
        curveServerKey: k0.publicKey,
        curvePublicKey: k1.publicKey,
        curveSecretKey: k1.secretKey,
      });
      t.after(() => liar.close());
      liar.connect(mesh.addresses[0]!);
      await liar.send(tagged(2, 0, 666));
    }
    await waitUntil(
      () => mesh.transports[0]!.stats().droppedUnknownSender >= lies.length,
      'the forged frames to be dropped',
    );

    // Provider 1's real channel says "I am 2" inside the frame: from is still 1.
    mesh.transports[1]!.send(0, tagged(2, 0, 1));
    mesh.transports[2]!.send(0, tagged(2, 0, 2));
    await c0!.until(2);
    const got = new Map(c0!.frames.map((r) => [untag(r.frame).seq, r.from]));
    assert.deepEqual([...got].sort(), [
      [1, 1],
      [2, 2],
    ]);
    assert.equal(mesh.transports[0]!.stats().droppedUnknownSender, lies.length);
  });
});

describe('zeromq transport behaviour', () => {
  it('drops and counts frames above maxFrameBytes', async (t) => {
    const mesh = await zmqMesh(2, { maxFrameBytes: 1024 });
    t.after(() => mesh.close());
    const [, c1] = collectAll(mesh.transports.map((x) => x!));

    mesh.transports[0]!.send(1, new Uint8Array(1025));
    mesh.transports[0]!.send(1, new Uint8Array(1024));
    await c1!.until(1);

    assert.equal(c1!.frames[0]!.frame.length, 1024);
    const s = mesh.transports[0]!.stats();
    assert.equal(s.droppedOversize, 1);
    assert.equal(s.framesDropped, 1);
    assert.equal(s.framesSent, 2);
  });

  it('drops oversized and multi-part messages a misbehaving peer sends', async (t) => {
    const mesh = await zmqMesh(2, { maxFrameBytes: 1024 }, (i) => i === 0);
    t.after(() => mesh.close());
    const c0 = new Collector();
    mesh.transports[0]!.onFrame(c0.handler);

    // A raw socket with provider 1's keys and routing id, skipping the sender-side checks.
    const [k0, k1] = [mesh.keys[0]!, mesh.keys[1]!];
    const raw = new zmq.Dealer({
      linger: 0,
      routingId: pairwiseRoutingId(k1, k0.publicKey, 'sender'),
      curveServerKey: k0.publicKey,
      curvePublicKey: k1.publicKey,
      curveSecretKey: k1.secretKey,
    });
    t.after(() => raw.close());
    raw.connect(mesh.addresses[0]!);
    await raw.send(new Uint8Array(1100));
    await raw.send([new Uint8Array(1), new Uint8Array(1)]);
    await raw.send(tagged(1, 0, 3));
    await c0.until(1);

    assert.deepEqual(
      c0.frames.map((r) => [r.from, untag(r.frame).seq]),
      [[1, 3]],
    );
    const s = mesh.transports[0]!.stats();
    assert.equal(s.droppedOversize, 1);
    assert.equal(s.droppedMalformed, 1);
  });

  it('an absent peer blocks nobody, has a bounded queue, gets queued frames once up', async (t) => {
    const mesh = await zmqMesh(3, { sendHighWaterMark: 5, maxQueueFrames: 20 }, (i) => i !== 2);
    t.after(() => mesh.close());
    const [, c1] = collectAll([mesh.transports[0]!, mesh.transports[1]!]);

    // Flood the absent provider 2, then talk to 1: 1 hears at once.
    const t0 = mesh.transports[0]!;
    for (let s = 0; s < 200; s++) t0.send(2, tagged(0, 2, s));
    t0.send(1, tagged(0, 1, 0));
    await c1!.until(1);
    await waitUntil(() => t0.stats().droppedQueueFull > 0, 'queue-full drops');
    const dropped = t0.stats().droppedQueueFull;
    assert.ok(dropped < 200 && dropped >= 200 - 20 - 5 - 5, `dropped ${dropped}`);

    // Provider 2 starts late; ZeroMQ connects and the frames kept for it arrive, in order.
    const late = await ZmqTransport.create(mesh.options(2));
    mesh.transports[2] = late;
    const c2 = new Collector();
    late.onFrame(c2.handler);
    await c2.until(200 - dropped);
    const seqs = c2.frames.map((r) => untag(r.frame).seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    assert.equal(seqs[0], 0);
  });

  it('a restarted peer takes its channel back', async (t) => {
    const mesh = await zmqMesh(2);
    t.after(() => mesh.close());
    const c1 = new Collector();
    mesh.transports[1]!.onFrame(c1.handler);
    mesh.transports[0]!.send(1, tagged(0, 1, 1));
    await c1.until(1);

    // Provider 0 goes down and comes back on the same address and keys.
    await mesh.transports[0]!.close();
    mesh.transports[0] = await ZmqTransport.create(mesh.options(0));
    mesh.transports[0].send(1, tagged(0, 1, 2));
    await c1.until(2);

    assert.deepEqual(
      c1.frames.map((r) => [r.from, untag(r.frame).seq]),
      [
        [0, 1],
        [0, 2],
      ],
    );
  });

  it('adds the configured one-way latency', async (t) => {
    const mesh = await zmqMesh(2, { latencyMs: 40 });
    t.after(() => mesh.close());
    const [c0, c1] = collectAll(mesh.transports.map((x) => x!));
    mesh.transports[0]!.send(1, new Uint8Array(1));
    await c1!.until(1);

    // Measure on a warm connection: one frame each way.
    const start = performance.now();
    mesh.transports[1]!.send(0, new Uint8Array(1));
    await c0!.until(1);
    assert.ok(performance.now() - start >= 39, 'arrived before the latency');
  });

  it('keeps delivering after a handler throws', async (t) => {
    const mesh = await zmqMesh(2);
    t.after(() => mesh.close());
    const c1 = new Collector();
    let first = true;
    mesh.transports[1]!.onFrame((from, frame) => {
      if (first) {
        first = false;
        throw new Error('boom');
      }
      c1.handler(from, frame);
    });

    mesh.transports[0]!.send(1, tagged(0, 1, 1));
    mesh.transports[0]!.send(1, tagged(0, 1, 2));
    await c1.until(1);
    assert.equal(untag(c1.frames[0]!.frame).seq, 2);
  });
});

describe('zeromq transport configuration', () => {
  const keys = [generateCurveKeyPair(), generateCurveKeyPair()];
  const peers = keys.map((k, i) => ({
    address: `tcp://127.0.0.1:${1 + i}`,
    curvePublicKey: k.publicKey,
  }));
  const base = {
    self: 0,
    peers,
    curvePublicKey: keys[0]!.publicKey,
    curveSecretKey: keys[0]!.secretKey,
  };

  it('refuses inconsistent options with ConfigError', async () => {
    const bad = [
      { ...base, self: 2 },
      { ...base, curveSecretKey: keys[1]!.secretKey },
      { ...base, curvePublicKey: 'not a key' },
      { ...base, peers: [peers[0]!, peers[0]!] },
      { ...base, peers: [peers[0]!] },
      { ...base, maxFrameBytes: 0 },
    ];
    for (const opts of bad) await assert.rejects(ZmqTransport.create(opts), ConfigError);
  });

  it('reports an address in use as TransportError TRANSPORT_BIND', async (t) => {
    const [port] = await freePorts(1);
    const holder = new zmq.Router({ linger: 0 });
    t.after(() => holder.close());
    await holder.bind(`tcp://127.0.0.1:${port}`);
    const taken = [{ ...peers[0]!, address: `tcp://127.0.0.1:${port}` }, peers[1]!];

    await assert.rejects(
      ZmqTransport.create({ ...base, peers: taken }),
      (err: unknown) => err instanceof TransportError && err.code === 'TRANSPORT_BIND',
    );
  });
});
