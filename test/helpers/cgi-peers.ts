// php-fpm, uWSGI and nginx as test peers: started with a
// generated config in a temp dir, ready when their log says so, stopped by pid.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitForPort } from './ports.js';
import { startPeer, type Peer } from './process.js';

export const PHP_FPM = '/usr/sbin/php-fpm8.2';
export const UWSGI = '/usr/bin/uwsgi';
export const NGINX = '/usr/sbin/nginx';

export interface FpmPool {
  name: string;
  /** `127.0.0.1:PORT` or a socket path. */
  listen: string;
  maxChildren?: number;
}

/** php-fpm in the foreground (-F), logging to stderr (-O), as root (-R) when we are root. */
export async function startPhpFpm(dir: string, pools: FpmPool[]): Promise<Peer> {
  const root = process.getuid?.() === 0;
  const user = root ? 'root' : undefined;
  const conf = [
    '[global]',
    `pid = ${path.join(dir, 'fpm.pid')}`,
    // /proc/self/fd/2 cannot be opened when stderr is a socket (as spawn's pipes are); -O copies
    // the log to stderr anyway.
    `error_log = ${path.join(dir, 'fpm.log')}`,
    'daemonize = no',
    ...pools.flatMap((p) => [
      `[${p.name}]`,
      ...(user ? [`user = ${user}`, `group = ${user}`] : []),
      `listen = ${p.listen}`,
      ...(p.listen.startsWith('/') ? ['listen.mode = 0666'] : []),
      'pm = static',
      `pm.max_children = ${p.maxChildren ?? 2}`,
      'clear_env = yes',
      'catch_workers_output = yes',
      // php.ini has 4096; streaming with flush() needs it off.
      'php_admin_value[output_buffering] = 0',
      'php_admin_value[post_max_size] = 64M',
    ]),
  ].join('\n');
  const file = path.join(dir, 'fpm.conf');
  fs.writeFileSync(file, `${conf}\n`);
  const peer = startPeer(PHP_FPM, ['-F', '-O', ...(root ? ['-R'] : []), '-y', file]);
  await ready(peer, /ready to handle connections/);
  return peer;
}

/** uWSGI with the python3 plugin; `sockets` are uWSGI flags like ['--socket', '127.0.0.1:PORT']. */
export async function startUwsgi(app: string, sockets: string[], waitPort: number): Promise<Peer> {
  const peer = startPeer(UWSGI, [
    '--plugin',
    'python3',
    ...sockets,
    '--wsgi-file',
    app,
    '--master',
    '--processes',
    '1',
    '--die-on-term',
    '--need-app',
    '--strict',
    '--buffer-size',
    '65535',
    '--disable-logging',
  ]);
  await ready(peer, /spawned uWSGI worker 1/);
  await waitForPort(waitPort);
  return peer;
}

/** Waits for a log line, failing at once if the peer exits first. */
async function ready(peer: Peer, pattern: RegExp): Promise<void> {
  await Promise.race([
    peer.waitForOutput(pattern),
    peer.exited.then(({ code }) => {
      throw new Error(`exited with ${code} before printing ${pattern}:\n${peer.output().slice(-4000)}`);
    }),
  ]);
}

/** A self-signed certificate for a.test (nginx's listener in the comparison tests). */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'self.crt');
  const key = path.join(dir, 'self.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=a.test', '-addext', 'subjectAltName=DNS:a.test', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

/** nginx in the foreground with `http` as the body of its http block; pid and temp paths in `dir`. */
export async function startNginx(dir: string, http: string, port: number, workers = 1): Promise<Peer> {
  const prefix = path.join(dir, 'nginx');
  fs.mkdirSync(prefix, { recursive: true });
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'];
  for (const t of temps) fs.mkdirSync(path.join(prefix, t), { recursive: true });
  // Debian's snippets include these relative to the config's folder.
  for (const f of ['fastcgi.conf', 'fastcgi_params', 'uwsgi_params', 'scgi_params']) {
    fs.copyFileSync(path.join('/etc/nginx', f), path.join(prefix, f));
  }
  const conf = `worker_processes ${workers};
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 1024; }
http {
  access_log off;
  ${temps.map((t) => `${t}_temp_path ${prefix}/${t};`).join('\n  ')}
  ${http}
}
`;
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const peer = startPeer(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;']);
  await Promise.race([
    waitForPort(port),
    peer.exited.then(({ code }) => {
      throw new Error(`nginx exited with ${code}:\n${peer.output().slice(-4000)}`);
    }),
  ]);
  return peer;
}
