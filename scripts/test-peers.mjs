#!/usr/bin/env node
// Makes sure the real peers the test suite runs against are installed (Debian packages).
// As root it installs what is missing; otherwise it names the packages and fails.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';

// binary → Debian package that ships it
const PEERS = [
  ['/usr/bin/curl', 'curl'],
  ['/usr/bin/python3', 'python3'],
  ['/usr/bin/openssl', 'openssl'],
  ['/usr/bin/nghttp', 'nghttp2-client'],
  ['/usr/bin/h2load', 'nghttp2-client'],
  ['/usr/sbin/nginx', 'nginx-light'],
  ['/usr/bin/pebble', 'pebble'],
  ['/usr/sbin/php-fpm8.2', 'php-fpm'],
  ['/usr/bin/uwsgi', 'uwsgi'],
  ['/usr/lib/uwsgi/plugins/python3_plugin.so', 'uwsgi-plugin-python3'],
  ['/usr/bin/redis-server', 'redis-server'],
  ['/usr/bin/cgi-fcgi', 'libfcgi-bin'],
  ['/usr/bin/chromium', 'chromium'],
  // htpasswd: the access tests make their password files with it (issue 17).
  ['/usr/bin/htpasswd', 'apache2-utils'],
  // DNS-01 (issue 19): an authoritative BIND for the test zone, nsupdate for the exec hook's tests.
  ['/usr/sbin/named', 'bind9'],
  ['/usr/bin/nsupdate', 'bind9-dnsutils'],
  // PROXY protocol (issue 19): haproxy in front with send-proxy / send-proxy-v2.
  ['/usr/sbin/haproxy', 'haproxy'],
];

const missing = [...new Set(PEERS.filter(([bin]) => !fs.existsSync(bin)).map(([, pkg]) => pkg))];
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  console.error(`The test suite runs against real peers. Missing Debian packages: ${missing.join(' ')}`);
  console.error(`Install them with: sudo apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}
console.error(`installing test peers: ${missing.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
const r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
