// `include` as ngx_conf_include does it (conf prefix, glob(3), in any context), nginx's stock files when
// they are missing, and the bounds that keep a hostile config from hanging or exhausting the process.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { BUILTIN_DIR, parseNginx, parseNginxFile, type NginxParseOptions } from '../../../../src/config/nginx/index.js';
import { ConfigError, type ConfigIssue } from '../../../../src/config/types.js';
import { shape, skipBecause, tmpdir } from './helpers.js';

describe('config/nginx include', () => {
  let dir: string;
  let empty: string;
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  const main = (text: string, options: NginxParseOptions = {}) => parseNginxFile(write('nginx.conf', text), { stockDir: empty, ...options });
  const failure = (text: string, options: NginxParseOptions = {}): ConfigIssue => {
    try {
      main(text, options);
    } catch (err) {
      if (err instanceof ConfigError) return err.issues[0] as ConfigIssue;
      throw err;
    }
    return expect.fail('expected a ConfigError');
  };

  beforeEach(() => {
    dir = tmpdir();
    empty = tmpdir();
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(empty, { recursive: true, force: true });
  });

  it('expands in place, and resolves relative names against the main file\'s folder, not the includer\'s', () => {
    write('sites/a.conf', 'server {\n  include snippets/x.conf;\n}\n');
    write('snippets/x.conf', 'listen 8080;\n');
    write('sites/snippets/x.conf', 'listen 9999;\n');
    const r = main('user nobody;\ninclude sites/a.conf;\npid /run/x.pid;\n');
    expect(shape(r.directives)).to.deep.equal([['user', 'nobody'], ['server', [['listen', '8080']]], ['pid', '/run/x.pid']]);
    expect(r.directives[1]?.block?.[0]?.pos).to.deep.equal({ file: path.join(dir, 'snippets/x.conf'), line: 1, col: 1 });
    expect(r.files).to.deep.equal([path.join(dir, 'nginx.conf'), path.join(dir, 'sites/a.conf'), path.join(dir, 'snippets/x.conf')]);
    expect(r.includes.map((i) => [i.pattern, i.pos.line, i.files])).to.deep.equal([
      ['sites/a.conf', 2, [path.join(dir, 'sites/a.conf')]],
      ['snippets/x.conf', 2, [path.join(dir, 'snippets/x.conf')]],
    ]);
  });

  it('takes the conf prefix from the prefix option when given, and absolute names as they are', () => {
    const other = tmpdir();
    try {
      fs.writeFileSync(path.join(other, 'p.conf'), 'listen 1;\n');
      write('abs.conf', 'listen 2;\n');
      const r = main(`include p.conf;\ninclude ${path.join(dir, 'abs.conf')};\n`, { prefix: other });
      expect(shape(r.directives)).to.deep.equal([['listen', '1'], ['listen', '2']]);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('reads a glob\'s matches in glob(3) byte order, skips dot files, and takes no match as nothing', () => {
    for (const n of ['b', 'a', 'B', 'a-1', '10', '9', '.hidden']) write(`conf.d/${n}.conf`, `name ${n};\n`);
    write('conf.d/other.txt', 'name txt;\n');
    const r = main('include conf.d/*.conf;\ninclude none/*.conf;\ninclude conf.d/[ab].conf;\ninclude conf.d/?.conf;\n');
    expect(shape(r.directives).map((d) => d[1])).to.deep.equal(['10', '9', 'B', 'a-1', 'a', 'b', 'hidden', 'a', 'b', '9', 'B', 'a', 'b'].filter((n) => n !== 'hidden'));
    expect(r.includes[1]?.files).to.deep.equal([]);
  });

  it('globs in folder names too, and in any context (types, map, upstream, location, if)', () => {
    write('sites/one/site.conf', 'server { listen 1; }\n');
    write('sites/two/site.conf', 'server { listen 2; }\n');
    write('types.inc', 'text/x-a a;\n');
    write('map.inc', '~^/old /new;\n');
    write('up.inc', 'server 127.0.0.1:9000;\n');
    write('loc.inc', 'return 204;\n');
    const r = main(
      'include sites/*/site.conf;\ntypes { include types.inc; }\nmap $uri $to { default ""; include map.inc; }\n' +
        'upstream u { include up.inc; }\nserver { location / { if ($x) { include loc.inc; } } }\n',
    );
    expect(shape(r.directives)).to.deep.equal([
      ['server', [['listen', '1']]],
      ['server', [['listen', '2']]],
      ['types', [['text/x-a', 'a']]],
      ['map', '$uri', '$to', [['default', ''], ['~^/old', '/new']]],
      ['upstream', 'u', [['server', '127.0.0.1:9000']]],
      ['server', [['location', '/', [['if', '($x)', [['return', '204']]]]]]],
    ]);
  });

  it('reports a missing file at the including line, in the including file, with nginx\'s words', () => {
    write('sites/a.conf', '\n\n  include nope.conf;\n');
    const issue = failure('http {\n  include sites/a.conf;\n}\n');
    expect(issue.message).to.equal(`open() "${path.join(dir, 'nope.conf')}" failed (2: No such file or directory)`);
    expect(issue.pos).to.deep.equal({ file: path.join(dir, 'sites/a.conf'), line: 3, col: 3 });
  });

  it('keeps a missing include unexpanded, with a warning, when asked to', () => {
    const r = main('include h5bp/basic.conf;\nlisten 1;\n', { missingIncludes: 'keep' });
    expect(shape(r.directives)).to.deep.equal([['include', 'h5bp/basic.conf'], ['listen', '1']]);
    expect(r.warnings[0]?.message).to.match(/^open\(\) ".*h5bp\/basic.conf" failed \(2: No such file or directory\); the include is kept unexpanded$/);
    expect(shape(parseNginx('include x;', '/nowhere/a.conf', { expandIncludes: false }).directives)).to.deep.equal([['include', 'x']]);
  });

  it('reports include cycles at the including line, a glob that matches its own file included', () => {
    write('a.conf', 'include b.conf;\n');
    write('b.conf', 'listen 1;\ninclude a.conf;\n');
    const issue = failure('include a.conf;\n');
    expect(issue.message).to.equal(`include cycle: "${path.join(dir, 'a.conf')}" -> "${path.join(dir, 'b.conf')}" -> "${path.join(dir, 'a.conf')}"`);
    expect(issue.pos).to.deep.include({ file: path.join(dir, 'b.conf'), line: 2 });
    expect(failure('include *.conf;\n').message).to.match(/^include cycle: /);
    // The same file twice side by side is no cycle.
    write('c.conf', 'listen 3;\n');
    expect(main('include c.conf;\ninclude c.conf;\n').directives).to.have.length(2);
  });

  it('bounds include depth, files read and total size, so a hostile chain ends in an error quickly', () => {
    for (let i = 0; i < 40; i++) write(`d${i}.conf`, `include d${i + 1}.conf;\n`);
    write('d40.conf', 'listen 1;\n');
    expect(failure('include d0.conf;\n').message).to.equal('includes nested more than 32 deep');
    expect(failure('include d0.conf;\n', { maxIncludeDepth: 5 }).pos).to.deep.include({ file: path.join(dir, 'd3.conf') });
    expect(main('include d30.conf;\n').directives).to.have.length(1);
    // Each level includes the next one twice: 2^25 inclusions of (nearly) empty files.
    for (let i = 0; i < 25; i++) write(`x${i}.conf`, `include x${i + 1}.conf; include x${i + 1}.conf;\n`);
    write('x25.conf', '');
    const t0 = performance.now();
    expect(failure('include x0.conf;\n').message).to.match(/^more than 4096 included files read in all/);
    expect(performance.now() - t0).to.be.below(2000);
    write('big.conf', `# ${'x'.repeat(100)}\n`.repeat(100));
    expect(failure('include big.conf;\n', { maxTotalBytes: 5000 }).message).to.equal(
      `"${path.join(dir, 'big.conf')}" is too large: the configuration with its includes may take 5000 bytes in all`,
    );
    expect(failure('include fastcgi_params;\n', { maxTotalBytes: 100 }).message).to.match(/^"<built-in>\/fastcgi_params" is too large/);
  });

  it('takes the deepest nesting the bounds allow (32 files, each 100 blocks deep) without a stack overflow', () => {
    for (let i = 0; i < 40; i++) write(`n${i}.conf`, `${'a {'.repeat(100)} include n${i + 1}.conf; ${'}'.repeat(100)}`);
    write('n40.conf', 'x;');
    expect(failure('include n0.conf;\n').message).to.equal('includes nested more than 32 deep');
  });

  it('expands a file of 200 000 directives without spreading them over the call stack', () => {
    write('many.conf', 'a;\n'.repeat(200_000));
    expect(main('include many.conf;\n').directives).to.have.length(200_000);
  });

  it('reads a device as nginx does (by its size: empty) and refuses a FIFO instead of blocking', function () {
    expect(main('include /dev/null;\nlisten 1;\n').directives).to.have.length(1);
    const fifo = path.join(dir, 'fifo.conf');
    if (spawnSync('mkfifo', [fifo]).status !== 0) skipBecause(this, 'mkfifo is not available to make a FIFO');
    expect(failure('include fifo.conf;\n').message).to.equal(`"${fifo}" is not a regular file`);
  });

  describe('stock files', () => {
    it('come built in when missing at the path and in the stock folder, chained includes too', () => {
      const r = main('include fastcgi_params;\ninclude /nonexistent/nginx/mime.types;\nlocation ~ \\.php$ { include snippets/fastcgi-php.conf; }\n');
      expect(r.files.slice(1)).to.deep.equal([`${BUILTIN_DIR}/fastcgi_params`, `${BUILTIN_DIR}/mime.types`, `${BUILTIN_DIR}/snippets/fastcgi-php.conf`, `${BUILTIN_DIR}/fastcgi.conf`]);
      const [first] = r.directives;
      expect(first?.name).to.equal('fastcgi_param');
      expect(first?.pos.file).to.equal(`${BUILTIN_DIR}/fastcgi_params`);
      expect(r.directives.find((d) => d.name === 'types')?.block?.length).to.be.greaterThan(80);
      const php = r.directives.find((d) => d.name === 'location')?.block ?? [];
      expect(php[0]?.name).to.equal('fastcgi_split_path_info');
      expect(php.find((d) => d.args[0]?.text === 'SCRIPT_FILENAME')?.args[1]?.text).to.equal('$document_root$fastcgi_script_name');
    });

    it('come from the stock folder when there, and from the named path first of all', () => {
      fs.writeFileSync(path.join(empty, 'uwsgi_params'), 'uwsgi_param FROM stock;\n');
      write('proxy_params', 'proxy_set_header FROM path;\n');
      const r = main('include /path/to/your/mysite/uwsgi_params;\ninclude proxy_params;\n');
      expect(shape(r.directives)).to.deep.equal([['uwsgi_param', 'FROM', 'stock'], ['proxy_set_header', 'FROM', 'path']]);
      expect(r.files.slice(1)).to.deep.equal([path.join(empty, 'uwsgi_params'), path.join(dir, 'proxy_params')]);
    });

    it('do not stand in for a file that is not a stock name', () => {
      expect(failure('include fastcgi_params.local;\n').message).to.match(/^open\(\) .* failed \(2: No such file or directory\)$/);
    });
  });
});
