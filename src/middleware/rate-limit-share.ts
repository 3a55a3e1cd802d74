// Rate limits shared by the processes of one pm2 cluster, as nginx's limit_req zone is one shared
// memory zone for all its workers: with N workers, a client still gets `rate`, not N x `rate`.
//
// Node processes share no memory, so each keeps its own buckets and tells the others what it
// accepted: every FLUSH_MS, one UDP datagram per peer on 127.0.0.1 lists per limit the clients and
// how many of their requests this process accepted since the last flush; a peer adds those to its
// own buckets (RateLimiter.addRemote). A client spread over several workers can therefore get up to
// one flush interval's worth of requests more than its burst; nothing is ever lost or blocked on.
//
// Peers find each other in the cluster's private runtime folder (storage/runtime-dir.ts): each
// writes `<pid>.limits` with its UDP port and touches it every PEERS_MS; a file not touched for
// a few seconds belongs to a process that is gone (readPeerFiles). Datagrams carry a random secret kept in that
// folder (0600), so another local user cannot fill a client's bucket by sending made-up counts.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log/types.js';
import { ensurePrivateDir, readPeerFiles, writePeerFile } from '../storage/runtime-dir.js';
import type { RateLimiter } from './rate-limit.js';

const FLUSH_MS = 50;
const PEERS_MS = 1_000;
/** Well under the loopback MTU-free UDP limit (64 KiB) and the default socket buffers. */
const MAX_DATAGRAM = 8_192;
const MAGIC = 'gh-limits/1';
const SUFFIX = '.limits';

export interface SharedLimitsOptions {
  /** This process's name in the folder (default: its pid). */
  self?: string;
}

export class SharedLimits {
  private readonly limiters = new Map<string, RateLimiter>();
  /** limit id -> client -> requests accepted here since the last flush */
  private pending = new Map<string, Map<string, number>>();
  private peers: number[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly file: string;

  private constructor(
    private readonly dir: string,
    private readonly self: string,
    private readonly secret: string,
    private readonly socket: dgram.Socket,
    private readonly logger: Logger,
  ) {
    this.file = path.join(dir, `${self}${SUFFIX}`);
    socket.on('message', (msg, from) => {
      if (from.address === '127.0.0.1') this.receive(msg);
    });
    socket.on('error', (err) => logger.debug(`rate-limit sharing: ${err.message}`));
  }

  /** undefined when there is no folder, i.e. a lone process: nothing to share. */
  static async start(dir: string | undefined, logger: Logger, options: SharedLimitsOptions = {}): Promise<SharedLimits | undefined> {
    if (!dir) return undefined;
    await ensurePrivateDir(dir);
    const secret = await sharedSecret(dir);
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      // exclusive: in a cluster worker, Node would otherwise bind through the primary and hand every
      // worker the same shared socket, so a datagram could reach the very worker that sent it.
      socket.bind({ port: 0, address: '127.0.0.1', exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const limits = new SharedLimits(dir, options.self ?? String(process.pid), secret, socket, logger);
    await limits.announce();
    await limits.findPeers();
    limits.timers.push(
      setInterval(() => limits.flush(), FLUSH_MS),
      setInterval(() => void limits.announce().then(() => limits.findPeers()), PEERS_MS),
    );
    for (const t of limits.timers) t.unref();
    return limits;
  }

  /**
   * Shares one limiter under an id that names the same limit in every process (the config's site,
   * route and numbers, not object identity). A reload attaches the new limiters under their ids.
   */
  attach(id: string, limiter: RateLimiter): void {
    this.limiters.set(id, limiter);
    limiter.onAccept = (key) => {
      let clients = this.pending.get(id);
      if (!clients) this.pending.set(id, (clients = new Map()));
      clients.set(key, (clients.get(key) ?? 0) + 1);
    };
  }

  /** Peers currently known (for tests and /status). */
  get peerCount(): number {
    return this.peers.length;
  }

  flush(): void {
    if (this.pending.size === 0) return;
    const pending = this.pending;
    this.pending = new Map();
    if (this.peers.length === 0) return;
    for (const datagram of encode(this.secret, pending)) {
      for (const port of this.peers) this.socket.send(datagram, port, '127.0.0.1');
    }
  }

  private receive(msg: Buffer): void {
    const lines = msg.toString('latin1').split('\n');
    const [magic, secret, id] = (lines[0] ?? '').split(' ');
    if (magic !== MAGIC || secret !== this.secret || id === undefined) return;
    const limiter = this.limiters.get(id);
    if (!limiter) return; // a limit this process's config does not have (mid-reload)
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const space = line.lastIndexOf(' ');
      const count = Number(line.slice(space + 1));
      if (space > 0 && Number.isInteger(count) && count > 0) limiter.addRemote(line.slice(0, space), count);
    }
  }

  private async announce(): Promise<void> {
    try {
      const now = new Date();
      await fs.utimes(this.file, now, now).catch(() => writePeerFile(this.file, String(this.socket.address().port)));
    } catch (err) {
      this.logger.debug(`rate-limit sharing: cannot write ${this.file}: ${(err as Error).message}`);
    }
  }

  private async findPeers(): Promise<void> {
    const ports = (await readPeerFiles(this.dir, SUFFIX, this.self)).map(Number);
    this.peers = ports.filter((port) => Number.isInteger(port) && port > 0 && port < 65536);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.flush();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    await fs.rm(this.file, { force: true });
  }
}

/** The cluster's secret: created by whichever process comes first, read by the others. */
async function sharedSecret(dir: string): Promise<string> {
  const file = path.join(dir, 'limits.secret');
  const mine = randomBytes(16).toString('hex');
  try {
    await fs.writeFile(file, mine, { flag: 'wx', mode: 0o600 });
    return mine;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // The creator may not have written it yet (an empty file for a moment).
  for (let i = 0; i < 50; i++) {
    const secret = (await fs.readFile(file, 'utf8')).trim();
    if (secret.length === 32) return secret;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${file} holds no secret`);
}

/** `MAGIC SECRET ID` then one `client count` line per client, split to stay under MAX_DATAGRAM. */
export function encode(secret: string, pending: ReadonlyMap<string, ReadonlyMap<string, number>>): Buffer[] {
  const out: Buffer[] = [];
  for (const [id, clients] of pending) {
    const head = `${MAGIC} ${secret} ${id}`;
    let body = head;
    for (const [client, count] of clients) {
      // A client key is an address; one from a trusted X-Forwarded-For could hold anything.
      if (/[\s]/.test(client) || client.length > 200) continue;
      const line = `\n${client} ${count}`;
      if (body.length + line.length > MAX_DATAGRAM) {
        out.push(Buffer.from(body, 'latin1'));
        body = head;
      }
      body += line;
    }
    if (body !== head) out.push(Buffer.from(body, 'latin1'));
  }
  return out;
}
