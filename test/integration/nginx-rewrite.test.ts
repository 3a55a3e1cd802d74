// issue 17: nginx's rewrite and map modules, differential: the same rewrite/return/set/if/map
// configuration in nginx 1.22 and in gatehouse YAML, the same requests to both, the same answers.
// Where gatehouse deliberately differs (a rewritten URI is normalised before the location
// search; a decoded CR LF never reaches a header), the test says so and checks gatehouse alone.
import fs from 'node:fs';
import { expect } from 'chai';
import WebSocket from 'ws';
import { expectSame, startDifferential, type Answer, type Differential, type PairRequest, type SameOptions } from '../helpers/differential.js';

/** nginx makes a relative Location absolute (absolute_redirect); gatehouse sends it as written. */
function location(a: Answer): string | undefined {
  return a.headers.location?.replace(/^http:\/\/a\.test:\d+/, '');
}

async function same(pair: Differential, req: PairRequest, o: SameOptions & { location?: boolean } = {}): Promise<{ nginx: Answer; gatehouse: Answer }> {
  const { nginx, gatehouse } = await pair.both(req);
  const { location: loc, ...rest } = o;
  expectSame(nginx, gatehouse, rest);
  if (loc) expect(location(gatehouse), `Location for ${req.path}`).to.equal(location(nginx));
  return { nginx, gatehouse };
}

const URL_ONLY: SameOptions = { backend: ['url', 'method'] };

describe('differential rewrite: flags, last/break, the 10-cycle limit, query rules, server level (integration)', function () {
  this.timeout(60_000);
  let pair: Differential;

  before(async () => {
    pair = await startDifferential({
      // The site list has a file test: every request of this block goes through the asynchronous path.
      files: { 'www/static/a.txt': 'static a\n', 'www/brk/b.txt': 'brk b\n', 'www/block/gone/x': 'x' },
      nginx: ({ port, backend, dir }) => `server {
        listen 127.0.0.1:${port}; server_name a.test;
        rewrite ^/srv/old/(.*)$ /api/srv-$1;
        rewrite ^/srv/gone$ /api/elsewhere permanent;
        rewrite ^/srv/last/(.*)$ /api/last-$1 last;
        if ($http_x_block) { return 403 "blocked by server: $http_x_block\\n"; }
        set $srvtag from-server;
        if (-e ${dir}/www/block$uri) { return 410 "gone: $uri\\n"; }
        if ($http_x_srv ~ ^t-(.+)$) { set $srvtag "captured-$1"; }
        location /tag/ { return 200 "tag=$srvtag uri=$uri\\n"; }
        location /keep/ { set $kept "from-keep"; rewrite ^/keep/(.*)$ /kept/$1 last; }
        location /kept/ { return 200 "kept=$kept uri=$uri args=$args\\n"; }
        location /sch/ { rewrite ^/sch/(.*)$ $scheme://$host/x/$1; }
        location /meth/ { if ($request_method = POST) { return 405; } return 200 "method ok\\n"; }
        location /api/ { proxy_pass ${backend}; }
        location /flags/ {
          rewrite ^/flags/last/(.*)$ /api/l-$1 last;
          rewrite ^/flags/break/(.*)$ /api/b-$1 break;
          rewrite ^/flags/redirect/(.*)$ /x/$1 redirect;
          rewrite ^/flags/permanent/(.*)$ /x/$1 permanent;
          rewrite ^/flags/abs/(.*)$ https://example.com/$1;
          rewrite ^/flags/absperm/(.*)$ https://example.com/$1 permanent;
          rewrite ^/flags/none/(.*)$ /flags/chain/$1;
          rewrite ^/flags/chain/(.*)$ /api/chained-$1;
          proxy_pass ${backend};
        }
        location /loop/ { rewrite ^/loop/(.*)$ /loop/$1 last; }
        location /hop/ { rewrite ^/hop/(\\d)$ /hop2/$1 last; }
        location /hop2/ { rewrite ^/hop2/(\\d)$ /api/hopped-$1 last; }
        location /q/ {
          rewrite ^/q/keep/(.*)$ /api/keep?x=$1 last;
          rewrite ^/q/drop/(.*)$ /api/drop?x=$1? last;
          rewrite ^/q/plain/(.*)$ /api/plain-$1 last;
          rewrite ^/q/none/(.*)$ /api/none? last;
          rewrite ^/q/redir/(.*)$ /api/r?y=$1 redirect;
          rewrite ^/q/redirplain/(.*)$ /api/$1 redirect;
          rewrite ^/q/redirdrop/(.*)$ /api/$1? redirect;
          rewrite ^/q/absargs/(.*)$ https://example.com/s?q=$1;
        }
        location /brk/ { root ${dir}/www; rewrite ^/brk/x/(.*)$ /static/$1 break; }
        location /lst/ { root ${dir}/www; rewrite ^/lst/(.*)$ /static/$1 last; }
        location /static/ { return 200 "static location: $uri\\n"; }
        location ~ ^/cap/([a-z]+)/(\\d+)$ { rewrite ^ /api/cap-$1-$2 last; }
        location /nomatch/ { rewrite ^/nomatch/zzz /api/never last; return 200 "kept: $uri\\n"; }
        location /nl/ { rewrite ^/nl/(.*)$ https://example.com/$1 redirect; }
        location /bp/ { rewrite ^/bp/(.*)$ /other/$1 break; proxy_pass ${backend}/base/; }
        location /j/ { rewrite ^/j/([^/]*)-([^/]*)$ /api/$1$2/x last; }
        location /enc/ { rewrite ^/enc/(.*)$ /api/$1 last; }
        location /retnl/ { return 302 https://example.com$uri; }
      }`,
      gatehouse: ({ backend, dir }) => ({
        sites: [{
          hosts: 'a.test',
          tls: 'off',
          rewrite: [
            '^/srv/old/(.*)$ /api/srv-$1',
            '^/srv/gone$ /api/elsewhere permanent',
            { rewrite: '^/srv/last/(.*)$ /api/last-$1 last' },
            { if: '$http_x_block', then: [{ return: '403 blocked by server: $http_x_block\n' }] },
            { set: { $srvtag: 'from-server' } },
            { if: `-e ${dir}/www/block$uri`, then: [{ return: '410 gone: $uri\n' }] },
            { if: '$http_x_srv ~ ^t-(.+)$', then: [{ set: { $srvtag: 'captured-$1' } }] },
          ],
          routes: [
            { location: '/api/', proxy: backend },
            { location: '/tag/', rewrite: [{ return: '200 tag=$srvtag uri=$uri\n' }] },
            { location: '/keep/', rewrite: [{ set: { $kept: 'from-keep' } }, '^/keep/(.*)$ /kept/$1 last'] },
            { location: '/kept/', rewrite: [{ return: '200 kept=$kept uri=$uri args=$args\n' }] },
            { location: '/sch/', rewrite: ['^/sch/(.*)$ $scheme://$host/x/$1'] },
            { location: '/meth/', rewrite: [{ if: '$request_method = POST', then: [{ return: 405 }] }, { return: '200 method ok\n' }] },
            {
              location: '/flags/',
              proxy: backend,
              rewrite: [
                '^/flags/last/(.*)$ /api/l-$1 last',
                '^/flags/break/(.*)$ /api/b-$1 break',
                '^/flags/redirect/(.*)$ /x/$1 redirect',
                '^/flags/permanent/(.*)$ /x/$1 permanent',
                '^/flags/abs/(.*)$ https://example.com/$1',
                '^/flags/absperm/(.*)$ https://example.com/$1 permanent',
                '^/flags/none/(.*)$ /flags/chain/$1',
                '^/flags/chain/(.*)$ /api/chained-$1',
              ],
            },
            { location: '/loop/', rewrite: ['^/loop/(.*)$ /loop/$1 last'] },
            { location: '/hop/', rewrite: ['^/hop/(\\d)$ /hop2/$1 last'] },
            { location: '/hop2/', rewrite: ['^/hop2/(\\d)$ /api/hopped-$1 last'] },
            {
              location: '/q/',
              rewrite: [
                '^/q/keep/(.*)$ /api/keep?x=$1 last',
                '^/q/drop/(.*)$ /api/drop?x=$1? last',
                '^/q/plain/(.*)$ /api/plain-$1 last',
                '^/q/none/(.*)$ /api/none? last',
                '^/q/redir/(.*)$ /api/r?y=$1 redirect',
                '^/q/redirplain/(.*)$ /api/$1 redirect',
                '^/q/redirdrop/(.*)$ /api/$1? redirect',
                '^/q/absargs/(.*)$ https://example.com/s?q=$1',
              ],
            },
            { location: '/brk/', root: `${dir}/www`, rewrite: ['^/brk/x/(.*)$ /static/$1 break'] },
            { location: '/lst/', root: `${dir}/www`, rewrite: ['^/lst/(.*)$ /static/$1 last'] },
            { location: '/static/', return: '200 static location: $uri\n' },
            { location: '~ ^/cap/([a-z]+)/(\\d+)$', rewrite: ['^ /api/cap-$1-$2 last'] },
            { location: '/nomatch/', rewrite: ['^/nomatch/zzz /api/never last', { return: '200 kept: $uri\n' }] },
            { location: '/nl/', rewrite: ['^/nl/(.*)$ https://example.com/$1 redirect'] },
            { location: '/bp/', proxy: `${backend}/base/`, rewrite: ['^/bp/(.*)$ /other/$1 break'] },
            { location: '/j/', rewrite: ['^/j/([^/]*)-([^/]*)$ /api/$1$2/x last'] },
            { location: '/enc/', rewrite: ['^/enc/(.*)$ /api/$1 last'] },
            { location: '/retnl/', rewrite: [{ return: '302 https://example.com$uri' }] },
          ],
        }],
      }),
    });
  });
  after(async () => pair?.close());

  it('last searches the locations again with the new URI; the backend sees it', async () => {
    const { nginx } = await same(pair, { path: '/flags/last/one' }, URL_ONLY);
    expect(nginx.backend?.url).to.equal('/api/l-one');
    await same(pair, { path: '/flags/last/two?a=1&b=2' }, URL_ONLY);
  });

  it('break stays in the location: its proxy sends the rewritten URI', async () => {
    const { nginx } = await same(pair, { path: '/flags/break/one' }, URL_ONLY);
    expect(nginx.backend?.url).to.equal('/api/b-one');
    await same(pair, { path: '/flags/break/x%20y?k=v' }, URL_ONLY);
  });

  it('break does not search again (static file under the rewritten URI), last does', async () => {
    await same(pair, { path: '/brk/x/a.txt' }, { body: true });
    await same(pair, { path: '/brk/x/missing.txt' });
    const { nginx } = await same(pair, { path: '/lst/a.txt' }, { body: true });
    expect(nginx.body).to.equal('static location: /static/a.txt\n');
  });

  it('redirect and permanent answer 302 and 301 with the rewritten Location', async () => {
    for (const path of ['/flags/redirect/a', '/flags/permanent/b', '/flags/redirect/c?z=1']) {
      await same(pair, { path }, { location: true });
    }
  });

  it('a replacement starting with https:// redirects (302, or 301 with permanent) and stops', async () => {
    await same(pair, { path: '/flags/abs/p/q' }, { location: true });
    await same(pair, { path: '/flags/absperm/p?x=1' }, { location: true });
  });

  it('rewrites without a flag go on to the next rewrite, then the location search runs again', async () => {
    const { nginx } = await same(pair, { path: '/flags/none/z' }, URL_ONLY);
    expect(nginx.backend?.url).to.equal('/api/chained-z');
  });

  it('a last loop ends in 500 after 10 URI changes; 2 hops are fine', async () => {
    const { nginx } = await same(pair, { path: '/loop/x' });
    expect(nginx.status).to.equal(500);
    await same(pair, { path: '/hop/7' }, URL_ONLY);
  });

  it('query rules: "?" keeps its own args and appends the request\'s; a trailing "?" drops them', async () => {
    await same(pair, { path: '/q/keep/1?a=b' }, URL_ONLY);
    await same(pair, { path: '/q/keep/1' }, URL_ONLY);
    await same(pair, { path: '/q/drop/2?a=b' }, URL_ONLY);
    await same(pair, { path: '/q/plain/3?a=b&c=d' }, URL_ONLY);
    await same(pair, { path: '/q/none/4?a=b' }, URL_ONLY);
    await same(pair, { path: '/q/keep/a%20b%26c?z=1' }, URL_ONLY);
    await same(pair, { path: '/q/keep/a+b?z=1' }, URL_ONLY);
  });

  it('query rules in redirects', async () => {
    await same(pair, { path: '/q/redir/5?a=b' }, { location: true });
    await same(pair, { path: '/q/redirplain/6?a=b' }, { location: true });
    await same(pair, { path: '/q/redirdrop/7?a=b' }, { location: true });
    await same(pair, { path: '/q/absargs/x%26y?a=b' }, { location: true });
  });

  it('server-level rewrites run before the location search; a return there answers before any location', async () => {
    await same(pair, { path: '/srv/old/thing?v=1' }, URL_ONLY);
    await same(pair, { path: '/srv/gone' }, { location: true });
    await same(pair, { path: '/srv/last/z' }, URL_ONLY);
    await same(pair, { path: '/no-such-location', headers: { 'x-block': 'yes' } }, { body: true });
    await same(pair, { path: '/api/x', headers: { 'x-block': 'please' } }, { body: true });
  });

  it('captures: a rewrite regex without groups clears the location\'s captures, as in nginx 1.22', async () => {
    const { nginx } = await same(pair, { path: '/cap/abc/42' }, URL_ONLY);
    expect(nginx.backend?.url).to.equal('/api/cap--');
    await same(pair, { path: '/cap/zz/7?k=1' }, URL_ONLY);
  });

  it('a rewrite that does not match changes nothing', async () => {
    await same(pair, { path: '/nomatch/abc?x=1' }, { body: true });
  });

  it('an encoded CR LF in a capture stays escaped in the redirect Location (no header injection)', async () => {
    const { nginx, gatehouse } = await same(pair, { path: '/nl/a%0d%0aSet-Cookie:%20x=1' }, { location: true });
    expect(gatehouse.headers['set-cookie']).to.equal(undefined);
    expect(nginx.headers['set-cookie']).to.equal(undefined);
    await same(pair, { path: '/nl/%E2%82%AC?x=%0d' }, { location: true });
  });

  it('server-level set and if with captures feed every location; $scheme redirects; if on the method', async () => {
    await same(pair, { path: '/tag/a' }, { body: true });
    await same(pair, { path: '/tag/b', headers: { 'x-srv': 't-blue' } }, { body: true });
    await same(pair, { path: '/srv/old/z', headers: { 'x-srv': 'nope' } }, URL_ONLY);
    await same(pair, { path: '/sch/p?q=1' }, { location: true });
    await same(pair, { path: '/meth/x', method: 'POST', body: '' }, {});
    await same(pair, { path: '/meth/x' }, { body: true });
    await same(pair, { path: '/flags/redirect/a%20b' }, { location: true });
  });

  it('a server-level file test (every request here waits for its stat) answers before the location search', async () => {
    await same(pair, { path: '/gone/x' }, { body: true });
    await same(pair, { path: '/gone' }, { body: true });
    await same(pair, { path: '/gone/y' });
  });

  it('variables set before a last survive into the next location; HEAD gets no body', async () => {
    await same(pair, { path: '/keep/a?b=c' }, { body: true });
    await same(pair, { path: '/kept/direct' }, { body: true });
    await same(pair, { path: '/keep/a', method: 'HEAD' }, { body: true, headers: ['content-length'] });
  });

  it('break in a proxy route with a URI part', async () => {
    await same(pair, { path: '/bp/z?k=1' }, URL_ONLY);
  });

  it('decoded text from a capture is escaped again on its way to the backend', async () => {
    for (const path of ['/enc/a%3Fb', '/enc/a%252F', '/enc/sp%20ace?x=1', '/enc/%E2%82%AC', '/enc/a%23b', '/enc/a%2Fb%2F..%2Fc']) {
      await same(pair, { path }, URL_ONLY);
    }
  });

  it('attack: encoded dot segments are resolved (or refused) before any regex sees them, on both', async () => {
    for (const path of ['/%2e%2e/etc/passwd', '/enc/%2e%2e/%2e%2e/etc/passwd', '/enc/x/%2e%2e/y', '/enc/x%2F%2e%2e%2Fy']) {
      await same(pair, { path }, URL_ONLY);
    }
  });

  it('attack: captures that form ".." are resolved before the location search (nginx would proxy /api/../x)', async () => {
    const before = pair.backend.seen.length;
    const gh = await pair.one('gatehouse', { path: '/j/.-.' });
    const ng = await pair.one('nginx', { path: '/j/.-.' });
    // nginx matched /api/ on the unresolved URI and sent the dots to the backend.
    expect(ng.backend?.url).to.equal('/api/../x');
    // gatehouse resolved /api/../x to /x, which no location here serves: nothing reached the backend.
    expect(gh.status).to.equal(404);
    expect(pair.backend.seen.slice(before).filter((r) => r.url.includes('..'))).to.have.length(1);
  });

  it('attack: a decoded CR LF in $uri never splits a return\'s Location', async () => {
    const gh = await pair.one('gatehouse', { path: '/retnl/a%0d%0aSet-Cookie:%20a=1' });
    expect(gh.status).to.equal(302);
    expect(gh.headers['set-cookie']).to.equal(undefined);
    expect(gh.headers.location).to.equal('https://example.com/retnl/a%0D%0ASet-Cookie:%20a=1');
  });
});

describe('differential rewrite: if, set, return, maps (integration)', function () {
  this.timeout(60_000);
  let pair: Differential;

  before(async () => {
    pair = await startDifferential({
      files: { 'www/files/here.txt': 'x', 'www/files/sub/index.html': 'i', 'www/files/run.sh': '#!/bin/sh\n' },
      nginx: ({ port, backend, dir }) => `
      map $http_upgrade $connection_upgrade { default upgrade; '' close; }
      map $http_x_kind $kind { default other; foo is-foo; ~^ba(r|z)$ "ba-$1"; ~*^QU qu-ci; }
      map $http_x_host $zone { hostnames; default none; .example.com ex; *.test.org test; mail.* mail; a.example.com exact; }
      map $uri $section { default "-"; ~^/map/(?<sec>[a-z]+) "sec:$sec"; }
      server {
        listen 127.0.0.1:${port}; server_name a.test;
        location /if/ {
          set $who anon;
          if ($http_x_user) { set $who $http_x_user; }
          if ($arg_mode = admin) { return 200 "admin mode for $who\\n"; }
          if ($arg_mode != "") { return 200 "mode=$arg_mode who=$who\\n"; }
          if ($http_user_agent ~* (iphone|android)) { return 200 "mobile $1\\n"; }
          if ($http_user_agent ~ ^Bot-(\\d+)) { return 200 "bot $1 who=$who\\n"; }
          if ($http_user_agent !~* ^curl) { return 200 "not curl\\n"; }
          if ($http_x_zero) { return 200 "zero is true\\n"; }
          return 200 "fallthrough $who\\n";
        }
        location /files/ {
          root ${dir}/www;
          if (-f $request_filename) { return 200 "file\\n"; }
          if (-d $request_filename) { return 200 "dir\\n"; }
          if (!-e $request_filename) { return 200 "missing\\n"; }
          return 200 "other\\n";
        }
        location /x/ {
          root ${dir}/www;
          if (-x ${dir}/www/files/run.sh) { return 200 "exec\\n"; }
          return 200 "not exec\\n";
        }
        location /brk/ {
          set $a one;
          break;
          set $a two;
          return 200 "never\\n";
        }
        location /map/ { return 200 "kind=$kind zone=$zone up=$connection_upgrade section=$section\\n"; }
        location /ret/ { return 200 "uri=$uri args=$args ruri=$request_uri host=$host\\n"; }
        location = /ret301 { return 301 https://example.com$request_uri; }
        location = /ret302 { return https://example.com/plain; }
        location = /ret404 { return 404 "nope: $uri\\n"; }
        location = /ret403 { return 403; }
        location = /ret204 { return 204; }
        location /ws/ {
          proxy_pass ${backend};
          proxy_http_version 1.1;
          proxy_set_header Upgrade $http_upgrade;
          proxy_set_header Connection $connection_upgrade;
        }
        location ~ ^/named/(?<word>[a-z]+)/(?<num>\\d+)$ { return 200 "word=$word num=$num 1=$1\\n"; }
        location /args/ { set $args "x=1&$args"; proxy_pass ${backend}; }
        location /argsuri/ { set $args "x=2"; proxy_pass ${backend}/e/; }
        location /argsret/ { set $args "x=3"; return 200 "args=$args is=$is_args arg_x=$arg_x\\n"; }
        location /setproxy/ {
          set $tag "t-$arg_t";
          proxy_pass ${backend};
          proxy_set_header X-Tag $tag;
        }
      }`,
      gatehouse: ({ backend, dir }) => ({
        maps: {
          $connection_upgrade: { from: '$http_upgrade', default: 'upgrade', values: { '': 'close' } },
          $kind: { from: '$http_x_kind', default: 'other', values: { foo: 'is-foo', '~^ba(r|z)$': 'ba-$1', '~*^QU': 'qu-ci' } },
          $zone: { from: '$http_x_host', hostnames: true, default: 'none', values: { '.example.com': 'ex', '*.test.org': 'test', 'mail.*': 'mail', 'a.example.com': 'exact' } },
          $section: { from: '$uri', default: '-', values: { '~^/map/(?<sec>[a-z]+)': 'sec:$sec' } },
        },
        sites: [{
          hosts: 'a.test',
          tls: 'off',
          routes: [
            {
              location: '/if/',
              rewrite: [
                { set: { $who: 'anon' } },
                { if: '$http_x_user', then: [{ set: { $who: '$http_x_user' } }] },
                { if: '$arg_mode = admin', then: [{ return: '200 admin mode for $who\n' }] },
                { if: '($arg_mode != "")', then: [{ return: '200 mode=$arg_mode who=$who\n' }] },
                { if: '$http_user_agent ~* (iphone|android)', then: [{ return: '200 mobile $1\n' }] },
                { if: '$http_user_agent ~ ^Bot-(\\d+)', then: [{ return: '200 bot $1 who=$who\n' }] },
                { if: '$http_user_agent !~* ^curl', then: [{ return: '200 not curl\n' }] },
                { if: '$http_x_zero', then: [{ return: '200 zero is true\n' }] },
                { return: '200 fallthrough $who\n' },
              ],
            },
            {
              location: '/files/',
              root: `${dir}/www`,
              rewrite: [
                { if: '-f $request_filename', then: [{ return: '200 file\n' }] },
                { if: '-d $request_filename', then: [{ return: '200 dir\n' }] },
                { if: '!-e $request_filename', then: [{ return: '200 missing\n' }] },
                { return: '200 other\n' },
              ],
            },
            {
              location: '/x/',
              root: `${dir}/www`,
              rewrite: [{ if: `-x ${dir}/www/files/run.sh`, then: [{ return: '200 exec\n' }] }, { return: '200 not exec\n' }],
            },
            { location: '/brk/', rewrite: [{ set: { $a: 'one' } }, { break: true }, { set: { $a: 'two' } }, { return: '200 never\n' }] },
            { location: '/map/', rewrite: [{ return: '200 kind=$kind zone=$zone up=$connection_upgrade section=$section\n' }] },
            { location: '/ret/', rewrite: [{ return: '200 uri=$uri args=$args ruri=$request_uri host=$host\n' }] },
            { location: '= /ret301', rewrite: [{ return: '301 https://example.com$request_uri' }] },
            { location: '= /ret302', rewrite: [{ return: 'https://example.com/plain' }] },
            { location: '= /ret404', rewrite: [{ return: '404 nope: $uri\n' }] },
            { location: '= /ret403', rewrite: [{ return: 403 }] },
            { location: '= /ret204', rewrite: [{ return: 204 }] },
            {
              location: '/ws/',
              proxy: backend,
              headers: { request: { set: { Upgrade: '$http_upgrade', Connection: '$connection_upgrade' } } },
            },
            { location: '~ ^/named/(?<word>[a-z]+)/(?<num>\\d+)$', rewrite: [{ return: '200 word=$word num=$num 1=$1\n' }] },
            { location: '/args/', proxy: backend, rewrite: [{ set: { $args: 'x=1&$args' } }] },
            { location: '/argsuri/', proxy: `${backend}/e/`, rewrite: [{ set: { $args: 'x=2' } }] },
            { location: '/argsret/', rewrite: [{ set: { $args: 'x=3' } }, { return: '200 args=$args is=$is_args arg_x=$arg_x\n' }] },
            { location: '/setproxy/', proxy: backend, rewrite: [{ set: { $tag: 't-$arg_t' } }], headers: { request: { set: { 'X-Tag': '$tag' } } } },
          ],
        }],
      }),
    });
    fs.chmodSync(`${pair.dir}/www/files/run.sh`, 0o755);
  });
  after(async () => pair?.close());

  it('if on a variable: true unless empty or "0"; set inside if', async () => {
    await same(pair, { path: '/if/a', headers: { 'user-agent': 'curl/8' } }, { body: true });
    await same(pair, { path: '/if/a', headers: { 'user-agent': 'curl/8', 'x-user': 'ann' } }, { body: true });
    await same(pair, { path: '/if/a', headers: { 'user-agent': 'curl/8', 'x-zero': '0' } }, { body: true });
    await same(pair, { path: '/if/a', headers: { 'user-agent': 'curl/8', 'x-zero': '00' } }, { body: true });
  });

  it('if with = and !=', async () => {
    await same(pair, { path: '/if/a?mode=admin', headers: { 'x-user': 'bob' } }, { body: true });
    await same(pair, { path: '/if/a?mode=other' }, { body: true });
    await same(pair, { path: '/if/a?mode=Admin' }, { body: true });
  });

  it('if with ~, ~* and !~*, and the regex captures as $1', async () => {
    await same(pair, { path: '/if/a', headers: { 'user-agent': 'Mozilla (iPhone)' } }, { body: true });
    await same(pair, { path: '/if/a', headers: { 'user-agent': 'x ANDROID y' } }, { body: true });
    await same(pair, { path: '/if/a', headers: { 'user-agent': 'Bot-42' } }, { body: true });
    await same(pair, { path: '/if/a', headers: { 'user-agent': 'bot-42' } }, { body: true });
    await same(pair, { path: '/if/a', headers: { 'user-agent': 'CURL' } }, { body: true });
  });

  it('if with -f, -d, !-e on $request_filename, and -x', async () => {
    for (const path of ['/files/here.txt', '/files/sub', '/files/sub/', '/files/nothing', '/files/here.txt/x']) {
      await same(pair, { path }, { body: true });
    }
    await same(pair, { path: '/x/' }, { body: true });
  });

  it('break stops the rewrite steps; the route goes on (404: nothing else answers)', async () => {
    await same(pair, { path: '/brk/z' });
  });

  it('maps: exact, regex with captures (case-sensitive and not), default', async () => {
    for (const kind of ['foo', 'FOO', 'bar', 'baz', 'bax', 'quux', 'QUUX', '']) {
      await same(pair, { path: '/map/k', headers: kind ? { 'x-kind': kind } : {} }, { body: true });
    }
  });

  it('maps with hostnames: .example.com, *.test.org, mail.*, exact before wildcard, trailing dot', async () => {
    for (const host of ['example.com', 'www.example.com', 'a.example.com', 'x.test.org', 'test.org', 'mail.foo', 'mail', 'other.net', 'WWW.Example.COM.']) {
      await same(pair, { path: '/map/h', headers: { 'x-host': host } }, { body: true });
    }
  });

  it('a map with named captures in the value', async () => {
    await same(pair, { path: '/map/abc' }, { body: true });
  });

  it('$connection_upgrade in proxy request headers', async () => {
    await same(pair, { path: '/ws/plain' }, { backend: ['url', 'headers.connection', 'headers.upgrade'] });
  });

  it('$connection_upgrade carries a WebSocket through both', async () => {
    const echo = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/chat`, { headers: { host: 'a.test' } });
        ws.once('open', () => ws.send('hello'));
        ws.once('message', (d) => {
          resolve(String(d));
          ws.close();
        });
        ws.once('error', reject);
      });
    expect(await echo(pair.ghPort)).to.equal(await echo(pair.nginxPort));
  });

  it('named captures of a location regex are variables', async () => {
    await same(pair, { path: '/named/abc/12' }, { body: true });
  });

  it('set $args changes the args the backend gets and $args/$arg_* read', async () => {
    await same(pair, { path: '/args/z?q=2' }, URL_ONLY);
    await same(pair, { path: '/args/z' }, URL_ONLY);
    await same(pair, { path: '/argsuri/z?q=2' }, URL_ONLY);
    await same(pair, { path: '/argsret/z?q=2' }, { body: true });
  });

  it('set feeds a proxied request header', async () => {
    await same(pair, { path: '/setproxy/a?t=9' }, { backend: ['url', 'headers.x-tag'] });
  });

  it('return with variables and a body; redirects; codes without text', async () => {
    await same(pair, { path: '/ret/a%20b?x=1&y=2' }, { body: true });
    await same(pair, { path: '/ret301?q=1' }, { location: true });
    await same(pair, { path: '/ret302' }, { location: true });
    await same(pair, { path: '/ret404' }, { body: true });
    await same(pair, { path: '/ret403' });
    await same(pair, { path: '/ret204' }, { body: true });
  });
});
