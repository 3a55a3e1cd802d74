// The lifecycle: start, reload (SIGHUP), drain (SIGTERM/SIGINT/SIGQUIT). Owns the listeners, the
// certificate manager and the current snapshot; a reload swaps the snapshot atomically and keeps
// every connection open.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AdminServer } from './admin/server.js';
import { loadConfig } from './config/index.js';
import { formatListen } from './config/listen.js';
import type { Config, ListenAddress } from './config/types.js';
import { AccessLog } from './log/access-log.js';
import { createErrorLogger } from './log/error-log.js';
import type { Logger } from './log/types.js';
import { handleExchange } from './server/dispatch.js';
import { handlePlainExchange } from './server/plain-http.js';
import type { ConnectionInfo, Exchange } from './http/exchange.js';
import { listenPlain, listenTls, type Listener } from './listener/listeners.js';
import { ProtocolServers } from './listener/protocol-servers.js';
import { UpgradeExchange } from './listener/upgrade-exchange.js';
import { SharedLimits } from './middleware/rate-limit-share.js';
import { buildSnapshot } from './server/snapshot.js';
import { type Snapshot } from './server/types.js';
import { runtimeDir } from './storage/runtime-dir.js';
import { removeStaleBodies } from './transport/cgi/body.js';
import { openStorage } from './storage/index.js';
import type { Storage } from './storage/types.js';
import { CertManager } from './tls/cert-manager.js';
import { AcmeService } from './tls/acme/service.js';
import { TicketKeys } from './tls/ticket-keys.js';

const addrKey = (kind: string, a: ListenAddress): string => `${kind} ${a.host ?? '*'}:${a.port}`;

export class App {
  private snapshot: Snapshot;
  private readonly listeners = new Map<string, Listener>();
  private readonly tlsServers: ProtocolServers;
  private readonly plainServers: ProtocolServers;
  private stopping: Promise<void> | undefined;
  private admin: AdminServer | undefined;

  private constructor(
    config: Config,
    readonly logger: Logger & { close(): void },
    private accessLog: AccessLog,
    readonly storage: Storage,
    readonly certs: CertManager,
    readonly acme: AcmeService,
    private readonly ticketKeys: TicketKeys,
    private readonly sharedLimits: SharedLimits | undefined,
  ) {
    this.snapshot = buildSnapshot(config, logger, accessLog, sharedLimits);
    const current = (): Snapshot => this.snapshot;
    const upgrade = (secure: boolean) => (snap: Snapshot, req: IncomingMessage, socket: Duplex, head: Buffer, conn: ConnectionInfo) => {
      const ex = new UpgradeExchange(req, socket, head, conn);
      if (secure) handleExchange(snap, ex);
      else handlePlainExchange(snap, ex, acme.answerHttpChallenge);
    };
    this.tlsServers = new ProtocolServers(
      { current, onExchange: (snap: Snapshot, ex: Exchange) => handleExchange(snap, ex), onUpgrade: upgrade(true) },
      true,
    );
    this.plainServers = new ProtocolServers(
      { current, onExchange: (snap: Snapshot, ex: Exchange) => handlePlainExchange(snap, ex, acme.answerHttpChallenge), onUpgrade: upgrade(false) },
      false,
    );
  }

  static async start(config: Config): Promise<App> {
    const logger = createErrorLogger(config.log);
    const accessLog = new AccessLog(config.log, config.sites);
    const storage = openStorage(config.storage, { logger });
    let certs: CertManager;
    try {
      certs = await CertManager.create(config, storage, logger);
    } catch (err) {
      await storage.close();
      throw err;
    }
    // Temporary body files have no name once open; one left by a crash before its unlink goes now.
    const stale = await removeStaleBodies(config.bodyBuffer.tempDir);
    if (stale > 0) logger.warn(`removed ${stale} temporary request body file(s) left by a process that stopped`);
    const acme = new AcmeService(storage, certs, logger);
    // Session tickets that every worker of a cluster (and every instance on the storage) can decrypt.
    const ticketKeys = new TicketKeys(storage, logger);
    // Serves the ACME certificates already in the storage; ordering happens in the background after
    // the listeners are up, so start-up never waits for the CA.
    try {
      await acme.apply(config);
      await ticketKeys.start();
    } catch (err) {
      certs.close();
      await storage.close();
      throw err;
    }
    // Under pm2 cluster mode the workers count rate limits together, as nginx's workers share a zone.
    let sharedLimits: SharedLimits | undefined;
    try {
      sharedLimits = await SharedLimits.start(runtimeDir(`limits|${config.file}`), logger);
    } catch (err) {
      logger.warn(`rate limits are counted per process: ${(err as Error).message}`);
    }
    const app = new App(config, logger, accessLog, storage, certs, acme, ticketKeys, sharedLimits);
    try {
      await app.syncListeners(config);
      // After the listeners, so /healthz answering means the proxy is listening.
      if (config.admin) app.admin = await AdminServer.start({ address: config.admin, snapshot: () => app.snapshot, storage, logger });
    } catch (err) {
      await app.stop(0);
      throw err;
    }
    acme.start();
    logger.info(`gatehouse listening: ${[...app.listeners.keys()].join(', ')}`);
    return app;
  }

  get config(): Config {
    return this.snapshot.config;
  }

  /** The admin listener's bound port, if one is configured. */
  get adminPort(): number | undefined {
    return this.admin?.port;
  }

  /** Bound ports by kind, in config order (tests use port 0). */
  ports(kind: 'http' | 'https'): number[] {
    return [...this.listeners.entries()].filter(([k]) => k.startsWith(kind + ' ')).map(([, l]) => l.port);
  }

  /** Opens listeners the config names and closes those it no longer names. */
  private async syncListeners(config: Config): Promise<void> {
    const wanted = new Map<string, () => Promise<Listener>>();
    for (const a of config.listen.https) wanted.set(addrKey('https', a), () => listenTls(a, this.certs, this.tlsServers, this.logger, this.acme.tlsHooks, this.ticketKeys));
    for (const a of config.listen.http) wanted.set(addrKey('http', a), () => listenPlain(a, this.plainServers, this.logger));
    for (const [key, open] of wanted) {
      if (!this.listeners.has(key)) this.listeners.set(key, await open());
    }
    // An address kept across a reload takes its new PROXY protocol settings without a rebind.
    for (const [kind, list] of [['https', config.listen.https], ['http', config.listen.http]] as const) {
      for (const a of list) this.listeners.get(addrKey(kind, a))?.configure(a);
    }
    for (const [key, listener] of this.listeners) {
      if (!wanted.has(key)) {
        this.listeners.delete(key);
        await listener.stopAccepting();
      }
    }
  }

  /** SIGUSR1 (nginx -s reopen): the access log files are opened again, after logrotate moved them. */
  reopenLogs(): void {
    try {
      this.accessLog.reopen();
      this.logger.info('access log files reopened');
    } catch (err) {
      this.logger.error(`reopening the access log files failed: ${(err as Error).message}`);
    }
  }

  /** SIGHUP: a valid config takes effect for new requests; an invalid one is logged and ignored. */
  async reload(): Promise<boolean> {
    let next: Config;
    try {
      next = (await loadConfig(this.snapshot.config.file)).config;
      if (next.sites.length === 0) throw new Error('nothing to serve: the config has no sites');
    } catch (err) {
      this.logger.error(`reload failed, keeping the running config:\n${(err as Error).message}`);
      return false;
    }
    let snapshot: Snapshot | undefined;
    try {
      await this.certs.reload(next);
      await this.acme.apply(next);
      const accessLog = new AccessLog(next.log, next.sites);
      snapshot = buildSnapshot(next, this.logger, accessLog, this.sharedLimits);
      await this.syncListeners(next);
      const was = this.snapshot.config.admin;
      if ((was ? formatListen(was) : '') !== (next.admin ? formatListen(next.admin) : '') || String(was?.allow) !== String(next.admin?.allow)) {
        this.logger.warn('the admin address or allow list changed: it takes effect at the next restart');
      }
      const old = this.snapshot;
      const oldAccessLog = this.accessLog;
      this.snapshot = snapshot;
      this.accessLog = accessLog;
      // Requests in flight finish on the old snapshot; its pools close once they are idle.
      void old.dispose().finally(() => oldAccessLog.close());
      this.logger.info('configuration reloaded');
      return true;
    } catch (err) {
      // A snapshot built but never served still runs health checks: stop them.
      void snapshot?.dispose();
      this.logger.error(`reload failed, keeping the running config: ${(err as Error).message}`);
      return false;
    }
  }

  /** Drain: stop accepting, GOAWAY / Connection: close, wait for in-flight requests up to the timeout. */
  stop(timeoutMs = this.snapshot.config.drainTimeoutMs): Promise<void> {
    this.stopping ??= this.drain(timeoutMs);
    return this.stopping;
  }

  private async drain(timeoutMs: number): Promise<void> {
    this.admin?.startDrain();
    await Promise.all([...this.listeners.values()].map((l) => l.stopAccepting()));
    this.tlsServers.startDrain();
    this.plainServers.startDrain();
    const deadline = Date.now() + timeoutMs;
    const open = (): number => [...this.listeners.values()].reduce((n, l) => n + l.connections, 0);
    while (open() > 0 && Date.now() < deadline) {
      this.tlsServers.startDrain();
      this.plainServers.startDrain();
      await new Promise((r) => setTimeout(r, 50));
    }
    if (open() > 0) {
      this.logger.warn(`drain timeout: closing ${open()} connection(s)`);
      this.tlsServers.destroyAll();
      this.plainServers.destroyAll();
    }
    this.tlsServers.close();
    this.plainServers.close();
    await this.admin?.stop();
    await this.snapshot.dispose();
    await this.sharedLimits?.close();
    this.acme.close();
    this.certs.close();
    this.ticketKeys.close();
    await this.storage.close();
    this.accessLog.close();
    this.logger.close();
  }
}
