// Helpers for the ACME tests: what a TLS client sees, the CLI as a separate process, the config block.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { CLI, REPO } from './gatehouse.js';
import type { Pebble } from './pebble.js';

/**
 * Only the order polling is shortened (GATEHOUSE_ACME_POLL, src/tls/acme/knobs.ts): Pebble validates in
 * milliseconds, and the first poll of an order or challenge is unrelated to when renewals happen or how
 * soon a change in the storage is seen. Renewal timers, back-off and storage notification run on the
 * product's defaults in every ACME test.
 */
export const ACME_TEST_ENV: NodeJS.ProcessEnv = { ...unsetKnobs(), GATEHOUSE_ACME_POLL: '50ms' };

/**
 * The timing knobs (src/tls/acme/knobs.ts) unset, so a test that proves renewal timing or storage
 * notification runs on the product's defaults even when the shell running the tests has one set (Node
 * leaves undefined values out of a child's environment).
 */
export function unsetKnobs(): NodeJS.ProcessEnv {
  return { GATEHOUSE_RENEW_CHECK_INTERVAL: undefined, GATEHOUSE_STORAGE_SYNC_INTERVAL: undefined, GATEHOUSE_ACME_POLL: undefined };
}

export function acmeBlock(pebble: Pebble, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { email: 'ops@example.test', directory: pebble.directory, trust: pebble.listenerCaFile, ...extra };
}

export interface Served {
  serial: string;
  issuer: string;
  subjectAltName: string;
  alpn: string | false | null;
  /** PEM of the leaf. */
  pem: string;
}

/** The certificate a handshake for `servername` gets (no verification), or the handshake's error. */
export function probe(port: number, servername: string, alpn: string[] = ['http/1.1'], timeoutMs = 5000, maxVersion: tls.SecureVersion = 'TLSv1.3'): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ALPNProtocols: alpn, rejectUnauthorized: false, maxVersion });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`handshake for ${servername} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const raw = socket.getPeerCertificate().raw;
      const x = new X509Certificate(raw);
      resolve({ serial: x.serialNumber, issuer: x.issuer, subjectAltName: x.subjectAltName ?? '', alpn: socket.alpnProtocol, pem: x.toString() });
      socket.destroy();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Polls until `check` passes (returns a value) or the deadline. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A certificate from Pebble (not the internal CA's) for `name`, once served. */
export function servedByPebble(port: number, name: string, timeoutMs = 15_000, notSerial?: string): Promise<Served> {
  return eventually(
    `a Pebble certificate for ${name}${notSerial ? ` other than ${notSerial}` : ''}`,
    async () => {
      const s = await probe(port, name);
      return s.issuer.includes('Pebble') && s.serial !== notSerial ? s : undefined;
    },
    timeoutMs,
  );
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO, env: { ...process.env, ...ACME_TEST_ENV, ...env }, timeout: timeoutMs }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

export interface CertsRow {
  names: string[];
  source: string;
  issuer: string | null;
  /** The ACME CA that signed it (directory short name or URL). */
  ca: string | null;
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  daysLeft: number | null;
  status: string;
  lastError: { at: string; challenge: string | null; detail: string; ca?: string } | null;
  nextAttempt: string | null;
}

/** A GET on gatehouse's admin listener: the body as text. */
export async function adminGet(port: number, path: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  if (r.status !== 200) throw new Error(`admin ${path}: ${r.status}`);
  return r.text();
}

export async function certsJson(configFile: string): Promise<CertsRow[]> {
  const r = await runCli(['certs', '-c', configFile, '--json']);
  if (r.code !== 0) throw new Error(`certs exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as CertsRow[];
}

/** Number of newOrder requests pebble has logged so far. */
export function orderCount(pebble: Pebble): number {
  return pebble.output().split('\n').filter((l) => l.includes('POST /order-plz')).length;
}
