// Shared helpers for the tls tests: configs, throwaway certificates made with openssl, a recording logger.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BODY_BUFFER, DEFAULT_CLIENT_TIMEOUTS, DEFAULT_MAX_BODY } from '../../../src/config/client.js';
import type { Config, SiteConfig, SiteTls } from '../../../src/config/types.js';
import type { Logger } from '../../../src/log/types.js';

export function site(hosts: string[], tls: SiteTls, extra: Partial<SiteConfig> = {}): SiteConfig {
  return {
    hosts,
    default: false,
    tls,
    redirect: 'https',
    compress: [],
    timeouts: { ...DEFAULT_CLIENT_TIMEOUTS },
    underscoresInHeaders: false,
    compressAuthenticated: false,
    routes: [],
    ...extra,
  };
}

export function config(sites: SiteConfig[], storage = '/nonexistent'): Config {
  return {
    file: '/test/gatehouse.yaml',
    origin: 'native',
    listen: { http: [], https: [{ port: 0 }] },
    drainTimeoutMs: 1000,
    storage,
    trustedProxies: [],
    timeouts: { ...DEFAULT_CLIENT_TIMEOUTS },
    maxBody: DEFAULT_MAX_BODY,
    bodyBuffer: { ...DEFAULT_BODY_BUFFER },
    log: { access: 'off', format: 'combined', formats: {}, error: 'stderr', level: 'info' },
    upstreams: {},
    sites,
  };
}

export async function tempDir(prefix = 'gatehouse-tls-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * A self-signed ECDSA P-256 certificate for `names` written to `cert`/`key` (openssl CLI, so the tests do
 * not depend on the code under test to make their inputs). Returns the serial in Node's upper-case hex.
 */
export async function makeSelfSigned(names: string[], cert: string, key: string): Promise<string> {
  const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`,
  ], { stdio: 'ignore' });
  const out = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-serial']).toString();
  return out.trim().replace(/^serial=/, '').toUpperCase();
}

export async function serialOf(certFile: string): Promise<string> {
  const { X509Certificate } = await import('node:crypto');
  return new X509Certificate(await readFile(certFile)).serialNumber;
}

export interface RecordingLogger extends Logger {
  lines: Array<{ level: string; message: string; meta?: Record<string, unknown> }>;
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => {
    lines.push({ level, message, meta });
  };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
