// Static files end to end: curl (HTTP/1.1 and HTTP/2) against the real gatehouse process serving
// a temp folder: ranges, conditionals, precompressed siblings, tryFiles, and the ways out of the
// root that must stay shut.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { curl, type CurlResult } from '../helpers/curl.js';
import { patternChunk, startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';

const SMALL = patternChunk(1000);
// Above the in-memory limit (64 KiB): these bytes are streamed from the file.
const BIG = patternChunk(200 * 1024, 7);
// Varied lines, so that the compressed files are still a few hundred bytes (room for two ranges).
const JS = Buffer.from(Array.from({ length: 300 }, (_, i) => `console.log("line ${(i * 7919) % 1000}");\n`).join(''));

function first(r: CurlResult, name: string): string | undefined {
  return r.headers[name]?.[0];
}

describe('static files (integration)', function () {
  this.timeout(60_000);
  let gh: Gatehouse;
  let backend: EchoBackend;
  let www: string;
  let outside: string;

  const rawRequest = (text: string): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = tls.connect({ host: '127.0.0.1', port: gh.httpsPort, servername: 's.test', ca: fs.readFileSync(gh.caFile) }, () => socket.write(text));
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
    });
  const get = (host: string, p: string, ...args: string[]): Promise<CurlResult> => curl([...args, ...gh.curlArgs(host, p)]);

  before(async () => {
    const dir = tempDir('gh-static-');
    www = path.join(dir, 'www');
    outside = path.join(dir, 'outside');
    fs.mkdirSync(path.join(www, 'dir'), { recursive: true });
    fs.mkdirSync(path.join(www, 'emptydir'));
    fs.mkdirSync(path.join(www, '.well-known'));
    fs.mkdirSync(path.join(www, '.git'));
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(www, 'small.bin'), SMALL);
    fs.writeFileSync(path.join(www, 'big.bin'), BIG);
    fs.writeFileSync(path.join(www, 'page.html'), '<p>page</p>\n');
    fs.writeFileSync(path.join(www, 'index.html'), '<p>spa index</p>\n');
    fs.writeFileSync(path.join(www, 'dir', 'index.html'), '<p>dir index</p>\n');
    fs.writeFileSync(path.join(www, 'app.js'), JS);
    fs.writeFileSync(path.join(www, 'app.js.br'), zlib.brotliCompressSync(JS));
    fs.writeFileSync(path.join(www, 'app.js.gz'), zlib.gzipSync(JS));
    fs.writeFileSync(path.join(www, '.env'), 'SECRET=1\n');
    fs.writeFileSync(path.join(www, 'caf\u00e9 menu+1.txt'), 'menu\n');
    fs.writeFileSync(path.join(www, '.git', 'config'), '[core]\n');
    fs.writeFileSync(path.join(www, '.well-known', 'security.txt'), 'Contact: ops@example.com\n');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'outside the root\n');
    fs.symlinkSync(path.join(www, 'page.html'), path.join(www, 'link-in.html'));
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(www, 'link-out.txt'));
    fs.symlinkSync(outside, path.join(www, 'linkdir'));
    backend = await startEchoBackend();
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      sites: [
        { hosts: ['s.test'], default: true, routes: [{ location: '/', root: www }] },
        { hosts: ['follow.test'], routes: [{ location: '/', root: www, symlinks: 'follow' }] },
        { hosts: ['refuse.test'], routes: [{ location: '/', root: www, symlinks: 'refuse' }] },
        { hosts: ['spa.test'], routes: [{ location: '/', root: www, tryFiles: ['$uri', '$uri/', '/index.html'] }] },
        {
          hosts: ['idx.test'],
          routes: [
            { location: '/', root: www },
            { location: '~ \\.html$', return: '200 via the regex location' },
          ],
        },
        { hosts: ['loop.test'], routes: [{ location: '/', root: www, tryFiles: ['$uri', '/nothing-here'] }] },
        {
          hosts: ['tf.test'],
          routes: [
            { location: '/', root: www, tryFiles: ['$uri', '=404'] },
            { location: '/api/', root: www, tryFiles: ['$uri', '@backend'] },
            { location: '/pages/', root: www, tryFiles: ['/page.html', '=410'] },
            { location: '@backend', proxy: backend.url },
          ],
        },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    await backend?.close();
  });

  describe('whole files, HEAD, types', () => {
    for (const http of ['--http1.1', '--http2']) {
      it(`serves a small and a streamed file byte for byte (${http})`, async () => {
        const small = await get('s.test', '/small.bin', http);
        expect(small.status).to.equal(200);
        expect(small.body.equals(SMALL)).to.equal(true);
        expect(first(small, 'content-type')).to.equal('application/octet-stream');
        expect(first(small, 'accept-ranges')).to.equal('bytes');
        const big = await get('s.test', '/big.bin', http);
        expect(big.status).to.equal(200);
        expect(first(big, 'content-length')).to.equal(String(BIG.length));
        expect(big.body.equals(BIG)).to.equal(true);
      });
    }

    it('answers HEAD with the GET headers and no body', async () => {
      // A raw socket: clients stop reading after a HEAD's headers, so only the wire shows a stray body.
      for (const file of ['/big.bin', '/small.bin']) {
        const raw = await rawRequest(`HEAD ${file} HTTP/1.1\r\nHost: s.test\r\nConnection: close\r\n\r\n`);
        const end = raw.indexOf('\r\n\r\n');
        expect(raw.subarray(0, 12).toString()).to.equal('HTTP/1.1 200');
        expect(raw.subarray(0, end).toString()).to.match(new RegExp(`content-length: ${file === '/big.bin' ? BIG.length : SMALL.length}`, 'i'));
        expect(raw.length).to.equal(end + 4);
      }
    });

    it('sends nginx-style ETag and Last-Modified, and a charset on text types', async () => {
      const r = await get('s.test', '/page.html');
      const st = fs.statSync(path.join(www, 'page.html'));
      const mtime = Math.floor(st.mtimeMs / 1000);
      expect(first(r, 'etag')).to.equal(`"${mtime.toString(16)}-${st.size.toString(16)}"`);
      expect(first(r, 'last-modified')).to.equal(new Date(mtime * 1000).toUTCString());
      expect(first(r, 'content-type')).to.equal('text/html; charset=utf-8');
    });

    it('redirects a directory without its slash, serves its index, and refuses one without an index', async () => {
      const r = await get('s.test', '/dir?x=1');
      expect(r.status).to.equal(301);
      expect(first(r, 'location')).to.equal('/dir/?x=1');
      expect((await get('s.test', '/dir/')).body.toString()).to.equal('<p>dir index</p>\n');
      expect((await get('s.test', '/emptydir/')).status).to.equal(403);
    });

    it('hands the index file on through an internal redirect, so other locations can take it (nginx index)', async () => {
      const r = await get('idx.test', '/dir/');
      expect(r.status).to.equal(200);
      expect(r.body.toString()).to.equal('via the regex location');
    });

    it('finds names with UTF-8, spaces and plus signs from their escaped forms', async () => {
      const r = await get('s.test', '/caf%C3%A9%20menu+1.txt');
      expect(r.status).to.equal(200);
      expect(r.body.toString()).to.equal('menu\n');
    });

    it('refuses other methods with 405 and Allow', async () => {
      const r = await get('s.test', '/page.html', '-X', 'POST', '-d', 'x');
      expect(r.status).to.equal(405);
      expect(first(r, 'allow')).to.equal('GET, HEAD');
    });

    it('shows a change on disk within about a second', async () => {
      const file = path.join(www, 'changing.txt');
      fs.writeFileSync(file, 'one\n');
      expect((await get('s.test', '/changing.txt')).body.toString()).to.equal('one\n');
      fs.writeFileSync(file, 'two!\n');
      await new Promise((r) => setTimeout(r, 1100));
      expect((await get('s.test', '/changing.txt')).body.toString()).to.equal('two!\n');
      fs.unlinkSync(file);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await get('s.test', '/changing.txt')).status).to.equal(404);
    });
  });

  describe('Range', () => {
    for (const [label, file, bytes] of [
      ['in memory', '/small.bin', SMALL],
      ['streamed', '/big.bin', BIG],
    ] as const) {
      it(`sends one range, an open range and a suffix range with 206 (${label})`, async () => {
        const one = await get('s.test', file, '-H', 'Range: bytes=10-19');
        expect(one.status).to.equal(206);
        expect(first(one, 'content-range')).to.equal(`bytes 10-19/${bytes.length}`);
        expect(one.body.equals(bytes.subarray(10, 20))).to.equal(true);
        const open = await get('s.test', file, '-H', 'Range: bytes=990-');
        expect(first(open, 'content-range')).to.equal(`bytes 990-${bytes.length - 1}/${bytes.length}`);
        expect(open.body.equals(bytes.subarray(990))).to.equal(true);
        const suffix = await get('s.test', file, '-H', 'Range: bytes=-5', '--http2');
        expect(suffix.status).to.equal(206);
        expect(suffix.body.equals(bytes.subarray(bytes.length - 5))).to.equal(true);
      });

      it(`sends several ranges as multipart/byteranges (${label})`, async () => {
        const r = await get('s.test', file, '-H', 'Range: bytes=0-9,500-509');
        expect(r.status).to.equal(206);
        const boundary = /^multipart\/byteranges; boundary=(\S+)$/.exec(first(r, 'content-type') ?? '')?.[1];
        expect(boundary).to.be.a('string');
        const expected = Buffer.concat([
          Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-9/${bytes.length}\r\n\r\n`),
          bytes.subarray(0, 10),
          Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 500-509/${bytes.length}\r\n\r\n`),
          bytes.subarray(500, 510),
          Buffer.from(`\r\n--${boundary}--\r\n`),
        ]);
        expect(r.body.equals(expected)).to.equal(true);
        expect(first(r, 'content-length')).to.equal(String(expected.length));
      });
    }

    it('coalesces overlapping ranges into one part', async () => {
      const r = await get('s.test', '/small.bin', '-H', 'Range: bytes=0-99,50-149,100-199');
      expect(r.status).to.equal(206);
      expect(first(r, 'content-range')).to.equal('bytes 0-199/1000');
      expect(r.body.equals(SMALL.subarray(0, 200))).to.equal(true);
    });

    it('ignores a request for more ranges than max (whole file, 200)', async () => {
      const many = Array.from({ length: 101 }, (_, i) => `${i * 5}-${i * 5}`).join(',');
      const r = await get('s.test', '/small.bin', '-H', `Range: bytes=${many}`);
      expect(r.status).to.equal(200);
      expect(r.body.equals(SMALL)).to.equal(true);
    });

    it('answers 416 with Content-Range: bytes */size when no range is satisfiable', async () => {
      const r = await get('s.test', '/small.bin', '-H', 'Range: bytes=5000-6000');
      expect(r.status).to.equal(416);
      expect(first(r, 'content-range')).to.equal('bytes */1000');
    });

    it('applies If-Range only while the ETag or date still matches', async () => {
      const full = await get('s.test', '/small.bin');
      const etag = first(full, 'etag') as string;
      const lm = first(full, 'last-modified') as string;
      const byTag = await get('s.test', '/small.bin', '-H', 'Range: bytes=0-3', '-H', `If-Range: ${etag}`);
      expect(byTag.status).to.equal(206);
      const byDate = await get('s.test', '/small.bin', '-H', 'Range: bytes=0-3', '-H', `If-Range: ${lm}`);
      expect(byDate.status).to.equal(206);
      const stale = await get('s.test', '/small.bin', '-H', 'Range: bytes=0-3', '-H', 'If-Range: "other"');
      expect(stale.status).to.equal(200);
      expect(stale.body.equals(SMALL)).to.equal(true);
    });

    it('ignores Range on HEAD and on a 304', async () => {
      const head = await get('s.test', '/small.bin', '-I', '-H', 'Range: bytes=0-3');
      expect(head.status).to.equal(200);
      const etag = first(head, 'etag') as string;
      const cond = await get('s.test', '/small.bin', '-H', 'Range: bytes=0-3', '-H', `If-None-Match: ${etag}`);
      expect(cond.status).to.equal(304);
    });
  });

  describe('conditional requests', () => {
    it('answers If-None-Match and If-Modified-Since with 304 and no body', async () => {
      const r = await get('s.test', '/page.html');
      const etag = first(r, 'etag') as string;
      const inm = await get('s.test', '/page.html', '-H', `If-None-Match: "x", W/${etag}`);
      expect(inm.status).to.equal(304);
      expect(first(inm, 'etag')).to.equal(etag);
      expect(inm.body.length).to.equal(0);
      expect(first(inm, 'content-length')).to.equal(undefined);
      const ims = await get('s.test', '/page.html', '-H', `If-Modified-Since: ${first(r, 'last-modified')}`, '--http2');
      expect(ims.status).to.equal(304);
      // RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since.
      const both = await get('s.test', '/page.html', '-H', 'If-None-Match: "x"', '-H', `If-Modified-Since: ${first(r, 'last-modified')}`);
      expect(both.status).to.equal(200);
    });

    it('answers a failed If-Match or If-Unmodified-Since with 412', async () => {
      const r = await get('s.test', '/page.html');
      const etag = first(r, 'etag') as string;
      expect((await get('s.test', '/page.html', '-H', 'If-Match: "nope"')).status).to.equal(412);
      expect((await get('s.test', '/page.html', '-H', `If-Match: W/${etag}`)).status).to.equal(412);
      expect((await get('s.test', '/page.html', '-H', `If-Match: ${etag}`)).status).to.equal(200);
      expect((await get('s.test', '/page.html', '-H', 'If-Unmodified-Since: Thu, 01 Jan 1998 00:00:00 GMT')).status).to.equal(412);
    });
  });

  describe('precompressed files', () => {
    it('prefers br, falls back to gzip, honours q=0, and always sends Vary', async () => {
      const br = await get('s.test', '/app.js', '-H', 'Accept-Encoding: gzip, br');
      expect(first(br, 'content-encoding')).to.equal('br');
      expect(zlib.brotliDecompressSync(br.body).equals(JS)).to.equal(true);
      expect(first(br, 'content-type')).to.equal('text/javascript; charset=utf-8');
      expect(first(br, 'vary')).to.equal('Accept-Encoding');
      const gz = await get('s.test', '/app.js', '-H', 'Accept-Encoding: gzip, br;q=0', '--http2');
      expect(first(gz, 'content-encoding')).to.equal('gzip');
      expect(zlib.gunzipSync(gz.body).equals(JS)).to.equal(true);
      const qGz = await get('s.test', '/app.js', '-H', 'Accept-Encoding: br;q=0.5, gzip;q=0.8');
      expect(first(qGz, 'content-encoding')).to.equal('gzip');
      const plain = await get('s.test', '/app.js', '-H', 'Accept-Encoding: identity');
      expect(first(plain, 'content-encoding')).to.equal(undefined);
      expect(first(plain, 'vary')).to.equal('Accept-Encoding');
      expect(plain.body.equals(JS)).to.equal(true);
      expect(new Set([first(br, 'etag'), first(gz, 'etag'), first(plain, 'etag')]).size).to.equal(3);
      // A file with no encoded sibling does not vary.
      expect(first(await get('s.test', '/page.html', '-H', 'Accept-Encoding: br'), 'vary')).to.equal(undefined);
    });

    it('applies Range and If-None-Match to the encoded file', async () => {
      const encoded = fs.readFileSync(path.join(www, 'app.js.br'));
      const r = await get('s.test', '/app.js', '-H', 'Accept-Encoding: br', '-H', 'Range: bytes=0-9');
      expect(r.status).to.equal(206);
      expect(first(r, 'content-encoding')).to.equal('br');
      expect(first(r, 'content-range')).to.equal(`bytes 0-9/${encoded.length}`);
      expect(r.body.equals(encoded.subarray(0, 10))).to.equal(true);
      const again = await get('s.test', '/app.js', '-H', 'Accept-Encoding: br', '-H', `If-None-Match: ${first(r, 'etag')}`);
      expect(again.status).to.equal(304);
      const identity = await get('s.test', '/app.js', '-H', `If-None-Match: ${first(r, 'etag')}`);
      expect(identity.status).to.equal(200);
      // Several ranges of an encoded file: no per-part Content-Encoding exists, so the whole file.
      const multi = await get('s.test', '/app.js', '-H', 'Accept-Encoding: br', '-H', 'Range: bytes=0-1,-2');
      expect(encoded.length).to.be.greaterThan(200);
      expect(multi.status).to.equal(200);
      expect(multi.body.equals(encoded)).to.equal(true);
    });
  });

  describe('no way out of the root', () => {
    for (const target of [
      '/../outside/secret.txt',
      '/%2e%2e/outside/secret.txt',
      '/dir/%2E%2E/%2e%2e/outside/secret.txt',
      '/..%2foutside/secret.txt',
      '/%2e%2e%2foutside%2fsecret.txt',
      '/dir/..%5c..%5coutside/secret.txt',
      '/..\\outside\\secret.txt',
      '/%00/../small.bin',
      '/%c0%ae%c0%ae/outside/secret.txt',
      '/%252e%252e/outside/secret.txt',
      '/%u002e%u002e/outside/secret.txt',
      '//..//outside//secret.txt',
      '/./../outside/secret.txt',
    ]) {
      it(`never serves the outside file for ${target}`, async () => {
        const r = await get('s.test', target, '--path-as-is');
        expect(r.status).to.be.oneOf([400, 403, 404]);
        expect(r.body.toString()).not.to.contain('outside the root');
      });
    }

    it('refuses symlinks that leave the root, serves those inside, and follows all with symlinks: follow', async () => {
      expect((await get('s.test', '/link-out.txt')).status).to.equal(403);
      expect((await get('s.test', '/linkdir/secret.txt')).status).to.equal(403);
      expect((await get('s.test', '/link-in.html')).body.toString()).to.equal('<p>page</p>\n');
      expect((await get('follow.test', '/link-out.txt')).body.toString()).to.equal('outside the root\n');
      expect((await get('refuse.test', '/link-in.html')).status).to.equal(403);
      expect((await get('refuse.test', '/page.html')).status).to.equal(200);
    });

    it('hides dotfiles except /.well-known/', async () => {
      expect((await get('s.test', '/.env')).status).to.equal(404);
      expect((await get('s.test', '/.git/config')).status).to.equal(404);
      expect((await get('s.test', '/.well-known/security.txt')).status).to.equal(200);
    });
  });

  describe('tryFiles', () => {
    it('$uri/ finds a directory without its slash as nginx: 301 to the slash, then its index', async () => {
      const r = await get('spa.test', '/dir?x=1');
      expect(r.status).to.equal(301);
      expect(r.headers['location']).to.match(/^(?:http:\/\/spa\.test(?::\d+)?)?\/dir\/\?x=1$/);
      const index = await get('spa.test', '/dir/');
      expect(index.status).to.equal(200);
      expect(index.body.toString()).to.equal('<p>dir index</p>\n');
    });

    it('falls back to /index.html for client-side routes (SPA), and serves files that exist', async () => {
      const r = await get('spa.test', '/app/settings/42?tab=1');
      expect(r.status).to.equal(200);
      expect(r.body.toString()).to.equal('<p>spa index</p>\n');
      expect((await get('spa.test', '/page.html')).body.toString()).to.equal('<p>page</p>\n');
    });

    it('an item written without a final "/" never finds a directory: / and /dir/ go to the fallback', async () => {
      // ngx_http_try_files_handler: `of.is_dir != test_dir` skips the item.
      expect((await get('tf.test', '/')).status).to.equal(404);
      expect((await get('tf.test', '/dir/')).status).to.equal(404);
      expect((await get('tf.test', '/dir/index.html')).status).to.equal(200);
    });

    it('=404 and =410 answer the status when no item is found', async () => {
      expect((await get('tf.test', '/missing.html')).status).to.equal(404);
      expect((await get('tf.test', '/page.html')).status).to.equal(200);
      // A fixed item rewrites $uri: every /pages/* is page.html.
      expect((await get('tf.test', '/pages/anything')).body.toString()).to.equal('<p>page</p>\n');
      fs.renameSync(path.join(www, 'page.html'), path.join(www, 'page.html.moved'));
      try {
        await new Promise((r) => setTimeout(r, 1100));
        expect((await get('tf.test', '/pages/other')).status).to.equal(410);
      } finally {
        fs.renameSync(path.join(www, 'page.html.moved'), path.join(www, 'page.html'));
      }
    });

    it('stops an internal redirect loop with 500, as nginx does after 10 URI changes', async () => {
      expect((await get('loop.test', '/missing')).status).to.equal(500);
      expect((await get('loop.test', '/small.bin')).status).to.equal(200);
      expect(gh.peer.output()).to.contain('rewrite or internal redirection cycle');
    });

    it('@name hands a missing file to a proxy route with the URI unchanged', async () => {
      const r = await get('tf.test', '/api/users?id=7');
      expect(r.status).to.equal(200);
      expect(JSON.parse(r.body.toString()).url).to.equal('/api/users?id=7');
      fs.mkdirSync(path.join(www, 'api'), { recursive: true });
      fs.writeFileSync(path.join(www, 'api', 'static.json'), '{"static":true}');
      expect((await get('tf.test', '/api/static.json')).body.toString()).to.equal('{"static":true}');
    });
  });
});
