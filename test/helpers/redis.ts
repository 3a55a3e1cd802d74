// A real redis-server (Debian's /usr/bin/redis-server 7.0) on a free loopback port, no persistence unless
// asked, started and stopped by pid. `restart()` keeps the port and the
// folder, so a test can take Redis away and bring it back under clients that stay connected to the URL.
import { execFileSync } from 'node:child_process';
import { tempDir } from './gatehouse.js';
import { freePort } from './ports.js';
import { startPeer, type Peer } from './process.js';

export interface RedisServer {
  port: number;
  dir: string;
  /** `redis://127.0.0.1:PORT/0` */
  url: string;
  pid(): number;
  /** redis-cli against this server; returns its stdout, trimmed. */
  cli(...args: string[]): string;
  /** SIGTERM by pid. With `keepData`, dumps to dump.rdb first (SAVE), which restart() loads again. */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Starts again on the same port and folder. */
  restart(): Promise<void>;
}

export interface RedisOptions {
  /** Extra redis-server arguments, e.g. ['--requirepass', 'secret'] or ['--rename-command', 'KEYS', '']. */
  args?: string[];
  /** TLS only (rediss://): the port is a TLS port, plain TCP is off. Clients are not asked for certificates. */
  tls?: { cert: string; key: string; ca: string };
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = tempDir('gh-redis-');
  const tls = options.tls;
  let peer: Peer | undefined;
  const start = async (): Promise<void> => {
    const p = startPeer('/usr/bin/redis-server', [
      '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no',
      ...(tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no'] : ['--port', String(port)]),
      ...(options.args ?? []),
    ], { cwd: dir });
    peer = p;
    try {
      await p.waitForOutput(/Ready to accept connections/, 10_000);
    } catch (err) {
      await p.stop('SIGKILL');
      throw err;
    }
  };
  await start();
  const password = (options.args ?? []).includes('--requirepass') ? options.args![options.args!.indexOf('--requirepass') + 1] : undefined;
  const cli = (...args: string[]): string =>
    execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...(tls ? ['--tls', '--cacert', tls.ca] : []), ...(password ? ['--no-auth-warning', '-a', password] : []), ...args], { cwd: dir }).toString().trim();
  return {
    port,
    dir,
    url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}/0`,
    pid: () => peer!.pid,
    cli,
    async stop(o = {}) {
      if (o.keepData) cli('SAVE');
      await peer?.stop('SIGTERM');
    },
    async restart() {
      await start();
    },
  };
}
