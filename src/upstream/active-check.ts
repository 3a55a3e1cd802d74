// Active health checks (README "Configuration reference" `health`): every `interval` each server gets one probe. HTTP-family
// servers (http, https, h2, h2c) get `GET path` through their own transport — same scheme, TLS
// settings and keep-alive connections as real traffic — and pass on exactly `status`. FastCGI,
// uwsgi and SCGI servers pass on a TCP (or unix socket) connect: a request there would run an
// application script, which a health check must not do.
import type { UpstreamConfig } from '../config/types.js';
import { connectSocket, parseEndpoint } from '../transport/cgi/socket.js';
import type { UpstreamServer } from './server.js';

type HealthConfig = NonNullable<UpstreamConfig['health']>;

const HTTP_SCHEMES = new Set(['http', 'https', 'h2', 'h2c']);

/** Resolves to undefined when the probe passed, else to why it failed. Never rejects. */
export function probe(server: UpstreamServer, health: HealthConfig): Promise<string | undefined> {
  return HTTP_SCHEMES.has(server.scheme) ? probeHttp(server, health) : probeConnect(server, health);
}

function probeHttp(server: UpstreamServer, health: HealthConfig): Promise<string | undefined> {
  return new Promise((resolve) => {
    let status = 0;
    const settle = (result: string | undefined): void => {
      clearTimeout(timer);
      resolve(result);
    };
    const call = server.transport.request(
      {
        method: 'GET',
        path: health.path,
        // A unix socket server (`unix:/path`) gets nginx's $proxy_host there, "localhost".
        headers: { host: server.transport.address.startsWith('unix:') ? 'localhost' : server.transport.address, 'user-agent': 'gatehouse-health-check' },
        body: undefined,
        readTimeoutMs: health.timeoutMs,
      },
      {
        onHeaders(s) {
          status = s;
        },
        // The body is read to its end so the connection stays reusable.
        onData: () => true,
        onEnd() {
          settle(status === health.status ? undefined : `health check ${health.path} answered ${status}, expected ${health.status}`);
        },
        onError(err) {
          settle(`health check ${health.path}: ${err.message}`);
        },
      },
    );
    // The whole probe, connect included, gets `timeout`; the transport's own timeouts may be longer.
    const timer = setTimeout(() => {
      call.abort(new Error('health check timed out'));
      resolve(`health check ${health.path} timed out after ${health.timeoutMs} ms`);
    }, health.timeoutMs);
  });
}

function probeConnect(server: UpstreamServer, health: HealthConfig): Promise<string | undefined> {
  return new Promise((resolve) => {
    let endpoint;
    try {
      endpoint = parseEndpoint(server.transport.address);
    } catch (err) {
      resolve((err as Error).message);
      return;
    }
    connectSocket(endpoint, health.timeoutMs, (err, socket) => {
      socket.destroy();
      resolve(err ? `health check connect: ${err.message}` : undefined);
    });
  });
}

/** Probes every server of a pool on a timer until stopped. */
export class ActiveChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly probing = new Set<UpstreamServer>();

  constructor(
    private readonly servers: readonly UpstreamServer[],
    private readonly health: HealthConfig,
    private readonly onResult: (server: UpstreamServer, failure: string | undefined) => void,
  ) {}

  /** The first round starts now, without delaying start-up: servers count as up until it answers. */
  start(): void {
    this.round();
    this.timer = setInterval(() => this.round(), this.health.intervalMs);
    // A snapshot that was built but never served (a reload that failed later) must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private round(): void {
    for (const server of this.servers) {
      // A probe slower than the interval is not stacked with another one.
      if (this.probing.has(server)) continue;
      this.probing.add(server);
      void probe(server, this.health).then((failure) => {
        this.probing.delete(server);
        if (this.timer !== undefined) this.onResult(server, failure);
      });
    }
  }
}
