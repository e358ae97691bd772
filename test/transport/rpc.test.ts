/** The client RPC: round trips, concurrency, error replies, timeouts, and coexistence with ZAP. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as zmq from 'zeromq';
import { RpcClient, RpcServer, type RpcHandler } from '../../src/transport/rpc.js';
import { RpcRemoteError, TransportError } from '../../src/transport/errors.js';
import { InvalidInputError, TimeoutError } from '../../src/core/errors.js';
import { generateCurveKeyPair } from '../../src/transport/curve.js';
import { Collector, withDeadline, zmqMesh } from './helpers.js';

type Cleanup = (fn: () => unknown) => void;

/** A server on a free loopback port; closed by the test's teardown. */
async function serve(after: Cleanup, handler: RpcHandler, maxRequestBytes?: number) {
  const keys = generateCurveKeyPair();
  const server = await RpcServer.bind({
    address: 'tcp://127.0.0.1:0',
    curvePublicKey: keys.publicKey,
    curveSecretKey: keys.secretKey,
    handler,
    ...(maxRequestBytes !== undefined && { maxRequestBytes }),
  });
  after(() => server.close());
  const client = (serverPublicKey = keys.publicKey) => {
    const c = RpcClient.connect({ address: server.endpoint, serverPublicKey });
    after(() => c.close());
    return c;
  };
  return { server, keys, client };
}

/** A raw CURVE DEALER, to send what RpcClient never would. */
function rawClient(after: Cleanup, address: string, serverPublicKey: string): zmq.Dealer {
  const own = generateCurveKeyPair();
  const d = new zmq.Dealer({
    linger: 0,
    curveServerKey: serverPublicKey,
    curvePublicKey: own.publicKey,
    curveSecretKey: own.secretKey,
  });
  d.connect(address);
  after(() => d.close());
  return d;
}

const echo: RpcHandler = async (req, peer) => ({ echo: req, peer });

describe('rpc', () => {
  it('round-trips a JSON request', async (t) => {
    const { client } = await serve(t.after.bind(t), echo);

    const reply = (await client().request({ kind: 'bid', amount: '123456789012345678901' })) as {
      echo: unknown;
      peer: string;
    };
    assert.deepEqual(reply.echo, { kind: 'bid', amount: '123456789012345678901' });
    assert.match(reply.peer, /^[0-9a-f]+$/);
  });

  it('routes concurrent requests from many clients to their own requesters', async (t) => {
    // Replies come back in the reverse of arrival order within each batch.
    const handler: RpcHandler = async (req) => {
      const n = (req as { n: number }).n;
      await new Promise((resolve) => setTimeout(resolve, 20 - (n % 20)));
      return n * 2;
    };
    const { client } = await serve(t.after.bind(t), handler);
    const clients = Array.from({ length: 5 }, () => client());

    const calls = Array.from({ length: 200 }, (_, n) =>
      clients[n % clients.length]!.request({ n }).then((r) => [n, r]),
    );
    for (const [n, r] of await Promise.all(calls)) assert.equal(r, (n as number) * 2);
  });

  it('answers malformed JSON and wrong framing with an error and keeps serving', async (t) => {
    const { server, keys, client } = await serve(t.after.bind(t), echo);
    const raw = rawClient(t.after.bind(t), server.endpoint, keys.publicKey);

    await raw.send(['req-1', '{"unterminated": ']);
    const [id1, body1] = await withDeadline(raw.receive(), () => 'malformed-JSON reply');
    assert.equal(`${id1}`, 'req-1');
    const reply1 = JSON.parse(`${body1}`);
    assert.equal(reply1.ok, false);
    assert.equal(reply1.error.code, 'MALFORMED_REQUEST');
    assert.equal(typeof reply1.error.message, 'string');

    await raw.send(Buffer.from([0xff, 0xfe]));
    const [id2, body2] = await withDeadline(raw.receive(), () => 'one-frame reply');
    assert.equal(id2!.length, 0);
    assert.equal(JSON.parse(`${body2}`).error.code, 'MALFORMED_REQUEST');

    await raw.send(['req-3', Buffer.from([0xc3, 0x28])]);
    const [, body3] = await withDeadline(raw.receive(), () => 'bad-UTF-8 reply');
    assert.equal(JSON.parse(`${body3}`).error.code, 'MALFORMED_REQUEST');

    const after = (await client().request([1, 2])) as { echo: unknown };
    assert.deepEqual(after.echo, [1, 2], 'the server still serves after bad input');
  });

  it('answers an oversized request with REQUEST_TOO_LARGE', async (t) => {
    const { client } = await serve(t.after.bind(t), echo, 1000);

    await assert.rejects(
      client().request({ blob: 'x'.repeat(2000) }),
      (err: unknown) => err instanceof RpcRemoteError && err.remoteCode === 'REQUEST_TOO_LARGE',
    );
  });

  it('turns handler errors into error replies, hiding unexpected ones', async (t) => {
    const handler: RpcHandler = async (req) => {
      if (req === 'domain') throw new InvalidInputError('bid.amount', -1, 'a positive amount');
      throw new Error('secret internal detail');
    };
    const { client } = await serve(t.after.bind(t), handler);
    const c = client();

    await assert.rejects(c.request('domain'), (err: unknown) => {
      assert.ok(err instanceof RpcRemoteError);
      assert.equal(err.remoteCode, 'INVALID_INPUT');
      assert.match(err.message, /bid\.amount/);
      return true;
    });
    await assert.rejects(c.request('bug'), (err: unknown) => {
      assert.ok(err instanceof RpcRemoteError);
      assert.equal(err.remoteCode, 'INTERNAL');
      assert.doesNotMatch(err.message, /secret/);
      return true;
    });
  });

  it('rejects with TimeoutError when no reply comes in time', async (t) => {
    const { client } = await serve(t.after.bind(t), () => new Promise(() => undefined));

    await assert.rejects(client().request({}, { timeoutMs: 50 }), TimeoutError);
  });

  it('times out against a server whose key it does not know', async (t) => {
    const { client } = await serve(t.after.bind(t), echo);

    await assert.rejects(
      client(generateCurveKeyPair().publicKey).request({}, { timeoutMs: 100 }),
      (err: unknown) => err instanceof TimeoutError && err.code === 'TIMEOUT',
    );
  });

  it('supports abort and rejects pending requests on close', async (t) => {
    const { client } = await serve(t.after.bind(t), () => new Promise(() => undefined));
    const c = client();

    const ac = new AbortController();
    const aborted = c.request({}, { signal: ac.signal });
    ac.abort();
    await assert.rejects(
      aborted,
      (e: unknown) => e instanceof TransportError && e.code === 'RPC_ABORTED',
    );

    const pending = c.request({});
    await c.close();
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof TransportError && e.code === 'TRANSPORT_CLOSED',
    );
    await assert.rejects(
      c.request({}),
      (e: unknown) => e instanceof TransportError && e.code === 'TRANSPORT_CLOSED',
    );
    await assert.rejects(client().request({ big: 1n }), TypeError);
  });

  it('accepts any client key while the mesh in the same process refuses strangers', async (t) => {
    const mesh = await zmqMesh(2);
    t.after(() => mesh.close());
    const { client } = await serve(t.after.bind(t), echo);

    // A fresh client key: welcome at the RPC server.
    assert.deepEqual(((await client().request('hi')) as { echo: unknown }).echo, 'hi');

    // The same kind of stranger at the mesh ROUTER: refused by its ZAP domain.
    const stranger = rawClient(t.after.bind(t), mesh.addresses[0]!, mesh.keys[0]!.publicKey);
    const refused = new Promise((resolve) => stranger.events.on('handshake:error:auth', resolve));
    void stranger.send('x').catch(() => undefined);
    await withDeadline(refused, () => 'mesh refusal');
    const c1 = new Collector();
    mesh.transports[1]!.onFrame(c1.handler);
    mesh.transports[0]!.send(1, new Uint8Array([1]));
    await c1.until(1);
  });
});
