// Real Pebble (Debian's /usr/bin/pebble 2.4) and pebble-challtestsrv as the ACME CA for tests.
// challtestsrv runs as a DNS server only, resolving every name to
// 127.0.0.1, so pebble's validation reaches gatehouse on the httpPort/tlsPort written into pebble's config.
// Those ports must be chosen before pebble starts, so the caller picks them (the ports gatehouse listens on).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { startPeer, type Peer } from './process.js';
import { tempDir } from './gatehouse.js';

export interface PebbleOptions {
  /** The port pebble's VA sends HTTP-01 requests to (gatehouse's http listener). */
  httpPort: number;
  /** The port pebble's VA sends TLS-ALPN-01 handshakes to (gatehouse's https listener). */
  tlsPort: number;
  /** Lifetime of issued certificates in seconds (pebble's default: 5 years). */
  validitySeconds?: number;
  /** Extra environment for pebble (e.g. PEBBLE_AUTHZREUSE). */
  env?: NodeJS.ProcessEnv;
  /** Require external account binding with these kid → base64url HMAC keys. */
  eab?: Record<string, string>;
  /** `HOST:PORT` of the DNS server Pebble's VA asks (e.g. a test BIND); default: its challtestsrv. */
  dnsServer?: string;
}

export interface Pebble {
  dir: string;
  /** `https://127.0.0.1:PORT/dir` */
  directory: string;
  /** PEM of the test-only CA that signed pebble's listener certificate (trust it for the directory). */
  listenerCaFile: string;
  listenerCertFile: string;
  listenerKeyFile: string;
  port: number;
  managementPort: number;
  dnsPort: number;
  challtestManagementPort: number;
  /** Root and intermediate that sign issued certificates (they change at every pebble start). */
  rootPem(): Promise<string>;
  intermediatePem(): Promise<string>;
  /** challtestsrv: answer A queries for `host` with these addresses. */
  addA(host: string, addresses: string[]): Promise<void>;
  /** challtestsrv: forget the addresses added for `host` (it answers with the default, 127.0.0.1, again). */
  clearA(host: string): Promise<void>;
  /** Log of pebble (its stdout/stderr). */
  output(): string;
  /** Stops pebble only (the CA goes away; challtestsrv stays). */
  stopCa(): Promise<void>;
  stop(): Promise<void>;
}

let listenerCerts: { dir: string; ca: string; cert: string; key: string } | undefined;

/** The listener certificate for pebble's HTTPS (and test fronts), made once per test run with openssl. */
export function pebbleListenerCerts(): { dir: string; ca: string; cert: string; key: string } {
  if (listenerCerts) return listenerCerts;
  const dir = tempDir('gh-pebble-certs-');
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650',
    '-subj', '/CN=test-only pebble listener CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'cert.csr', '-subj', '/CN=localhost']);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', 'cert.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', '3650', '-extfile', 'ext.cnf']);
  listenerCerts = { dir, ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
  return listenerCerts;
}

function httpsRequest(url: string, ca: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.end(body);
  });
}

async function pollReady(url: string, ca: string, peer: Peer, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await httpsRequest(url, ca)).status === 200) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`pebble not ready after ${timeoutMs} ms:\n${peer.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const certs = pebbleListenerCerts();
  const dir = tempDir('gh-pebble-');
  const [port, managementPort, dnsPort, challtestManagementPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: certs.cert,
      privateKey: certs.key,
      httpPort: options.httpPort,
      tlsPort: options.tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: options.eab !== undefined,
      ...(options.eab ? { externalAccountMACKeys: options.eab } : {}),
      ...(options.validitySeconds !== undefined ? { certificateValidityPeriod: options.validitySeconds } : {}),
    },
  };
  const configFile = path.join(dir, 'pebble.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  // DNS only: the challenge ports are gatehouse's (an empty value turns each responder off).
  const dns = startPeer('/usr/bin/pebble-challtestsrv', [
    '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dnsPort}`,
    '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challtestManagementPort}`,
  ], { cwd: dir });
  let ca: Peer | undefined;
  const startCa = async (): Promise<Peer> => {
    const peer = startPeer('/usr/bin/pebble', ['-config', configFile, '-dnsserver', options.dnsServer ?? `127.0.0.1:${dnsPort}`, '-strict=false'], {
      cwd: dir,
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0', ...options.env },
    });
    await pollReady(`https://127.0.0.1:${port}/dir`, fs.readFileSync(certs.ca, 'utf8'), peer);
    return peer;
  };
  try {
    await waitForPort(challtestManagementPort);
    ca = await startCa();
  } catch (err) {
    await Promise.all([dns.stop(), ca?.stop()]);
    throw err;
  }
  const caPem = fs.readFileSync(certs.ca, 'utf8');
  const mgmt = async (p: string): Promise<string> => {
    const r = await httpsRequest(`https://127.0.0.1:${managementPort}${p}`, caPem);
    if (r.status !== 200) throw new Error(`pebble management ${p}: ${r.status}`);
    return r.body;
  };
  const fqdn = (host: string) => (host.endsWith('.') ? host : `${host}.`);
  /** A POST with a JSON body to challtestsrv's management API. */
  const challtest = (path: string, body: unknown) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: challtestManagementPort, path, method: 'POST' }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  return {
    dir,
    directory: `https://127.0.0.1:${port}/dir`,
    listenerCaFile: certs.ca,
    listenerCertFile: certs.cert,
    listenerKeyFile: certs.key,
    port,
    managementPort,
    dnsPort,
    challtestManagementPort,
    rootPem: () => mgmt('/roots/0'),
    intermediatePem: () => mgmt('/intermediates/0'),
    addA: (host, addresses) => challtest('/add-a', { host: fqdn(host), addresses }),
    clearA: (host) => challtest('/clear-a', { host: fqdn(host) }),
    output: () => ca?.output() ?? '',
    async stopCa() {
      await ca?.stop();
    },
    async stop() {
      await Promise.all([ca?.stop(), dns.stop()]);
    },
  };
}
