/**
 * The process's ZAP handler (ZeroMQ RFC 27). libzmq asks whatever socket is bound at
 * `inproc://zeromq.zap.01` in the socket's context to approve every CURVE handshake; this module
 * owns that socket for the global zeromq.js context and dispatches each request by ZAP domain, so
 * every server socket (the provider mesh ROUTER, each RPC ROUTER) sets its own domain and
 * policy. A request for a domain nobody registered is refused.
 *
 * The handler socket lives while at least one domain is registered: zeromq.js keeps the process
 * alive while a receive is pending, so it is closed when the last registration is released.
 * Server sockets set `zapEnforceDomain` so that, should no handler be bound, libzmq refuses the
 * handshake instead of waving it through.
 *
 * NOTE: the global context is shared by all worker_threads of a process, but this registry is
 * per module instance; transports in two threads of one process would both try to bind the
 * handler and the second would fail with TRANSPORT_BIND. One mesh per process, as deployed.
 */
import * as zmq from 'zeromq';
import type { Logger } from 'pino';
import { TransportError } from './errors.js';
import { z85Encode } from './curve.js';

/** One handshake to approve, as libzmq describes it. */
export interface ZapRequest {
  /** The server socket's ZAP domain. */
  readonly domain: string;
  /** The client's IP address (no port). */
  readonly address: string;
  /** `CURVE`, `PLAIN` or `NULL`. */
  readonly mechanism: string;
  /** For CURVE: the client's long-term public key in Z85; undefined for other mechanisms. */
  readonly curvePublicKey: string | undefined;
}

/** A policy's answer: allow (optionally naming the user for libzmq's User-Id) or refuse. */
export type ZapDecision = { allow: true; userId?: string } | { allow: false; reason: string };

/** Decides one handshake; must be synchronous and must not throw (a throw refuses). */
export type ZapPolicy = (request: ZapRequest) => ZapDecision;

/** A registered domain; release it after closing the socket that uses it. */
export interface ZapRegistration {
  /** The unique domain to set as the server socket's `zapDomain`. */
  readonly domain: string;
  /** Unregisters the domain; closes the handler socket when it was the last. Idempotent. */
  release(): Promise<void>;
}

/** The endpoint RFC 27 fixes for the handler. */
const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';
/** How often a bind that meets the previous handler's not yet released endpoint is retried. */
const BIND_ATTEMPTS = 200;
const BIND_RETRY_MS = 5;

interface Handler {
  socket: zmq.Router;
  loop: Promise<void>;
}

const policies = new Map<string, { policy: ZapPolicy; log: Logger | undefined }>();
let handler: Handler | null = null;
let chain: Promise<unknown> = Promise.resolve();
let domainCounter = 0;

/**
 * Registers a policy under a fresh ZAP domain, starting the handler if it is not running.
 *
 * @param label A readable prefix for the domain (appears in libzmq events and logs).
 * @throws TransportError `TRANSPORT_BIND` when the ZAP endpoint stays taken by foreign code.
 */
export function registerZapDomain(
  label: string,
  policy: ZapPolicy,
  log?: Logger,
): Promise<ZapRegistration> {
  return serialize(async () => {
    // Start the handler before anyone can hand out the domain, so no handshake finds it absent.
    if (handler === null) handler = await startHandler();

    const domain = `${label}/${process.pid}/${++domainCounter}`;
    policies.set(domain, { policy, log });
    let released: Promise<void> | null = null;
    return {
      domain,
      release: () => (released ??= serialize(() => unregister(domain))),
    };
  });
}

/** Runs registry changes one at a time, so start, stop and restart never interleave. */
function serialize<T>(step: () => Promise<T>): Promise<T> {
  const next = chain.then(step);
  chain = next.catch(() => undefined);
  return next;
}

async function unregister(domain: string): Promise<void> {
  policies.delete(domain);
  if (policies.size > 0 || handler === null) return;

  // Last user gone: close so the pending receive no longer keeps the process alive.
  const { socket, loop } = handler;
  handler = null;
  if (!socket.closed) socket.close();
  await loop;
}

async function startHandler(): Promise<Handler> {
  // A handler closed a moment ago may still hold the inproc endpoint; libzmq frees it shortly.
  for (let attempt = 1; ; attempt++) {
    const socket = new zmq.Router({ linger: 0 });
    try {
      await socket.bind(ZAP_ENDPOINT);
      return { socket, loop: serve(socket) };
    } catch (err) {
      socket.close();
      const inUse = (err as { code?: string }).code === 'EADDRINUSE';
      if (!inUse || attempt >= BIND_ATTEMPTS) {
        throw new TransportError(
          'TRANSPORT_BIND',
          `cannot bind the ZAP handler at ${ZAP_ENDPOINT}`,
          {
            cause: err,
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, BIND_RETRY_MS));
    }
  }
}

/** The handler's single receive-then-reply loop; ends when the socket is closed. */
async function serve(socket: zmq.Router): Promise<void> {
  try {
    for await (const frames of socket) {
      const reply = answer(frames);
      if (reply !== null && !socket.closed) await socket.send(reply);
    }
  } catch (err) {
    if (!socket.closed) anyLog()?.error({ err }, 'ZAP handler stopped');
  }
}

/**
 * Builds the reply to one request: [routing id, delimiter, version, request id, status code,
 * status text, user id, metadata] (RFC 27 §"ZAP reply"). Returns null for input too broken to
 * answer at all.
 */
function answer(frames: Buffer[]): Buffer[] | null {
  const [
    rid,
    delimiter,
    version,
    requestId,
    domainFrame,
    addressFrame,
    ,
    mechanismFrame,
    ...creds
  ] = frames;
  if (rid === undefined || delimiter === undefined || requestId === undefined) return null;
  const reply = (code: string, text: string, userId = '') =>
    [rid, delimiter, Buffer.from('1.0'), requestId, code, text, userId, ''].map(toBuffer);
  if (version?.toString() !== '1.0' || mechanismFrame === undefined) {
    return reply('500', 'malformed ZAP request');
  }

  // Look the domain up and let its policy decide; an unknown domain is refused outright.
  const mechanism = mechanismFrame.toString();
  const request: ZapRequest = {
    domain: domainFrame?.toString() ?? '',
    address: addressFrame?.toString() ?? '',
    mechanism,
    curvePublicKey:
      mechanism === 'CURVE' && creds[0]?.length === 32 ? z85Encode(creds[0]) : undefined,
  };
  const entry = policies.get(request.domain);
  if (entry === undefined) return reply('400', 'unknown ZAP domain');
  let decision: ZapDecision;
  try {
    decision = entry.policy(request);
  } catch (err) {
    entry.log?.error({ err, domain: request.domain }, 'ZAP policy threw; refusing');
    decision = { allow: false, reason: 'policy error' };
  }
  return decision.allow ? reply('200', 'OK', decision.userId ?? '') : reply('400', decision.reason);
}

function toBuffer(part: Buffer | string): Buffer {
  return typeof part === 'string' ? Buffer.from(part) : part;
}

function anyLog(): Logger | undefined {
  for (const { log } of policies.values()) if (log) return log;
  return undefined;
}
