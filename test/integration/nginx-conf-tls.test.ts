// The certbot-managed site file (test/fixtures/nginx-sites/certbot.conf) under nginx 1.22 and
// gatehouse: the HTTP server that redirects (and serves the ACME webroot), the HTTPS server with
// certbot's certificate paths and options include, HSTS, X-Forwarded-Proto.
import { expectSameAll, useConfPair } from '../helpers/nginx-conf-differential.js';

// certbot's options-ssl-nginx.conf, in its shape (written here for the test).
const OPTIONS = `ssl_session_cache shared:le_nginx_SSL:10m;
ssl_session_timeout 1440m;
ssl_session_tickets off;
ssl_protocols TLSv1.2 TLSv1.3;
ssl_prefer_server_ciphers off;
ssl_ciphers "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
`;

describe('nginx conf differential: a certbot-managed site (nginx 1.22, integration)', function () {
  this.timeout(60_000);
  const name = 'secure.example.test';

  const pair = useConfPair({
    site: 'certbot.conf',
    ports: ['http', 'https'],
    certificate: [name],
    files: { 'letsencrypt/options-ssl-nginx.conf': OPTIONS, 'acme-webroot/.well-known/acme-challenge/tok123': 'tok123.key\n' },
  });

  it('port 80: the redirect to https, the ACME webroot, 404 for other names', async () => {
    await expectSameAll(pair(), [
      { path: '/', headers: { host: name } },
      { path: '/account/settings?tab=1', headers: { host: name } },
      { path: '/', method: 'POST', body: 'x', headers: { host: name } },
      { path: '/.well-known/acme-challenge/tok123', headers: { host: name } },
      { path: '/.well-known/acme-challenge/missing', headers: { host: name } },
      { path: '/', headers: { host: 'other.example.test' } },
    ]);
  });

  it('port 443: the proxied app with HSTS and X-Forwarded-Proto https', async () => {
    const tls = { port: 'https', tls: name };
    await expectSameAll(pair(), [
      { ...tls, path: '/', headers: { host: name } },
      { ...tls, path: '/login', method: 'POST', body: 'u=a', headers: { host: name, 'content-type': 'application/x-www-form-urlencoded' } },
      { ...tls, path: '/status/404', headers: { host: name } },
      { ...tls, path: '/x?y=1', headers: { host: name, 'x-forwarded-for': '192.0.2.44' } },
    ]);
  });
});
