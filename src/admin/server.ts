// The admin listener (README "Operations"): GET /healthz, /metrics, /status and /status.json on its own
// address, plain HTTP, never behind the site table. Its address is read at start only; a SIGHUP
// that changes it is logged and needs a restart, like nginx's listen changes need a binary reload.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { AdminConfig } from '../config/types.js';
import { formatListen } from '../config/listen.js';
import type { Logger } from '../log/types.js';
import type { Snapshot } from '../server/types.js';
import type { Storage } from '../storage/types.js';
import { compileAdminAccess, compileAdminHosts } from './access.js';
import { CertificateCache } from './certificates.js';
import { ClusterMetrics } from './cluster.js';
import { runtimeDir } from '../storage/runtime-dir.js';
import { setScrapeSources } from './collectors.js';
import { registry, setRecording } from '../observe/metrics.js';
import { renderStatusPage, STATUS_CSP } from './status-page.js';
import { statusData } from './status-data.js';

export interface AdminDeps {
  address: AdminConfig;
  snapshot(): Snapshot;
  storage: Storage;
  logger: Logger;
}

const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
const gzip = promisify(zlib.gzip);
// Prometheus asks for gzip; with 100 sites /metrics is ~150 KB of text that gzips about 15 to 1, and
// level 1 costs less CPU than pushing the whole text through the loopback socket.
const GZIP_OVER = 4096;

/** RFC 9110 §12.5.3: `gzip` listed without `;q=0`. */
function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((item) => {
    const [coding, ...params] = item.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return coding === 'gzip' && (q === undefined || Number(q.slice(2)) > 0);
  });
}

export class AdminServer {
  private draining = false;
  private readonly allowed;
  private readonly hostRefusal;

  private constructor(
    private readonly deps: AdminDeps,
    private readonly server: http.Server,
    private readonly certs: CertificateCache,
    private readonly cluster: ClusterMetrics,
  ) {
    this.allowed = compileAdminAccess(deps.address.allow);
    this.hostRefusal = compileAdminHosts(deps.address.hosts);
  }

  static async start(deps: AdminDeps): Promise<AdminServer> {
    const certs = new CertificateCache(() => deps.snapshot().config, deps.storage);
    const cluster = new ClusterMetrics(runtimeDir(`${deps.snapshot().config.file}|${formatListen(deps.address)}`));
    const server = http.createServer({ requireHostHeader: false, keepAliveTimeout: 5_000 });
    const admin = new AdminServer(deps, server, certs, cluster);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      admin.handle(req, res).catch((err: unknown) => {
        deps.logger.error(`admin request failed: ${(err as Error).stack ?? String(err)}`, { uri: req.url });
        if (!res.headersSent) admin.send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: deps.address.port, host: deps.address.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    setScrapeSources({ snapshot: deps.snapshot, certificates: () => certs.current(), renewalFailures: (primary) => certs.failures.total(primary) });
    setRecording(true);
    await cluster.start().catch((err: unknown) => deps.logger.warn(`admin: metrics are not merged across workers: ${(err as Error).message}`));
    void certs.refresh();
    return admin;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** /healthz answers 503 from now on, so balancers in front stop sending new clients. */
  startDrain(): void {
    this.draining = true;
  }

  async stop(): Promise<void> {
    setRecording(false);
    setScrapeSources(undefined);
    this.certs.close();
    await this.cluster.stop();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
    res.writeHead(status, { ...COMMON_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  /** Large bodies go gzipped to clients that accept it. */
  private async sendLarge(req: IncomingMessage, res: ServerResponse, type: string, body: string, extra: Record<string, string> = {}): Promise<void> {
    const vary = { vary: 'Accept-Encoding', ...extra };
    if (body.length < GZIP_OVER || !acceptsGzip(req.headers['accept-encoding'])) {
      this.send(res, 200, type, body, vary);
      return;
    }
    this.send(res, 200, type, await gzip(body, { level: 1 }), { ...vary, 'content-encoding': 'gzip' });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.allowed(req.socket.remoteAddress ?? '')) {
      this.send(res, 403, 'text/plain; charset=utf-8', 'forbidden: the admin endpoint lets in loopback and admin.allow clients only\n');
      return;
    }
    const refusal = this.hostRefusal({ host: req.headers.host, origin: req.headers.origin });
    if (refusal) {
      this.send(res, 403, 'text/plain; charset=utf-8', refusal);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/healthz':
        if (this.draining) this.send(res, 503, 'text/plain; charset=utf-8', 'draining\n');
        else this.send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
        return;
      case '/metrics':
        await this.certs.ready();
        await this.sendLarge(req, res, registry.contentType, await this.cluster.metricsText());
        return;
      case '/status':
      case '/status.json': {
        const data = statusData({
          snapshot: this.deps.snapshot(),
          certificates: await this.certs.ready().then(() => this.certs.current()),
          certificatesError: this.certs.failure,
          reports: await this.cluster.reports(),
          draining: this.draining,
        });
        if (path === '/status.json') await this.sendLarge(req, res, 'application/json', `${JSON.stringify(data, null, 2)}\n`);
        else await this.sendLarge(req, res, 'text/html; charset=utf-8', renderStatusPage(data), { 'content-security-policy': STATUS_CSP, 'referrer-policy': 'no-referrer' });
        return;
      }
      default:
        this.send(res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz, /metrics, /status or /status.json\n');
    }
  }
}
