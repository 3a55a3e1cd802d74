// Issue 18: "for every test configuration, adapt → YAML → run behaves as .conf → run". Every site of
// test/fixtures/nginx-sites/ is rendered as the differential tests render it, `gatehouse adapt`
// (the CLI) writes its YAML, and the Config that `run` builds from that YAML must be the Config it
// builds from the .conf: same sites, routes, compiled templates and regexes, upstreams, listeners.
// The runtime is a function of the Config, so equal Configs serve alike; the differential tests
// (nginx-conf-*.test.ts) prove the .conf side against nginx 1.22.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { setNginxOptions } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { CLI, tempDir } from '../helpers/gatehouse.js';
import { render, SITES } from '../helpers/nginx-conf-differential.js';
import { makeTestCa } from '../helpers/test-ca.js';

const STOCK = ['mime.types', 'fastcgi_params', 'fastcgi.conf', 'uwsgi_params', 'scgi_params', 'proxy_params', 'snippets/fastcgi-php.conf'];

/** A Config as text that two equal Configs share: functions by source, regexes, Maps and Sets by content. */
function canonical(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'function') return `fn:${value.toString()}`;
  if (value instanceof RegExp) return `re:/${value.source}/${value.flags}`;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[seen]';
  seen.add(value);
  if (Buffer.isBuffer(value)) return `buf:${value.toString('base64')}`;
  if (value instanceof Map) return { map: [...value].map(([k, v]) => [canonical(k, seen), canonical(v, seen)]) };
  if (value instanceof Set) return { set: [...value].map((v) => canonical(v, seen)) };
  if (Array.isArray(value)) return value.map((v) => canonical(v, seen));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    // Where a value was written differs by design: the .conf line, or the YAML line.
    if (key === 'pos' && v !== null && typeof v === 'object' && 'line' in v) continue;
    out[key] = canonical(v, seen);
  }
  return out;
}

function adapt(conf: string, prefix: string, out: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'adapt', conf, '-p', prefix, '-o', out], { timeout: 20_000 }, (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

describe('gatehouse adapt: the YAML runs as the .conf does (integration)', function () {
  this.timeout(60_000);
  const sites = fs.readdirSync(SITES).filter((f) => f.endsWith('.conf'));

  it('covers every site of the differential tests', () => {
    expect(sites.length).to.be.at.least(10);
  });

  for (const site of sites) {
    it(`${site}: the adapted YAML loads the same Config as the .conf`, async () => {
      const dir = tempDir('gh-roundtrip-');
      try {
        const prefix = path.join(dir, 'gatehouse');
        fs.mkdirSync(path.join(prefix, 'sites-enabled'), { recursive: true });
        for (const f of STOCK) {
          fs.mkdirSync(path.dirname(path.join(prefix, f)), { recursive: true });
          fs.copyFileSync(path.join('/etc/nginx', f), path.join(prefix, f));
        }
        const template = fs.readFileSync(path.join(SITES, site), 'utf8');
        // Certificates where a site names one (certbot's live/NAME layout), from the test CA.
        for (const m of template.matchAll(/\{\{dir\}\}\/letsencrypt\/live\/([^/]+)\//g)) {
          const live = path.join(dir, 'letsencrypt/live', m[1]!);
          if (fs.existsSync(live)) continue;
          const issued = makeTestCa(path.join(dir, `ca-${m[1]}`)).issue('site', [m[1]!]);
          fs.mkdirSync(live, { recursive: true });
          fs.writeFileSync(path.join(live, 'fullchain.pem'), issued.cert);
          fs.writeFileSync(path.join(live, 'privkey.pem'), issued.key);
        }
        // certbot's options-ssl-nginx.conf, in its shape (as nginx-conf-tls.test.ts writes it).
        if (template.includes('letsencrypt/options-ssl-nginx.conf')) {
          fs.mkdirSync(path.join(dir, 'letsencrypt'), { recursive: true });
          fs.writeFileSync(path.join(dir, 'letsencrypt/options-ssl-nginx.conf'), 'ssl_session_cache shared:le_nginx_SSL:10m;\nssl_session_timeout 1440m;\nssl_session_tickets off;\nssl_protocols TLSv1.2 TLSv1.3;\nssl_prefer_server_ciphers off;\n');
        }
        const vars: Record<string, string> = { dir, fpm: '127.0.0.1:9001', uwsgi: '127.0.0.1:9002', ws: '127.0.0.1:9003', down: '127.0.0.1:9004' };
        for (let i = 1; i <= 4; i++) vars[`backend${i}`] = `127.0.0.1:${9010 + i}`;
        vars.backend = vars.backend1!;
        const ports: Record<string, number> = {};
        for (const m of template.matchAll(/\{\{port:([\w.-]+)\}\}/g)) ports[m[1]!] = 18000 + Object.keys(ports).length;
        fs.writeFileSync(path.join(prefix, 'nginx.conf'), 'events {}\nhttp {\n  include mime.types;\n  default_type application/octet-stream;\n  include sites-enabled/*.conf;\n}\n');
        fs.writeFileSync(path.join(prefix, 'sites-enabled', site), render(template, vars, ports));

        const yaml = path.join(prefix, 'gatehouse.yaml');
        const adapted = await adapt(path.join(prefix, 'nginx.conf'), prefix, yaml);
        expect(adapted.code, adapted.stderr).to.equal(0);
        setNginxOptions({ prefix });
        const fromConf = (await loadConfig(path.join(prefix, 'nginx.conf'))).config;
        const fromYaml = (await loadConfig(yaml)).config;
        const strip = (c: Config) => canonical({ ...c, file: undefined });
        expect(JSON.stringify(strip(fromYaml), null, 1)).to.equal(JSON.stringify(strip(fromConf), null, 1));
        expect(fromConf.sites.length).to.be.greaterThan(0);
      } finally {
        setNginxOptions({});
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
