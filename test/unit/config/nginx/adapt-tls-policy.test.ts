// issue 19: nginx's TLS policy directives (ssl_protocols, ssl_ciphers, ssl_ecdh_curve,
// ssl_prefer_server_ciphers) become the site's `tls` policy keys, and proxy_ssl_certificate/_key/
// _protocols the upstream's `tls`; cipher names Node's OpenSSL lacks are left out as OpenSSL does, and a
// list with nothing left, or an unknown curve, is an error at the nginx line.
import { expect } from 'chai';
import { readNginx } from '../../../../src/config/nginx/adapt/reader.js';
import { ConfigError, type ConfigIssue } from '../../../../src/config/types.js';

const FILE = '/etc/nginx/sites-enabled/shop';

function server(lines: string[]): string {
  return ['server {', '  listen 443 ssl;', '  server_name shop.test;', '  ssl_certificate /etc/ssl/shop.pem;', '  ssl_certificate_key /etc/ssl/shop.key;', ...lines.map((l) => `  ${l}`), '}', ''].join('\n');
}

function issuesOf(text: string): ConfigIssue[] {
  try {
    return readNginx(text, FILE).warnings;
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}

describe('config/nginx adapt: TLS policy and upstream client certificates', () => {
  it('translates ssl_protocols, ssl_ciphers, ssl_ecdh_curve and ssl_prefer_server_ciphers into the site\'s tls', () => {
    const loaded = readNginx(
      server(['ssl_protocols TLSv1.2;', 'ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256;', 'ssl_ecdh_curve X25519:secp384r1;', 'ssl_prefer_server_ciphers off;']),
      FILE,
    );
    expect(loaded.config.sites[0]?.tls).to.deep.equal({
      kind: 'files',
      cert: '/etc/ssl/shop.pem',
      key: '/etc/ssl/shop.key',
      policy: {
        protocols: { min: 'TLSv1.2', max: 'TLSv1.2' },
        ciphers: ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
        curves: ['X25519', 'secp384r1'],
        preferServerCiphers: false,
      },
    });
  });

  it('keeps gatehouse\'s defaults for nginx\'s (HIGH:!aNULL:!MD5, auto) and for both served versions, and drops TLSv1/TLSv1.1 with a warning', () => {
    const text = server(['ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;', 'ssl_ciphers HIGH:!aNULL:!MD5;', 'ssl_ecdh_curve auto;']);
    const loaded = readNginx(text, FILE);
    expect(loaded.config.sites[0]?.tls).to.deep.equal({ kind: 'files', cert: '/etc/ssl/shop.pem', key: '/etc/ssl/shop.key' });
    expect(loaded.warnings.map((w) => `${w.pos.line}: ${w.message}`)).to.include('6: ssl_protocols TLSv1 TLSv1.1: gatehouse serves TLSv1.2 and TLSv1.3 only; older clients cannot connect');
  });

  it('inherits the http level\'s policy into each server', () => {
    const text = ['http {', '  ssl_protocols TLSv1.3;', server([]), '}', ''].join('\n');
    expect(readNginx(text, FILE).config.sites[0]?.tls.policy).to.deep.equal({ protocols: { min: 'TLSv1.3', max: 'TLSv1.3' } });
  });

  it('leaves out the cipher names Node\'s OpenSSL lacks, with a warning, as OpenSSL does for nginx (nginx -t accepts such a list)', () => {
    const loaded = readNginx(server(['ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:DES-CBC3-SHA:!aNULL;']), FILE);
    expect(loaded.config.sites[0]?.tls.policy?.ciphers).to.deep.equal(['ECDHE-RSA-AES128-GCM-SHA256', '!aNULL']);
    const warning = loaded.warnings.find((w) => w.message.startsWith('ssl_ciphers: DES-CBC3-SHA is unknown'));
    expect(warning?.pos.line, JSON.stringify(loaded.warnings)).to.equal(6);
  });

  it('reports a list with no cipher Node\'s OpenSSL has (nginx -t fails too), and an unknown curve, at the nginx directive', () => {
    const issues = issuesOf(server(['ssl_ciphers DES-CBC3-SHA:RC4-SHA;', 'ssl_ecdh_curve X25519:brainpoolP512r1t1;']));
    const at = (line: number, text: string) => issues.find((i) => i.severity === 'error' && i.pos.line === line && i.message.includes(text));
    expect(at(6, 'cipher "DES-CBC3-SHA" is unknown'), JSON.stringify(issues)).to.not.equal(undefined);
    expect(at(7, 'curve "brainpoolP512r1t1" is unknown'), JSON.stringify(issues)).to.not.equal(undefined);
  });

  it('translates proxy_ssl_certificate, _key and _protocols into the named upstream\'s tls', () => {
    const text = [
      'upstream app { server 10.0.0.5:443; }',
      server([
        'location / {',
        '    proxy_pass https://app;',
        '    proxy_ssl_certificate /etc/ssl/client.pem;',
        '    proxy_ssl_certificate_key /etc/ssl/client.key;',
        '    proxy_ssl_protocols TLSv1.1 TLSv1.3;',
        '    proxy_ssl_trusted_certificate /etc/ssl/backend-ca.pem;',
        '  }',
      ]),
    ].join('\n');
    const loaded = readNginx(text, FILE);
    expect(loaded.config.upstreams.app?.tls).to.deep.equal({
      insecure: false,
      ca: '/etc/ssl/backend-ca.pem',
      cert: '/etc/ssl/client.pem',
      key: '/etc/ssl/client.key',
      protocols: { min: 'TLSv1.3', max: 'TLSv1.3' },
    });
    expect(loaded.warnings.map((w) => w.message)).to.include('proxy_ssl_protocols TLSv1.1: gatehouse speaks TLSv1.2 and TLSv1.3 only to upstreams');
  });

  it('refuses a proxy_ssl_certificate with variables at its argument', () => {
    const issues = issuesOf(server(['location / {', '    proxy_pass https://10.0.0.5;', '    proxy_ssl_certificate /etc/ssl/$ssl_server_name.pem;', '  }']));
    expect(issues.some((i) => i.severity === 'error' && i.pos.line === 8 && i.message.includes('"proxy_ssl_certificate" with variables is not supported'))).to.equal(true);
  });
});
