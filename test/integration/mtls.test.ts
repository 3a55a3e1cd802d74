// issue 19: client certificate authentication (README "Client certificates (mTLS)"). gatehouse and
// real nginx 1.22 side by side, the same sites (ssl_verify_client on / optional / optional_no_ca),
// the same echo backend, the same certificates made by openssl at test time: every request goes to
// both, over HTTP/1.1 and HTTP/2 (curl), and the statuses, nginx's 400 pages and the
// $ssl_client_* values the backend receives must be the same.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import tls from 'node:tls';
import path from 'node:path';
import { expect } from 'chai';
import { startNginx } from '../helpers/cgi-peers.js';
import { curl, type CurlResult } from '../helpers/curl.js';
import { withoutServerLine } from '../helpers/differential.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';
import { makeTestCa } from '../helpers/test-ca.js';

const SITES = ['mtls.test', 'opt.test', 'noca.test', 'plain.test', 'depth0.test'];
/** The variables forwarded by both servers, header name → variable. */
const FORWARDED: Record<string, string> = {
  'x-verify': '$ssl_client_verify',
  'x-s-dn': '$ssl_client_s_dn',
  'x-i-dn': '$ssl_client_i_dn',
  'x-fingerprint': '$ssl_client_fingerprint',
  'x-serial': '$ssl_client_serial',
  'x-escaped-cert': '$ssl_client_escaped_cert',
};

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

interface ClientCert {
  cert: string;
  key: string;
}

interface ClientCa {
  ca: string;
  issue(cn: string, days: number): ClientCert;
  /** An intermediate CA below this one, whose certificates are sent with it (the chain in the cert file). */
  intermediate(name: string): ClientCa;
}

/** A CA for client certificates, and a certificate from it (`days` -1: expired since yesterday). */
function clientCa(dir: string, name: string, parent?: { crt: string; key: string }): ClientCa {
  fs.mkdirSync(dir, { recursive: true });
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}-ca.key`], dir);
  const subject = `/C=DE/O=${name} clients/CN=${name} client CA`;
  if (parent) {
    fs.writeFileSync(path.join(dir, `${name}-ca.ext`), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
    openssl(['req', '-new', '-key', `${name}-ca.key`, '-subj', subject, '-out', `${name}-ca.csr`], dir);
    openssl(['x509', '-req', '-in', `${name}-ca.csr`, '-CA', parent.crt, '-CAkey', parent.key, '-CAcreateserial', '-days', '2', '-sha256', '-extfile', `${name}-ca.ext`, '-out', `${name}-ca.crt`], dir);
  } else {
    openssl(['req', '-x509', '-new', '-key', `${name}-ca.key`, '-sha256', '-days', '2', '-subj', subject, '-out', `${name}-ca.crt`], dir);
  }
  return {
    ca: path.join(dir, `${name}-ca.crt`),
    intermediate: (child) => clientCa(dir, child, { crt: path.join(dir, `${name}-ca.crt`), key: path.join(dir, `${name}-ca.key`) }),
    issue(cn, days) {
      const base = `${name}-${cn.replace(/\W/g, '_')}`;
      fs.writeFileSync(path.join(dir, `${base}.ext`), 'extendedKeyUsage=clientAuth\n');
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${base}.key`], dir);
      // A comma in a value: RFC 2253 escapes it (\,), which both servers must print alike.
      openssl(['req', '-new', '-key', `${base}.key`, '-subj', `/C=DE/O=Example, Inc./CN=${cn}`, '-out', `${base}.csr`], dir);
      openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', `${name}-ca.crt`, '-CAkey', `${name}-ca.key`, '-CAcreateserial', '-days', String(days), '-sha256', '-extfile', `${base}.ext`, '-out', `${base}.crt`], dir);
      // Below an intermediate the client sends the chain: its certificate, then the intermediate's.
      if (parent) fs.appendFileSync(path.join(dir, `${base}.crt`), fs.readFileSync(path.join(dir, `${name}-ca.crt`)));
      return { cert: path.join(dir, `${base}.crt`), key: path.join(dir, `${base}.key`) };
    },
  };
}

function nginxServer(port: number, name: string, verify: string, backend: string, files: { cert: string; key: string }): string {
  const sets = Object.entries(FORWARDED)
    .map(([h, v]) => `proxy_set_header ${h} ${v};`)
    .join('\n      ');
  return `server {
    listen 127.0.0.1:${port} ssl http2;
    server_name ${name};
    ssl_certificate ${files.cert};
    ssl_certificate_key ${files.key};
    ${verify}
    location / {
      proxy_pass ${backend};
      ${sets}
    }
  }`;
}

interface Side {
  name: 'nginx' | 'gatehouse';
  port: number;
}

describe('mTLS: tls.clientAuth against nginx 1.22 ssl_verify_client', function () {
  this.timeout(60_000);
  let dir: string;
  let backend: EchoBackend;
  let gh: Gatehouse;
  let nginx: Peer;
  let serverCa: string;
  let sides: Side[];
  const certs: Record<string, ClientCert> = {};

  before(async () => {
    dir = tempDir('gh-mtls-');
    const server = makeTestCa(path.join(dir, 'server'), 'gatehouse test server CA');
    serverCa = server.caFile;
    const site = server.issue('site', SITES);
    const good = clientCa(path.join(dir, 'clients'), 'good');
    const other = clientCa(path.join(dir, 'clients'), 'other');
    certs.good = good.issue('client one', 2);
    certs.expired = good.issue('client expired', -1);
    certs.other = other.issue('client of another CA', 2);
    certs.chained = good.intermediate('team').issue('client below an intermediate', 2);
    backend = await startEchoBackend();
    const files = { cert: site.certFile, key: site.keyFile };
    const nginxPort = await freePort();
    nginx = await startNginx(
      dir,
      [
        nginxServer(nginxPort, 'mtls.test', `ssl_verify_client on; ssl_client_certificate ${good.ca};`, backend.url, files),
        nginxServer(nginxPort, 'opt.test', `ssl_verify_client optional; ssl_client_certificate ${good.ca};`, backend.url, files),
        nginxServer(nginxPort, 'noca.test', 'ssl_verify_client optional_no_ca;', backend.url, files),
        nginxServer(nginxPort, 'plain.test', '', backend.url, files),
        nginxServer(nginxPort, 'depth0.test', `ssl_verify_client on; ssl_client_certificate ${good.ca}; ssl_verify_depth 0;`, backend.url, files),
      ].join('\n  '),
      nginxPort,
    );
    const route = { location: '/', proxy: backend.url, headers: { request: { set: FORWARDED } } };
    const tls = (clientAuth?: Record<string, unknown>) => ({ cert: site.certFile, key: site.keyFile, ...(clientAuth ? { clientAuth } : {}) });
    gh = await startGatehouse(() => ({
      sites: [
        { hosts: ['mtls.test'], tls: tls({ ca: good.ca }), redirect: 'off', routes: [route] },
        { hosts: ['opt.test'], tls: tls({ ca: good.ca, mode: 'optional' }), routes: [route] },
        { hosts: ['noca.test'], tls: tls({ mode: 'optional_no_ca' }), routes: [route] },
        { hosts: ['plain.test'], tls: tls(), routes: [route] },
        { hosts: ['depth0.test'], tls: tls({ ca: good.ca, depth: 0 }), routes: [route] },
      ],
    }));
    sides = [
      { name: 'nginx', port: nginxPort },
      { name: 'gatehouse', port: gh.httpsPort },
    ];
  });

  after(async () => {
    await gh?.stop();
    await nginx?.stop('SIGQUIT');
    await backend?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function ask(side: Side, sni: string, client: ClientCert | undefined, version: '--http1.1' | '--http2', host = sni): Promise<CurlResult> {
    const args = [version, '--cacert', serverCa, '--resolve', `${sni}:${side.port}:127.0.0.1`];
    if (client) args.push('--cert', client.cert, '--key', client.key);
    if (host !== sni) args.push('-H', `Host: ${host}`);
    return curl([...args, `https://${sni}:${side.port}/`]);
  }

  /** What the backend saw of the forwarded variables, from the echo's JSON record. */
  function forwarded(r: CurlResult): Record<string, string> {
    const seen = JSON.parse(r.body.toString()) as { headers: Record<string, string> };
    return Object.fromEntries(Object.keys(FORWARDED).map((h) => [h, seen.headers[h] ?? '']));
  }

  /** The same request to both; returns gatehouse's answer after comparing it with nginx's. */
  async function same(sni: string, client: ClientCert | undefined, version: '--http1.1' | '--http2', host = sni): Promise<{ status: number; vars?: Record<string, string>; body: string }> {
    const [n, g] = await Promise.all(sides.map((s) => ask(s, sni, client, version, host)));
    expect(n!.exitCode, n!.stderr).to.equal(0);
    expect(g!.exitCode, g!.stderr).to.equal(0);
    expect(g!.status, 'status').to.equal(n!.status);
    if (g!.status === 200) {
      const vars = forwarded(g!);
      expect(vars).to.deep.equal(forwarded(n!));
      return { status: 200, vars, body: '' };
    }
    const body = g!.body.toString();
    if (g!.status === 400) expect(body).to.equal(withoutServerLine(n!.body.toString()));
    return { status: g!.status, body };
  }

  for (const version of ['--http1.1', '--http2'] as const) {
    describe(`over ${version === '--http2' ? 'HTTP/2' : 'HTTP/1.1'}`, () => {
      it('require: a certificate from the CA passes; the backend gets SUCCESS, the DNs, fingerprint, serial and PEM as nginx sends them', async () => {
        const r = await same('mtls.test', certs.good, version);
        expect(r.status).to.equal(200);
        expect(r.vars!['x-verify']).to.equal('SUCCESS');
        expect(r.vars!['x-s-dn']).to.equal('CN=client one,O=Example\\, Inc.,C=DE');
        expect(r.vars!['x-i-dn']).to.equal('CN=good client CA,O=good clients,C=DE');
        const fp = execFileSync('openssl', ['x509', '-in', certs.good!.cert, '-noout', '-fingerprint', '-sha1']).toString();
        expect(r.vars!['x-fingerprint']).to.equal(fp.split('=')[1]!.trim().replace(/:/g, '').toLowerCase());
        expect(decodeURIComponent(r.vars!['x-escaped-cert']!)).to.equal(fs.readFileSync(certs.good!.cert, 'latin1'));
      });

      it('require: no certificate is nginx\'s 400 "No required SSL certificate was sent", after the handshake', async () => {
        const r = await same('mtls.test', undefined, version);
        expect(r.status).to.equal(400);
        expect(r.body).to.contain('No required SSL certificate was sent');
      });

      it('require: a certificate from another CA, or an expired one, is nginx\'s 400 "The SSL certificate error"', async () => {
        for (const c of [certs.other, certs.expired]) {
          const r = await same('mtls.test', c, version);
          expect(r.status).to.equal(400);
          expect(r.body).to.contain('The SSL certificate error');
        }
      });

      it('optional: no certificate goes on with NONE; a good one with SUCCESS; a bad one is the 400 (as nginx)', async () => {
        expect((await same('opt.test', undefined, version)).vars!['x-verify']).to.equal('NONE');
        expect((await same('opt.test', certs.good, version)).vars!['x-verify']).to.equal('SUCCESS');
        expect((await same('opt.test', certs.other, version)).status).to.equal(400);
        expect((await same('opt.test', certs.expired, version)).status).to.equal(400);
      });

      it('optional_no_ca: an unknown issuer goes on with FAILED:reason and the certificate\'s variables; an expired one as nginx decides', async () => {
        const r = await same('noca.test', certs.other, version);
        expect(r.status).to.equal(200);
        expect(r.vars!['x-verify']).to.match(/^FAILED:/);
        expect(r.vars!['x-s-dn']).to.equal('CN=client of another CA,O=Example\\, Inc.,C=DE');
        await same('noca.test', certs.expired, version);
        expect((await same('noca.test', undefined, version)).vars!['x-verify']).to.equal('NONE');
      });

      it('depth: a certificate below an intermediate passes depth 1 (nginx\'s default) and fails depth 0, as in nginx; one from the CA itself passes both', async () => {
        const chained = await same('mtls.test', certs.chained, version);
        expect(chained.vars!['x-verify']).to.equal('SUCCESS');
        expect(chained.vars!['x-i-dn']).to.equal('CN=team client CA,O=team clients,C=DE');
        expect((await same('depth0.test', certs.chained, version)).status).to.equal(400);
        expect((await same('depth0.test', certs.good, version)).vars!['x-verify']).to.equal('SUCCESS');
      });

      it('a site without clientAuth asks for nothing: NONE and empty variables', async () => {
        const r = await same('plain.test', undefined, version);
        expect(r.vars).to.deep.equal({ 'x-verify': 'NONE', 'x-s-dn': '', 'x-i-dn': '', 'x-fingerprint': '', 'x-serial': '', 'x-escaped-cert': '' });
      });

      it('the attack: a handshake on the non-mTLS name, then Host of the mTLS site, is 421 (as nginx), with or without a certificate', async () => {
        expect((await same('plain.test', undefined, version, 'mtls.test')).status).to.equal(421);
        expect((await same('plain.test', certs.good, version, 'mtls.test')).status).to.equal(421);
      });
    });
  }

  it('plain HTTP to an mTLS site served over HTTP too (redirect: off) gets the 400, never the backend (nginx would serve it unchecked)', async () => {
    const seen = backend.seen.length;
    const r = await curl(['--http1.1', '-H', 'Host: mtls.test', `http://127.0.0.1:${gh.httpPort}/`]);
    expect(r.status).to.equal(400);
    expect(r.body.toString()).to.contain('No required SSL certificate was sent');
    expect(backend.seen.length).to.equal(seen);
  });

  /** One HTTP/1.1 GET on a new TLS 1.3 connection, resuming `session` if given; the ticket it got comes back. */
  function tlsGet(sni: string, client: ClientCert | undefined, session?: Buffer): Promise<{ status: number; reused: boolean; session: Buffer | undefined }> {
    return new Promise((resolve, reject) => {
      let ticket: Buffer | undefined;
      const socket = tls.connect({
        port: gh.httpsPort,
        host: '127.0.0.1',
        servername: sni,
        ca: fs.readFileSync(serverCa),
        ALPNProtocols: ['http/1.1'],
        minVersion: 'TLSv1.3',
        ...(session ? { session } : {}),
        ...(client ? { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) } : {}),
      });
      socket.on('session', (s: Buffer) => (ticket = s));
      let got = '';
      let reused = false;
      socket.on('secureConnect', () => {
        reused = socket.isSessionReused();
        socket.write(`GET / HTTP/1.1\r\nHost: ${sni}\r\nConnection: close\r\n\r\n`);
      });
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), reused, session: ticket }));
    });
  }

  it('TLS session resumption: a session resumes on its own mTLS site with its verified certificate, never on a site with other clientAuth settings', async () => {
    const first = await tlsGet('mtls.test', certs.good);
    expect(first.status).to.equal(200);
    expect(first.session, 'a TLS 1.3 ticket').to.not.equal(undefined);
    const again = await tlsGet('mtls.test', undefined, first.session);
    expect(again).to.include({ reused: true, status: 200 });
    // depth0.test trusts the same CA with another depth: the ticket must not carry the verification over.
    const elsewhere = await tlsGet('depth0.test', undefined, first.session);
    expect(elsewhere).to.include({ reused: false, status: 400 });
    // A ticket from a site that asked for nothing does not open the mTLS site either.
    const plain = await tlsGet('plain.test', undefined);
    const crossed = await tlsGet('mtls.test', undefined, plain.session);
    expect(crossed).to.include({ reused: false, status: 400 });
  });

  it('HTTP/2 connection coalescing: a session opened for the non-mTLS name cannot reach the mTLS site by :authority', async () => {
    for (const side of sides) {
      const session = http2.connect(`https://plain.test:${side.port}`, { ca: fs.readFileSync(serverCa), host: '127.0.0.1', servername: 'plain.test' });
      try {
        const status = (authority: string) =>
          new Promise<number>((resolve, reject) => {
            const req = session.request({ ':path': '/', ':authority': authority });
            req.on('response', (h) => resolve(Number(h[':status'])));
            req.on('error', reject);
            req.resume();
            req.end();
          });
        expect(await status('plain.test'), side.name).to.equal(200);
        expect(await status('mtls.test'), side.name).to.equal(421);
      } finally {
        session.close();
      }
    }
  });
});
