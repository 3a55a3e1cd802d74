// What the adapter writes for the directives behind `defaults: nginx`'s run-time behaviour
// (docs/nginx.md "What defaults: nginx changes at run time"), and its messages at FILE:LINE:COL.
// The behaviour itself is compared with nginx 1.22 in test/integration/nginx-conf-*.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../../../src/config/index.js';
import { adaptNginx, adaptedYaml } from '../../../../src/config/nginx/adapt/reader.js';
import { ConfigError, type ConfigIssue } from '../../../../src/config/types.js';
import { tmpdir } from './helpers.js';

const FILE = '/etc/nginx/test.conf';

function adapt(http: string, server = ''): { config: Record<string, unknown>; warnings: ConfigIssue[] } {
  const text = `events {}\nhttp {\n${http}\nserver { listen 127.0.0.1:8080; server_name a.test; ${server} }\n}\n`;
  const out = adaptNginx(text, FILE);
  return { config: parseYaml(adaptedYaml(out, FILE)) as Record<string, unknown>, warnings: out.warnings };
}

function errorsOf(http: string, server = ''): string[] {
  try {
    adapt(http, server);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.pos.line}:${i.pos.col}: ${i.message}`);
    throw err;
  }
  throw new Error('no error');
}

const site = (c: Record<string, unknown>) => (c.sites as Array<Record<string, unknown>>)[0]!;

describe('nginx adapter: run-time defaults (unit)', () => {
  it('types blocks of the http level add up, a later extension wins; no types: nginx\'s three and text/plain', () => {
    const { config } = adapt('types { text/html html; text/plain txt; } types { text/x-a txt; } default_type application/octet-stream; charset utf-8;');
    expect(config.mimeTypes).to.deep.equal({ types: { 'text/html': ['html'], 'text/x-a': ['txt'] }, default: 'application/octet-stream' });
    expect(adapt('').config.mimeTypes).to.deep.equal({ types: { 'text/html': ['html'], 'image/gif': ['gif'], 'image/jpeg': ['jpg'] }, default: 'text/plain' });
  });

  it('charset and charset_types: http level folded into the site, server and location levels their own, inherited separately', () => {
    const { config, warnings } = adapt('charset utf-8;', 'location /a/ { charset off; } location /b/ { charset_types text/css; charset_types application/json text/css; } location /c/ { charset koi8-r; charset_types *; }');
    const s = site(config);
    expect(s.charset).to.equal('utf-8');
    expect(s.charsetTypes).to.equal(undefined);
    const routes = s.routes as Array<Record<string, unknown>>;
    expect(routes.map((r) => [r.location, r.charset, r.charsetTypes])).to.deep.equal([
      ['/a/', 'off', undefined],
      // ngx_http_types_slot: a level's lists add up after text/html, the directive's default.
      ['/b/', undefined, ['text/html', 'text/css', 'application/json']],
      ['/c/', 'koi8-r', ['*']],
    ]);
    expect(warnings).to.deep.equal([]);
    expect(site(adapt('', 'charset utf-8;').config).charset).to.equal('utf-8');
  });

  it('charset: twice at one level is an error, a variable warns and adds none, a bad name is an error at its line', () => {
    expect(errorsOf('', 'charset utf-8; charset utf-8;')).to.deep.equal(['4:68: "charset" directive is duplicate']);
    const { config, warnings } = adapt('charset utf-8;', 'location / { charset $cs; }');
    expect((site(config).routes as Array<Record<string, unknown>>)[0]!.charset).to.equal('off');
    expect(warnings.map((w) => `${w.pos.line}:${w.pos.col}: ${w.message}`)).to.deep.equal(['4:74: "charset $cs": a charset from a variable is not supported; no charset is added here']);
    // The name is checked by the native loader, at the nginx line.
    const text = `events {}\nhttp {\nserver { listen 127.0.0.1:8080; charset "utf 8"; }\n}\n`;
    expect(() => parseConfig(text, FILE)).to.throw(ConfigError, /test\.conf:3:33: charset "utf 8" is not a charset name/);
  });

  it('proxy_next_upstream: http_* become retryStatuses, an unknown value is an error at its column', () => {
    const { config } = adapt('', 'location / { proxy_next_upstream error timeout http_502 http_504; proxy_pass http://127.0.0.1:9; }');
    expect((site(config).routes as Array<Record<string, unknown>>)[0]!.retryStatuses).to.deep.equal([502, 504]);
    expect(errorsOf('', 'location / { proxy_next_upstream http_999; proxy_pass http://127.0.0.1:9; }')).to.deep.equal(['4:86: invalid value "http_999"']);
  });

  it('gzip_* become compressRules; gzip_proxied conditions other than off/any warn', () => {
    const { config, warnings } = adapt('gzip on; gzip_types text/css; gzip_min_length 1k; gzip_vary on; gzip_proxied expired any;');
    expect(site(config).compressRules).to.deep.equal({ types: ['text/css'], minLength: '1k', vary: true, proxied: true });
    expect(warnings.map((w) => w.message)).to.deep.equal(['"gzip_proxied expired any": only off and any are supported; requests with Via are compressed only with any']);
  });

  it('redirect directives other than nginx\'s defaults warn', () => {
    const { warnings } = adapt('absolute_redirect on; port_in_redirect off;');
    expect(warnings.map((w) => w.message)).to.deep.equal(['"port_in_redirect off" has no effect: redirects follow nginx\'s defaults (absolute, with the Host name and the listening port)']);
  });

  it('-p sets the prefix of root, never the conf prefix of includes (ngx_process_options)', () => {
    const dir = tmpdir();
    try {
      fs.mkdirSync(path.join(dir, 'conf'));
      fs.writeFileSync(path.join(dir, 'conf/site.conf'), 'server { listen 127.0.0.1:8080; root html; }\n');
      const main = path.join(dir, 'conf/main.conf');
      const out = adaptNginx('events {}\nhttp { include site.conf; }\n', main, { prefix: path.join(dir, 'prefix') });
      expect(out.files).to.deep.equal([main, path.join(dir, 'conf/site.conf')]);
      expect(site(parseYaml(adaptedYaml(out, main)) as Record<string, unknown>).root).to.equal(path.join(dir, 'prefix/html'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
