// issue 17: error pages and added headers over HTTP/2 and with compression on (the differential
// file compares plain HTTP/1.1 with nginx; these are gatehouse's own paths over TLS).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { curl, type CurlResult } from '../helpers/curl.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';

describe('error pages over HTTP/2 and with compression (integration)', function () {
  this.timeout(60_000);
  let gh: Gatehouse;
  let backend: EchoBackend;
  let www: string;

  before(async () => {
    backend = await startEchoBackend();
    www = tempDir('gh-pages-');
    fs.writeFileSync(path.join(www, '404.html'), `<p>${'custom 404 '.repeat(100)}</p>\n`);
    fs.writeFileSync(path.join(www, '50x.html'), '<p>custom 50x</p>\n');
    const dead = await freePort();
    gh = await startGatehouse(() => ({
      sites: [
        {
          hosts: 'p.test',
          tls: 'internal',
          errorPages: { 404: '/404.html', 502: '/50x.html' },
          headers: { response: { add: { 'X-B': { value: 'b', always: true } } } },
          routes: [
            { location: '/', root: www },
            { location: '/dead/', proxy: `http://127.0.0.1:${dead}` },
            { location: '/icpt/', proxy: `${backend.url}/status/`, interceptErrors: true },
          ],
        },
      ],
    }));
  });
  after(async () => {
    await gh?.stop();
    await backend?.close();
    fs.rmSync(www, { recursive: true, force: true });
  });

  const get = (p: string, ...args: string[]): Promise<CurlResult> => curl(['--cacert', gh.caFile, ...args, ...gh.curlArgs('p.test', p)]);

  it('a static 404 gets the page over HTTP/2, compressed when asked, with the always header', async () => {
    const r = await get('/nope', '--http2', '-H', 'Accept-Encoding: gzip');
    expect(r.httpVersion).to.equal('2');
    expect(r.status).to.equal(404);
    expect(r.headers['x-b']).to.deep.equal(['b']);
    const body = r.headers['content-encoding']?.[0] === 'gzip' ? zlib.gunzipSync(r.body) : r.body;
    expect(body.toString()).to.equal(fs.readFileSync(path.join(www, '404.html'), 'utf8'));
  });

  it('a POST with a body to a dead upstream gets the 50x page over HTTP/2 and HTTP/1.1', async () => {
    for (const version of ['--http2', '--http1.1']) {
      const r = await get('/dead/x', version, '--data-binary', 'x'.repeat(10_000));
      expect(r.status, version).to.equal(502);
      expect(r.body.toString(), version).to.equal('<p>custom 50x</p>\n');
    }
  });

  it('an intercepted upstream 404 gets the page; a 500 without one passes', async () => {
    const r = await get('/icpt/404', '--http2');
    expect(r.status).to.equal(404);
    expect(r.body.toString()).to.include('custom 404');
    const passed = await get('/icpt/500', '--http2');
    expect([passed.status, passed.body.toString()]).to.deep.equal([500, 'status 500\n']);
  });
});
