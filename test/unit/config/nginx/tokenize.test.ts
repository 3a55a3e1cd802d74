// The tokenizer against nginx's own rules (ngx_conf_read_token): where words start and end, what quotes,
// escapes, variables and comments do, and where everything is.
import { expect } from 'chai';
import { Tokenizer, type Statement } from '../../../../src/config/nginx/index.js';
import { errorOf, FILE, parse, shape } from './helpers.js';

function statements(text: string): Statement[] {
  const t = new Tokenizer(text, FILE);
  const out: Statement[] = [];
  for (;;) {
    const st = t.next();
    out.push(st);
    if (st.end === 'eof') return out;
  }
}

describe('config/nginx tokenizer', () => {
  it('gives every directive and word its FILE:LINE:COL', () => {
    const [d] = parse('\n  worker_processes   auto;');
    expect(d?.pos).to.deep.equal({ file: FILE, line: 2, col: 3 });
    expect(d?.args[0]?.pos).to.deep.equal({ file: FILE, line: 2, col: 22 });
    const [server] = parse('server {\n\tlisten 80;\n    location / { root /srv; }\n}\n');
    const [listen, location] = server?.block ?? [];
    expect(listen?.pos).to.deep.include({ line: 2, col: 2 });
    expect(location?.pos).to.deep.include({ line: 3, col: 5 });
    expect(location?.block?.[0]?.args[0]?.pos).to.deep.include({ line: 3, col: 23 });
  });

  it('resolves \\" \\\' \\\\ \\t \\r \\n in double and single quotes and keeps other backslashes', () => {
    const [ret, hdr, rw] = parse('return 200 "a \\"b\\" \\\\ c\\td";\nadd_header X \'it\\\'s\';\nrewrite ^/a\\.php$ "/b\\.c";');
    expect(ret?.args[1]).to.deep.include({ text: 'a "b" \\ c\td', quoted: true });
    expect(ret?.args[1]?.pos).to.deep.include({ line: 1, col: 12 });
    expect(hdr?.args[1]).to.deep.include({ text: "it's", quoted: true });
    expect(rw?.args.map((a) => a.text)).to.deep.equal(['^/a\\.php$', '/b\\.c']);
    expect(rw?.args[0]?.quoted).to.equal(false);
  });

  it('keeps ${var} and $var inside words, quoted or not', () => {
    expect(shape(parse('set $a "${b}c";\nreturn 200 ${host}x$uri;\nproxy_pass http://${up}:8080/$1;'))).to.deep.equal([
      ['set', '$a', '${b}c'],
      ['return', '200', '${host}x$uri'],
      ['proxy_pass', 'http://${up}:8080/$1'],
    ]);
  });

  it('keeps braces in a quoted regex, and cuts an unquoted one at its `{` exactly as nginx does', () => {
    expect(shape(parse('location ~ "^/x{8}$" { return 204; }'))).to.deep.equal([['location', '~', '^/x{8}$', [['return', '204']]]]);
    expect(shape(parse("location ~* '\\.(png|jpg){1}$' {}"))).to.deep.equal([['location', '~*', '\\.(png|jpg){1}$', []]]);
    // nginx reads `location ~ ^/x {` then a directive `8}$ { ... }`, and runs out of `}`.
    expect(errorOf('location ~ ^/x{8}$ { return 204; }').message).to.equal('unexpected end of file, expecting "}"');
    expect(shape(parse('location ~ ^/x{8}$ { return 204; }}'))).to.deep.equal([['location', '~', '^/x', [['8}$', [['return', '204']]]]]]);
  });

  it('opens a block right after a word (`location /{`) and reads `} server {` on one line', () => {
    expect(shape(parse('location /{root /srv;}'))).to.deep.equal([['location', '/', [['root', '/srv']]]]);
    expect(shape(parse('server { listen 80; } server { listen 81; }'))).to.deep.equal([
      ['server', [['listen', '80']]],
      ['server', [['listen', '81']]],
    ]);
    expect(shape(parse('events{}http{server{}}'))).to.deep.equal([['events', []], ['http', [['server', []]]]]);
  });

  it('treats `#` as a comment only where a word could start', () => {
    expect(shape(parse('listen 80; # comment ; { } "\nlisten 81 # not yet\n ;\nreturn 200 a#b;\nadd_header X "#q";'))).to.deep.equal([
      ['listen', '80'],
      ['listen', '81'],
      ['return', '200', 'a#b'],
      ['add_header', 'X', '#q'],
    ]);
    expect(parse('# only a comment, no newline at the end')).to.deep.equal([]);
  });

  it('reads tabs, CRLF line ends and a UTF-8 byte order mark', () => {
    const [server] = parse('\uFEFFserver\t{\r\n\tlisten\t80;\r\n\tserver_name\ta.test  b.test;\r\n}\r\n');
    expect(server?.pos).to.deep.include({ line: 1, col: 1 });
    expect(shape(server?.block ?? [])).to.deep.equal([['listen', '80'], ['server_name', 'a.test', 'b.test']]);
    expect(server?.block?.[1]?.args[1]?.pos).to.deep.include({ line: 3, col: 22 });
  });

  it('makes `\\` take the next character into the word, even a space, `;` or a quote', () => {
    expect(shape(parse('return 200 a\\; b;'))).to.deep.equal([['return', '200', 'a\\;', 'b']]);
    expect(shape(parse('return 200 a\\ b;'))).to.deep.equal([['return', '200', 'a\\ b']]);
    expect(shape(parse('return 200 "a\\\\";'))).to.deep.equal([['return', '200', 'a\\']]);
    expect(shape(parse('return 200 \\"a;'))).to.deep.equal([['return', '200', '"a']]);
  });

  it('lets `)` follow a closing quote, as in if (... "x")', () => {
    expect(shape(parse('if ($request_uri ~ "^/x") { return 403; }'))).to.deep.equal([['if', '($request_uri', '~', '^/x', ')', [['return', '403']]]]);
  });

  it('reads empty quoted words, quoted names, and newlines inside quotes', () => {
    const ds = parse('add_header X "";\n"listen" 80;\nreturn 200 "a\nb";\nroot /srv;');
    expect(shape(ds)).to.deep.equal([['add_header', 'X', ''], ['listen', '80'], ['return', '200', 'a\nb'], ['root', '/srv']]);
    expect(ds[3]?.pos).to.deep.include({ line: 5, col: 1 });
  });

  it('counts columns in characters on lines with non-ASCII text', () => {
    const [d] = parse('server_name café.test ✓.test;');
    expect(d?.args[1]?.pos.col).to.equal(23);
  });

  it('reports each statement with how it ended, as ngx_conf_read_token returns', () => {
    expect(statements('a 1; b { } c;').map((s) => [s.words.map((w) => w.text).join(' '), s.end])).to.deep.equal([
      ['a 1', ';'],
      ['b', '{'],
      ['', '}'],
      ['c', ';'],
      ['', 'eof'],
    ]);
  });

  describe('errors, with nginx\'s words, at the offending character', () => {
    const cases: Array<[string, string, number, number]> = [
      [';', 'unexpected ";"', 1, 1],
      ['server {\n  ;\n}', 'unexpected ";"', 2, 3],
      ['{', 'unexpected "{"', 1, 1],
      ['listen 80 }', 'unexpected "}"', 1, 11],
      ['}', 'unexpected "}"', 1, 1],
      ['server {\n  listen 80;\n', 'unexpected end of file, expecting "}"', 3, 1],
      ['listen 80', 'unexpected end of file, expecting ";" or "}"', 1, 10],
      ['return 200 "abc;\n', 'unexpected end of file, expecting ";" or "}"', 2, 1],
      ["return 200 'abc;", 'unexpected end of file, expecting ";" or "}"', 1, 17],
      ['return 200 "a"b;', 'unexpected "b"', 1, 15],
      ['return 200 "a"}', 'unexpected "}"', 1, 15],
      ['return 200 "a"#', 'unexpected "#"', 1, 15],
    ];
    for (const [text, message, line, col] of cases) {
      it(`${JSON.stringify(text)}: ${message} at ${line}:${col}`, () => {
        const issue = errorOf(text);
        expect(issue.message).to.equal(message);
        expect(issue.pos).to.deep.equal({ file: FILE, line, col });
      });
    }

    it('refuses a word, quoted string or comment longer than nginx\'s 4096-byte buffer', () => {
      expect(errorOf(`root /${'a'.repeat(5000)};`)).to.deep.include({ message: 'too long parameter "/aaaaaaaaa..." started' });
      const q = errorOf(`events {}\nreturn 200 "${'a'.repeat(5000)}`);
      expect(q.message).to.equal('too long parameter, probably missing terminating """ character');
      expect(q.pos).to.deep.include({ line: 2, col: 13 });
      expect(errorOf(`# ${'c'.repeat(5000)}\n`).message).to.equal('too long parameter "# cccccccc..." started');
      // 4095 bytes is fine, and a long line of many short words is too.
      expect(parse(`root /${'a'.repeat(4094)};`)[0]?.args[0]?.text).to.have.length(4095);
      expect(parse(`server_name ${'a.test '.repeat(2000)};`)[0]?.args).to.have.length(2000);
      // nginx counts bytes, not characters.
      expect(errorOf(`root /${'é'.repeat(2100)};`).message).to.match(/^too long parameter/);
    });
  });
});
