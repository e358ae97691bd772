/**
 * The daemon's counters and its status endpoint: plain node:http on loopback by default, with
 *
 *   GET /status    JSON: the open round, running rounds, bid counts, the last outcomes
 *   GET /metrics   the same counters in the Prometheus text format (version 0.0.4)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** Counters of one daemon process (they start at zero when it starts). */
export class DaemonMetrics {
  /** Bid requests that reached the round logic (well formed or not). */
  bidsReceived = 0;
  bidsAccepted = 0;
  /** Refused bids by error code. */
  readonly bidsRefused = new Map<string, number>();
  /** Finished rounds by status. */
  readonly rounds = new Map<string, number>([
    ['outcome', 0],
    ['abort', 0],
  ]);
  lastRoundSeconds: number | null = null;

  /** Counts a refused bid under its code. */
  refused(code: string): void {
    this.bidsRefused.set(code, (this.bidsRefused.get(code) ?? 0) + 1);
  }

  /** Counts a finished round. */
  finished(status: 'outcome' | 'abort', seconds: number): void {
    this.rounds.set(status, (this.rounds.get(status) ?? 0) + 1);
    this.lastRoundSeconds = seconds;
  }

  /** The Prometheus text exposition of the counters and of the daemon's state. */
  render(state: {
    openRound: bigint;
    lastRound: bigint | null;
    running: number;
    bidsOpen: number;
  }): string {
    const out: string[] = [];
    const metric = (
      name: string,
      type: 'gauge' | 'counter',
      help: string,
      samples: [Record<string, string>, number][],
    ): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) out.push(`${name}${labelText(labels)} ${value}`);
    };

    metric('auctioneer_open_round', 'gauge', 'The round taking bids.', [
      [{}, Number(state.openRound)],
    ]);
    metric('auctioneer_open_round_bids', 'gauge', 'Bids held for the open round.', [
      [{}, state.bidsOpen],
    ]);
    metric('auctioneer_last_round', 'gauge', 'The last round recorded in the ledger.', [
      [{}, state.lastRound === null ? 0 : Number(state.lastRound)],
    ]);
    metric('auctioneer_rounds_running', 'gauge', 'Rounds whose protocol is running.', [
      [{}, state.running],
    ]);
    metric('auctioneer_bids_received_total', 'counter', 'Bid requests received.', [
      [{}, this.bidsReceived],
    ]);
    metric('auctioneer_bids_accepted_total', 'counter', 'Bids accepted.', [
      [{}, this.bidsAccepted],
    ]);
    metric(
      'auctioneer_bids_refused_total',
      'counter',
      'Bids refused, by reason.',
      [...this.bidsRefused].sort().map(([code, n]) => [{ code }, n]),
    );
    metric(
      'auctioneer_rounds_total',
      'counter',
      'Rounds finished here, by status (outcome or abort).',
      [...this.rounds].map(([status, n]) => [{ status }, n]),
    );
    if (this.lastRoundSeconds !== null) {
      metric(
        'auctioneer_last_round_duration_seconds',
        'gauge',
        'Time from the bid deadline to the result of the last finished round.',
        [[{}, this.lastRoundSeconds]],
      );
    }
    return out.join('\n') + '\n';
  }
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** A running status endpoint. */
export interface StatusServer {
  /** Its base URL, e.g. http://127.0.0.1:9470 (with the real port when bound to 0). */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves /status (JSON) and /metrics (Prometheus text) until closed. */
export async function startStatusServer(o: {
  host: string;
  port: number;
  status: () => unknown;
  metrics: () => string;
  log?: Logger;
}): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    try {
      if (path === '/status' || path === '/') {
        const body = JSON.stringify(o.status(), null, 2) + '\n';
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
      } else if (path === '/metrics') {
        const body = o.metrics();
        res
          .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
          .end(body);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('try /status or /metrics\n');
      }
    } catch (err) {
      o.log?.error({ err }, 'status request failed');
      res.writeHead(500).end();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
