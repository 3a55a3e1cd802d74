// The parser's verdict next to `nginx -t` on the same files: the same message, in the same file, on
// the same line (nginx prints no column). Each snippet follows `events {}` in a minimal main config, and
// is valid nginx up to its error, so nginx stops at the same place for the same reason.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parseNginxFile } from '../../../../src/config/nginx/index.js';
import { ConfigError } from '../../../../src/config/types.js';
import { hasNginx, NGINX, nginxFiles, nginxTest, skipBecause, tmpdir, type NginxVerdict } from './helpers.js';

type Case = { name: string; main: string; files?: Record<string, string>; valid?: true };

const CASES: Case[] = [
  { name: 'an unclosed block', main: 'http {\n  server {\n    listen 8080;\n' },
  { name: 'one `}` too many', main: 'http { server { listen 8080; } } }' },
  { name: 'a lone `;`', main: 'http { server { listen 8080; ; } }' },
  { name: 'a lone `{`', main: 'http { server { listen 8080;\n  { } } }' },
  { name: 'a `}` after arguments', main: 'http { server { listen 8080 }' },
  { name: 'an unterminated double quote', main: 'http { server { listen 8080;\n  location / { return 200 "ok; } } }\n' },
  { name: 'an unterminated single quote', main: "http { server { listen 8080; return 200 'ok; } }" },
  { name: 'a word glued to a closing quote', main: 'http { server { listen 8080; return 200 "a"b; } }' },
  { name: 'a comment glued to a closing quote', main: 'http { server { listen 8080; return 200 "a"# c\n; } }' },
  { name: 'a 5000-byte word', main: `http { server { listen 8080; root /${'a'.repeat(5000)}; } }` },
  { name: 'a 5000-byte comment', main: `http {\n# ${'c'.repeat(5000)}\n}` },
  { name: 'an unterminated quote in a long file', main: `http {\n server { listen 8080; return 200 "${'x'.repeat(5000)}\n; } }` },
  { name: 'a missing include file', main: 'http {\n  include nope.conf;\n}' },
  { name: 'an include of a folder', main: 'http { include sub; }', files: { 'sub/.keep': '' } },
  { name: 'include with a block', main: 'http { include x.conf { } }', files: { 'x.conf': '' } },
  { name: 'include with a block holding a syntax error', main: 'http { include x.conf {\n ; } }', files: { 'x.conf': '' } },
  { name: 'include with two names', main: 'http { include a.conf b.conf; }' },
  { name: 'a block left open in an included file', main: 'http {\n  include open.conf;\n}', files: { 'open.conf': 'server {\n  listen 8080;\n' } },
  { name: 'a `}` closing the includer\'s block', main: 'http { server { include close.conf; } }', files: { 'close.conf': 'listen 8080;\n}\n' } },
  { name: 'an error deep in a glob include', main: 'http {\n  include conf.d/*.conf;\n}', files: { 'conf.d/a.conf': 'server { listen 8080; }\n', 'conf.d/b.conf': 'server {\n  listen 8081;\n  return 200 "x"y;\n}\n' } },
  { name: 'a block inside types', main: 'http {\n  types {\n    text/html html;\n    x { }\n  }\n}' },
  { name: 'a block inside map', main: 'http {\n  map $uri $x {\n    default 0;\n    /a { }\n  }\n}' },
  // Accepted by both.
  { valid: true, name: 'location /{ and } server { on one line', main: 'http { server { listen 8080; location /{ return 200 "${scheme}x"; } } server { listen 8081; } }' },
  { valid: true, name: 'CRLF, tabs and comments after arguments', main: 'http {\r\n\tserver {\r\n\t\tlisten\t8080; # the port\r\n\t\tlocation ~ "^/x{8}$" { return 204; }\r\n\t}\r\n}\r\n' },
  { valid: true, name: 'an empty glob match and a relative include', main: 'http { include nothing/*.conf; include site.conf; }', files: { 'site.conf': 'server { listen 8080; include fastcgi_params; }\n', 'fastcgi_params': 'fastcgi_param A b;\n' } },
  { valid: true, name: 'includes inside types and map, read as data', main: 'http { types { include t.inc; } map $uri $x { include m.inc; } }', files: { 't.inc': 'text/x-a a;\n', 'm.inc': 'default 0;\n/a 1;\n' } },
  { valid: true, name: 'escapes and if (... "x")', main: 'http { server { listen 8080; if ($request_uri ~ "^/a\\"b") { return 403; } add_header X \'it\\\'s\'; } }' },
];

function ours(file: string): NginxVerdict {
  try {
    parseNginxFile(file);
    return { ok: true };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const issue = err.issues[0];
    return { ok: false, message: issue?.message, file: issue?.pos.file, line: issue?.pos.line };
  }
}

describe('config/nginx parser against nginx -t', function () {
  before(function () {
    if (!hasNginx()) skipBecause(this, `${NGINX} is not installed: nothing to compare with`);
  });

  let dir: string;
  beforeEach(() => {
    dir = tmpdir();
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(c.name, () => {
      for (const [name, text] of Object.entries(c.files ?? {})) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), text);
      }
      const main = path.join(dir, 'nginx.conf');
      fs.writeFileSync(main, `events {}\n${c.main}`);
      const theirs = nginxTest(main);
      expect(theirs.ok, `nginx -t: ${theirs.message}`).to.equal(c.valid === true);
      const mine = ours(main);
      if (theirs.line === undefined) delete mine.line; // [crit] messages carry no position
      if (theirs.file === undefined) delete mine.file;
      expect(mine).to.deep.equal(theirs);
    });
  }

  it('reads included files in nginx\'s order: glob(3) byte order, dot files skipped, globbed folders (nginx -T)', () => {
    for (const n of ['b', 'a', 'B', 'a-1', '10', '9', '.hidden']) {
      fs.mkdirSync(path.join(dir, 'conf.d'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'conf.d', `${n}.conf`), `text/x-${n} x${n};\n`);
    }
    for (const s of ['one', 'two', 'Three']) {
      fs.mkdirSync(path.join(dir, 'sites', s), { recursive: true });
      fs.writeFileSync(path.join(dir, 'sites', s, 's.conf'), `text/x-${s} s${s};\n`);
    }
    // A relative name inside an included file resolves against the conf prefix, not the includer's folder.
    fs.appendFileSync(path.join(dir, 'sites/two/s.conf'), 'include extra/e.conf;\n');
    fs.mkdirSync(path.join(dir, 'extra'));
    fs.writeFileSync(path.join(dir, 'extra/e.conf'), 'text/x-e e;\n');
    const main = path.join(dir, 'nginx.conf');
    fs.writeFileSync(main, 'events {}\nhttp { types { include conf.d/*.conf; include sites/*/s.conf; include conf.d/[ab].conf; include none/*; } }\n');
    const theirs = nginxFiles(main);
    expect(theirs.length).to.equal(11);
    expect([...new Set(parseNginxFile(main).files)]).to.deep.equal(theirs);
  });

  it('resolves `..` after a symlinked folder as the kernel does, not lexically (nginx -T)', () => {
    fs.mkdirSync(path.join(dir, 'real/deep'), { recursive: true });
    fs.symlinkSync(path.join(dir, 'real/deep'), path.join(dir, 'link'));
    fs.writeFileSync(path.join(dir, 'real/r.conf'), 'text/x-r r;\n');
    fs.writeFileSync(path.join(dir, 'top.conf'), 'text/x-t t;\n');
    const main = path.join(dir, 'nginx.conf');
    fs.writeFileSync(main, 'events {}\nhttp { types { include link/../*.conf; include link/../r.conf; } }\n');
    const theirs = nginxFiles(main);
    expect(theirs).to.deep.equal([main, `${dir}/link/../r.conf`]);
    expect([...new Set(parseNginxFile(main).files)]).to.deep.equal(theirs);
  });

  it('differs on purpose only on a UTF-8 byte order mark, which gatehouse skips', () => {
    const main = path.join(dir, 'nginx.conf');
    fs.writeFileSync(main, '\uFEFFevents {}\n');
    expect(nginxTest(main).message).to.match(/^unknown directive/);
    expect(ours(main)).to.deep.equal({ ok: true });
  });
});
