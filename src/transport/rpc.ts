/**
 * Request/reply for clients (bid intake, result fetch), apart from the provider mesh. The server
 * is a ROUTER with CURVE: traffic is encrypted to the provider's public key, and any client key
 * is accepted (its own ZAP domain, so the mesh's allow-list does not apply), so a client needs
 * only the provider's public key.
 *
 * Wire format, one message per request and per reply, two frames each:
 *   request: [request id (1..128 bytes), JSON body]
 *   reply:   [same request id, JSON `{ ok: true, result }`
 *                          or `{ ok: false, error: { code, message } }`]
 * The id travels outside the JSON so that even a malformed or oversized body gets its error
 * reply routed to the waiting request. JSON has no bigint: callers send amounts as strings.
 *
 * @example
 *   const server = await RpcServer.bind({ address, curvePublicKey, curveSecretKey,
 *     handler: async (req) => ({ echo: req }) });
 *   const client = RpcClient.connect({ address: server.endpoint, serverPublicKey });
 *   const reply = await client.request({ kind: 'bid' }, { timeoutMs: 2000 });
 */
import * as zmq from 'zeromq';
import type { Logger } from 'pino';
import { AuctioneerError, ConfigError, TimeoutError } from '../core/errors.js';
import { TransportError, RpcRemoteError } from './errors.js';
import {
  checkCurveKeyPair,
  generateCurveKeyPair,
  parseCurveKey,
  type CurveKeyPair,
} from './curve.js';
import { registerZapDomain, type ZapRegistration } from './zap.js';
import { SendQueue } from './send-queue.js';
import { bindWithGrace } from './bind.js';

/** Serves one request; `peer` is an opaque per-connection id (hex), not an authenticated name. */
export type RpcHandler = (req: unknown, peer: string) => Promise<unknown>;

/** Options of RpcServer.bind(). */
export interface RpcServerOptions {
  /** Endpoint to bind, e.g. `tcp://0.0.0.0:7200` (port 0 picks a free port; see `endpoint`). */
  readonly address: string;
  /** The server's CURVE secret key (Z85). */
  readonly curveSecretKey: string;
  /** The server's CURVE public key (Z85); clients pin it. */
  readonly curvePublicKey: string;
  /** Called once per well-formed request; a throw becomes an error reply. */
  readonly handler: RpcHandler;
  /**
   * Largest request body; larger ones get a `REQUEST_TOO_LARGE` reply. Bodies above four times
   * this make libzmq drop the connection instead (the bytes are never buffered).
   * @default MAX_REQUEST_BYTES (1 MiB)
   */
  readonly maxRequestBytes?: number;
  /**
   * Requests handled at once; more get a `BUSY` reply.
   * @default MAX_CONCURRENT_REQUESTS (1024)
   */
  readonly maxConcurrent?: number;
  /** Logger for refused requests and handler failures; silent when absent. */
  readonly log?: Logger;
}

/** Error codes the server itself puts in replies (handlers add their own errors' codes). */
export type RpcServerErrorCode =
  'MALFORMED_REQUEST' | 'REQUEST_TOO_LARGE' | 'BUSY' | 'INTERNAL' | 'BAD_RESULT';

/** Default largest request body: 1 MiB. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** Default number of requests handled at once per server. */
export const MAX_CONCURRENT_REQUESTS = 1024;
/** Default request timeout of RpcClient.request(), in milliseconds. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Longest request id, in bytes. */
export const MAX_REQUEST_ID_BYTES = 128;

const REPLY_QUEUE_MESSAGES = 100_000;
const REPLY_QUEUE_BYTES = 256 * 1024 * 1024;
const HARD_LIMIT_FACTOR = 4;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A CURVE ROUTER answering JSON requests concurrently, each reply routed to its requester. */
export class RpcServer {
  private readonly router: zmq.Router;
  private readonly replies: SendQueue;
  private readonly zap: ZapRegistration;
  private readonly handler: RpcHandler;
  private readonly maxRequestBytes: number;
  private readonly maxConcurrent: number;
  private readonly log: Logger | undefined;
  private readonly receiving: Promise<void>;
  private inflight = 0;
  private closing: Promise<void> | null = null;

  private constructor(parts: {
    router: zmq.Router;
    zap: ZapRegistration;
    opts: RpcServerOptions;
    maxRequestBytes: number;
    maxConcurrent: number;
  }) {
    this.router = parts.router;
    this.zap = parts.zap;
    this.handler = parts.opts.handler;
    this.maxRequestBytes = parts.maxRequestBytes;
    this.maxConcurrent = parts.maxConcurrent;
    this.log = parts.opts.log;
    this.replies = new SendQueue(this.router, {
      maxMessages: REPLY_QUEUE_MESSAGES,
      maxBytes: REPLY_QUEUE_BYTES,
      log: this.log,
    });
    this.receiving = this.receive();
  }

  /**
   * Binds the server and starts answering.
   *
   * @throws ConfigError for malformed keys or limits.
   * @throws TransportError `TRANSPORT_BIND` when the address cannot be bound.
   */
  static async bind(opts: RpcServerOptions): Promise<RpcServer> {
    checkCurveKeyPair(opts.curvePublicKey, opts.curveSecretKey);
    const maxRequestBytes = positiveInt('maxRequestBytes', opts.maxRequestBytes, MAX_REQUEST_BYTES);
    const maxConcurrent = positiveInt('maxConcurrent', opts.maxConcurrent, MAX_CONCURRENT_REQUESTS);
    if (typeof opts.handler !== 'function') throw new ConfigError('handler: expected a function');

    // Its own ZAP domain, open to any CURVE client: encryption without client authentication.
    const zap = await registerZapDomain(
      'auctioneer/rpc',
      (req) =>
        req.mechanism === 'CURVE' ? { allow: true } : { allow: false, reason: 'CURVE required' },
      opts.log,
    );
    const router = new zmq.Router({
      linger: 0,
      curveServer: true,
      curvePublicKey: opts.curvePublicKey,
      curveSecretKey: opts.curveSecretKey,
      zapDomain: zap.domain,
      zapEnforceDomain: true,
      maxMessageSize: maxRequestBytes * HARD_LIMIT_FACTOR + MAX_REQUEST_ID_BYTES,
    });
    try {
      await bindWithGrace(router, opts.address);
    } catch (err) {
      router.close();
      await zap.release();
      throw err;
    }

    return new RpcServer({ router, zap, opts, maxRequestBytes, maxConcurrent });
  }

  /** The bound endpoint (with the real port when bound to port 0). */
  get endpoint(): string {
    return this.router.lastEndpoint ?? '';
  }

  /** Stops accepting requests and closes the socket; replies not yet sent are dropped. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.replies.stop();
      if (!this.router.closed) this.router.close();
      await Promise.all([this.receiving, this.replies.done]);
      await this.zap.release();
    })();
    return this.closing;
  }

  /** The single receive loop; each request is handled concurrently. */
  private async receive(): Promise<void> {
    try {
      for await (const [peer, ...frames] of this.router) {
        if (peer !== undefined) this.accept(peer, frames);
      }
    } catch (err) {
      if (!this.router.closed) this.log?.error({ err }, 'RPC receive loop failed');
    }
  }

  private accept(peer: Buffer, frames: Buffer[]): void {
    // Shape and size come first; an answerable request id is all an error reply needs.
    const [id, body] = frames;
    const wellFramed = frames.length === 2 && id !== undefined && id.length <= MAX_REQUEST_ID_BYTES;
    const rid = wellFramed ? id : Buffer.alloc(0);
    const refuse = (code: RpcServerErrorCode, message: string) => {
      this.log?.debug({ code, peer: peer.toString('hex') }, message);
      this.reply(peer, rid, { ok: false, error: { code, message } });
    };
    if (frames.length !== 2 || id === undefined || body === undefined) {
      return refuse('MALFORMED_REQUEST', 'expected two frames: request id, JSON body');
    }
    if (id.length === 0 || id.length > MAX_REQUEST_ID_BYTES) {
      return refuse('MALFORMED_REQUEST', `request id must be 1..${MAX_REQUEST_ID_BYTES} bytes`);
    }
    if (body.length > this.maxRequestBytes) {
      return refuse(
        'REQUEST_TOO_LARGE',
        `body of ${body.length} bytes exceeds ${this.maxRequestBytes}`,
      );
    }
    if (this.inflight >= this.maxConcurrent) {
      return refuse('BUSY', `${this.inflight} requests in progress; retry later`);
    }

    // Parse strictly: invalid UTF-8 or JSON is the client's fault and gets a reply, not a crash.
    let req: unknown;
    try {
      req = JSON.parse(STRICT_UTF8.decode(body));
    } catch (err) {
      return refuse('MALFORMED_REQUEST', `body is not UTF-8 JSON: ${(err as Error).message}`);
    }

    this.inflight++;
    void this.handle(peer, id, req).finally(() => this.inflight--);
  }

  private async handle(peer: Buffer, id: Buffer, req: unknown): Promise<void> {
    let reply: object;
    try {
      reply = { ok: true, result: await this.handler(req, peer.toString('hex')) };
    } catch (err) {
      // Our own errors carry a code meant for callers; anything else is a bug, kept private.
      if (err instanceof AuctioneerError) {
        reply = { ok: false, error: { code: err.code, message: err.message } };
      } else {
        this.log?.error({ err }, 'RPC handler threw');
        reply = { ok: false, error: { code: 'INTERNAL', message: 'internal error' } };
      }
    }
    if (this.closing === null) this.reply(peer, id, reply);
  }

  private reply(peer: Buffer, id: Buffer, reply: object): void {
    let json: string | undefined;
    try {
      json = JSON.stringify(reply);
    } catch (err) {
      this.log?.error({ err }, 'RPC result is not JSON-serialisable');
    }
    json ??= JSON.stringify({
      ok: false,
      error: { code: 'BAD_RESULT', message: 'result is not JSON-serialisable (bigint?)' },
    });

    const body = Buffer.from(json);
    if (!this.replies.push([peer, id, body], body.length)) {
      this.log?.warn('reply queue full; reply dropped');
    }
  }
}

/** Options of RpcClient.connect(). */
export interface RpcClientOptions {
  /** The server's endpoint, e.g. `tcp://provider-1:7200`. */
  readonly address: string;
  /** The server's CURVE public key (Z85); the connection fails unless the server holds it. */
  readonly serverPublicKey: string;
  /**
   * The client's own CURVE key pair.
   * @default a fresh key pair per client
   */
  readonly keyPair?: CurveKeyPair;
  /** Logger for unmatched replies; silent when absent. */
  readonly log?: Logger;
}

/** Per-call options of RpcClient.request(). */
export interface RequestOptions {
  /**
   * How long to wait for the reply.
   * @default REQUEST_TIMEOUT_MS (10 s)
   */
  readonly timeoutMs?: number;
  /** Cancels the wait; the request may still reach the server. */
  readonly signal?: AbortSignal;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** A DEALER with CURVE that matches concurrent replies to their requests by id. */
export class RpcClient {
  /** The server endpoint this client talks to. */
  readonly address: string;
  private readonly dealer: zmq.Dealer;
  private readonly requests: SendQueue;
  private readonly pending = new Map<string, Pending>();
  private readonly log: Logger | undefined;
  private readonly receiving: Promise<void>;
  private nextId = 0;
  private closing: Promise<void> | null = null;

  private constructor(dealer: zmq.Dealer, opts: RpcClientOptions) {
    this.address = opts.address;
    this.dealer = dealer;
    this.log = opts.log;
    this.requests = new SendQueue(dealer, {
      maxMessages: REPLY_QUEUE_MESSAGES,
      maxBytes: REPLY_QUEUE_BYTES,
      log: opts.log,
    });
    this.receiving = this.receive();
  }

  /**
   * Creates a client; the connection is made (and remade) in the background, so requests may be
   * issued at once.
   *
   * @throws ConfigError for a malformed server key.
   */
  static connect(opts: RpcClientOptions): RpcClient {
    parseCurveKey('serverPublicKey', opts.serverPublicKey);
    const own = opts.keyPair ?? generateCurveKeyPair();

    const dealer = new zmq.Dealer({
      linger: 0,
      curveServerKey: opts.serverPublicKey,
      curvePublicKey: own.publicKey,
      curveSecretKey: own.secretKey,
    });
    dealer.connect(opts.address);
    return new RpcClient(dealer, opts);
  }

  /**
   * Sends one JSON request and resolves with the server's `result`.
   *
   * @throws TypeError when `body` cannot be written as JSON (for example it holds a bigint).
   * @throws TimeoutError when no reply arrives within `timeoutMs`.
   * @throws RpcRemoteError when the server replies `{ ok: false }`; branch on `remoteCode`.
   * @throws TransportError `TRANSPORT_CLOSED` after close(), `RPC_ABORTED` when aborted.
   */
  request(body: unknown, opts: RequestOptions = {}): Promise<unknown> {
    if (this.closing !== null) {
      return Promise.reject(new TransportError('TRANSPORT_CLOSED', 'RPC client is closed'));
    }
    if (opts.signal?.aborted) return Promise.reject(aborted(opts.signal));
    const timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
    let json: string | undefined;
    try {
      json = JSON.stringify(body);
    } catch (err) {
      return Promise.reject(err);
    }
    if (json === undefined) return Promise.reject(new TypeError('body: not representable as JSON'));

    // Register before sending, so a fast reply always finds its request.
    const id = (this.nextId++).toString(36);
    return new Promise<unknown>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new TimeoutError(`request ${id} to ${this.address}: no reply in ${timeoutMs} ms`));
      }, timeoutMs);
      const onAbort = () => {
        cleanup();
        reject(aborted(opts.signal!));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (v) => (cleanup(), resolve(v)),
        reject: (e) => (cleanup(), reject(e)),
      });

      const frame = Buffer.from(json);
      if (!this.requests.push([id, frame], frame.length)) {
        this.pending.get(id)?.reject(new TransportError('RPC_BAD_REQUEST', 'request queue full'));
      }
    });
  }

  /** Rejects every pending request with `TRANSPORT_CLOSED` and closes the socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const err = new TransportError('TRANSPORT_CLOSED', 'RPC client closed');
      for (const p of [...this.pending.values()]) p.reject(err);
      this.requests.stop();
      if (!this.dealer.closed) this.dealer.close();
      await Promise.all([this.receiving, this.requests.done]);
    })();
    return this.closing;
  }

  /** The single receive loop: match each reply to its pending request. */
  private async receive(): Promise<void> {
    try {
      for await (const [id, body] of this.dealer) {
        const pending = id === undefined ? undefined : this.pending.get(id.toString());
        if (pending === undefined || body === undefined) {
          this.log?.debug('reply to no pending request (late or malformed) ignored');
          continue;
        }
        settle(pending, body);
      }
    } catch (err) {
      if (!this.dealer.closed) this.log?.error({ err }, 'RPC client receive loop failed');
    }
  }
}

/** Resolves or rejects a pending request from a reply body. */
function settle(pending: Pending, body: Buffer): void {
  let reply: unknown;
  try {
    reply = JSON.parse(body.toString('utf8'));
  } catch {
    return pending.reject(new RpcRemoteError('MALFORMED_REPLY', 'reply is not JSON'));
  }
  if (typeof reply !== 'object' || reply === null) {
    return pending.reject(new RpcRemoteError('MALFORMED_REPLY', 'reply is not an object'));
  }

  const r = reply as {
    ok?: unknown;
    result?: unknown;
    error?: { code?: unknown; message?: unknown };
  };
  if (r.ok === true) return pending.resolve(r.result);
  const code = typeof r.error?.code === 'string' ? r.error.code : 'UNKNOWN';
  const message = typeof r.error?.message === 'string' ? r.error.message : 'no message';
  pending.reject(new RpcRemoteError(code, message));
}

function aborted(signal: AbortSignal): TransportError {
  return new TransportError('RPC_ABORTED', 'request aborted', { cause: signal.reason });
}

function positiveInt(field: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new ConfigError(`${field}: expected a positive integer, got ${value}`);
  }
  return v;
}
