// A real BIND 9.18 (Debian's /usr/sbin/named) authoritative for test zones on 127.0.0.1:free port, in the
// foreground (-g) and stopped by pid. Everything it writes (pid file, session key, journals, managed keys)
// goes to a temp folder: as root named would otherwise use /run/named and /var/cache/bind. -n 1: one worker
// is plenty on loopback and starts faster on a shared 2-core box. Each zone has SOA, NS ns1.<zone> and
// ns1.<zone> A 127.0.0.1, so a propagation check that discovers the NS reaches this same server.
// TSIG secrets are made at test time (crypto), never stored in the repository.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TsigKey, TsigAlgorithm } from '../../src/tls/acme/dns/tsig.js';
import { tempDir } from './gatehouse.js';
import { freePort } from './ports.js';
import { startPeer, type Peer } from './process.js';

export interface BindZone {
  name: string;
  /** Extra zone-file lines, e.g. `_acme-challenge.a CNAME x.delegated.test.`. */
  records?: string[];
}

export interface Bind9Options {
  zones: BindZone[];
  /** TSIG keys BIND knows and grants TXT updates to, in every zone (update-policy … zonesub TXT). */
  keys?: Array<{ name: string; algorithm: TsigAlgorithm }>;
}

export interface Bind9 {
  port: number;
  dir: string;
  server: { host: string; port: number };
  /** The keys, with their generated secrets. */
  keys: Record<string, TsigKey>;
  /** A file with the `key "NAME" { … };` statement, as `nsupdate -k FILE` reads it. */
  keyFile(name: string): string;
  /** The TXT values at `name`, as `dig +short` sees them (quotes removed), sorted. */
  txt(name: string): string[];
  /** Replaces the TXT values at `name` with `values` (none: removes them), by `nsupdate -k` with key `keyName`. */
  setTxt(name: string, values: string[], keyName: string): Promise<void>;
  stop(): Promise<void>;
}

function keyStatement(key: TsigKey): string {
  return `key "${key.name}" {\n  algorithm ${key.algorithm};\n  secret "${key.secret}";\n};\n`;
}

export async function startBind9(options: Bind9Options): Promise<Bind9> {
  const dir = tempDir('gh-bind-');
  const port = await freePort();
  const keys: Record<string, TsigKey> = {};
  for (const k of options.keys ?? []) {
    keys[k.name] = { name: k.name, algorithm: k.algorithm, secret: randomBytes(k.algorithm === 'hmac-sha512' ? 64 : 32).toString('base64') };
    fs.writeFileSync(path.join(dir, `${k.name}.key`), keyStatement(keys[k.name]!), { mode: 0o600 });
  }
  const grants = Object.keys(keys).map((k) => `grant "${k}" zonesub TXT;`).join(' ');
  const zoneBlocks = options.zones.map((z) => {
    fs.writeFileSync(path.join(dir, `${z.name}.db`), [
      '$TTL 60',
      `@ IN SOA ns1.${z.name}. hostmaster.${z.name}. 1 60 60 600 60`,
      `@ IN NS ns1.${z.name}.`,
      `ns1 IN A 127.0.0.1`,
      ...(z.records ?? []),
      '',
    ].join('\n'));
    // Without keys nothing may update the zone (BIND refuses: what a server requiring a key does).
    const policy = grants ? `update-policy { ${grants} };` : 'allow-update { none; };';
    return `zone "${z.name}" { type primary; file "${path.join(dir, `${z.name}.db`)}"; ${policy} };`;
  });
  fs.writeFileSync(path.join(dir, 'named.conf'), [
    ...Object.keys(keys).map((k) => `include "${path.join(dir, `${k}.key`)}";`),
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${path.join(dir, 'named.pid')}";`,
    `  session-keyfile "${path.join(dir, 'session.key')}";`,
    `  managed-keys-directory "${dir}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify no;',
    '};',
    ...zoneBlocks,
    '',
  ].join('\n'));
  const peer: Peer = startPeer('/usr/sbin/named', ['-g', '-n', '1', '-c', path.join(dir, 'named.conf')], { cwd: dir });
  try {
    // "running" alone on the line: named has loaded its zones and answers.
    await peer.waitForOutput(/ running\n/, 15_000);
  } catch (err) {
    await peer.stop('SIGKILL');
    throw err;
  }
  return {
    port,
    dir,
    server: { host: '127.0.0.1', port },
    keys,
    keyFile: (name) => path.join(dir, `${name}.key`),
    txt(name) {
      const out = execFileSync('dig', ['@127.0.0.1', '-p', String(port), '+short', '+norecurse', 'TXT', name], { encoding: 'utf8' });
      return out.split('\n').filter((l) => l.length > 0).map((l) => l.replace(/^"|"$/g, '')).sort();
    },
    setTxt(name, values, keyName) {
      // One update message: the delete and the adds are applied together (RFC 2136 §3.4), so a reader
      // never sees the name empty between two values.
      const script = [
        `server 127.0.0.1 ${port}`,
        `update delete ${name}. TXT`,
        ...values.map((v) => `update add ${name}. 60 IN TXT ${JSON.stringify(v)}`),
        'send',
        '',
      ].join('\n');
      return new Promise((resolve, reject) => {
        const child = execFile('nsupdate', ['-k', path.join(dir, `${keyName}.key`)], { timeout: 10_000 }, (err, _out, stderr) =>
          err ? reject(new Error(`nsupdate for ${name}: ${stderr || err.message}`)) : resolve());
        child.stdin!.end(script);
      });
    },
    async stop() {
      await peer.stop('SIGTERM');
    },
  };
}
