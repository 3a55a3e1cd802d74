// Real configurations (../shared/corpus/nginx, read in place, never copied) and the project's own
// corpus-style fixtures: all of them parse, survive a round trip, and parse fast.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parseNginx, parseNginxFile } from '../../../../src/config/nginx/index.js';
import { confFiles, CORPUS, FIXTURES, NO_CORPUS, render, shape } from './helpers.js';

function checkFile(file: string): void {
  const r = parseNginxFile(file, { missingIncludes: 'keep' });
  expect(r.directives.length).to.be.greaterThan(0);
  const text = fs.readFileSync(file, 'utf8');
  const plain = parseNginx(text, file, { expandIncludes: false }).directives;
  // What the parser read, written back out and read again, is the same tree.
  expect(shape(parseNginx(render(plain), file, { expandIncludes: false }).directives)).to.deep.equal(shape(plain));
  // The same file with CRLF line ends and a byte order mark: the same tree, on the same lines.
  const crlf = parseNginx(`\uFEFF${text.replace(/\r?\n/g, '\r\n')}`, file, { expandIncludes: false }).directives;
  expect(shape(crlf)).to.deep.equal(shape(plain));
  expect(crlf.map((d) => d.pos)).to.deep.equal(plain.map((d) => d.pos));
}

/** Median parse time in ms of `file`, includes kept, after warming up. */
export function parseTime(file: string, runs = 30): number {
  const text = fs.readFileSync(file, 'utf8');
  for (let i = 0; i < 10; i++) parseNginx(text, file, { expandIncludes: false });
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    parseNginx(text, file, { expandIncludes: false });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)] as number;
}

describe('config/nginx corpus', () => {
  describe('the project\'s fixtures', () => {
    for (const file of confFiles(FIXTURES)) it(path.basename(file), () => checkFile(file));

    it('edge-syntax.conf reads as nginx reads it', () => {
      const [first, second] = parseNginxFile(path.join(FIXTURES, 'edge-syntax.conf')).directives;
      const body = first?.block ?? [];
      expect(shape(body.slice(0, 3))).to.deep.equal([
        ['listen', '8080'],
        ['server_name', 'quoted.example.test', '~^(?<sub>\\w+)\\.example\\.test$'],
        ['location', '/', [['return', '200', 'tab\tnewline\nquote"backslash\\']]],
      ]);
      expect(shape(body.slice(3, 8))).to.deep.equal([
        ['location', '~', '^/x{8}$', [['return', '204']]],
        ['location', '~', '^/(a|b)/(.*)$', [['rewrite', '^', '/$1/${2}.html', 'break']]],
        ['if', '($request_method', '!~', '^(GET|HEAD)$', ')', [['return', '405']]],
        ['if', '($http_x_test', '~*', 'yes', ')', [['set', '$flag', "it's on"]]],
        ['add_header', 'X-Hash', 'a#b'],
      ]);
      expect(second?.pos).to.deep.include({ line: 10, col: 3 });
    });

    it('the whole nginx.conf pulls in mime.types (from disk or built in) and takes empty globs', () => {
      const r = parseNginxFile(path.join(FIXTURES, 'whole-nginx.conf'));
      const http = r.directives.find((d) => d.name === 'http')?.block ?? [];
      expect(http[0]?.name).to.equal('types');
      expect(r.includes.map((i) => [i.pattern, i.files.length])).to.deep.equal([['mime.types', 1], ['conf.d/*.conf', 0], ['sites-enabled/*', 0]]);
    });
  });

  // The corpus lives beside the repository on development machines, not in a clean clone: there
  // the group is not registered at all (CI runs no skipped tests), and the fixtures above stand in.
  const files = confFiles(CORPUS);
  if (files.length === 0) {
    it('has corpus-style fixtures standing in for the absent corpus', () => {
      console.log(`      ${NO_CORPUS}`);
      expect(confFiles(FIXTURES).length).to.be.greaterThan(3);
    });
    return;
  }
  describe('../shared/corpus/nginx, read in place', function () {
    for (const file of files) it(path.basename(file), () => checkFile(file));

    it('parses its largest file in under 20 ms', function () {
      const largest = files.reduce((a, b) => (fs.statSync(b).size > fs.statSync(a).size ? b : a));
      const ms = parseTime(largest);
      console.log(`      ${path.basename(largest)} (${fs.statSync(largest).size} bytes): median parse ${ms.toFixed(3)} ms`);
      expect(ms).to.be.below(20);
    });
  });
});
