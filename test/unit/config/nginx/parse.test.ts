// The tree above the tokenizer: blocks, nginx's data blocks, the include directive's own checks, and
// the bounds on nesting and size.
import { expect } from 'chai';
import { parseNginx } from '../../../../src/config/nginx/index.js';
import { errorOf, FILE, parse, shape } from './helpers.js';

describe('config/nginx parser', () => {
  it('builds the tree: a block exactly when the directive ended with `{`, empty ones too', () => {
    const ds = parse('http { server { } gzip on; }\nevents {}');
    expect(ds.map((d) => [d.name, d.block === undefined])).to.deep.equal([['http', false], ['events', false]]);
    expect(ds[0]?.block?.[1]).to.deep.include({ name: 'gzip' });
    expect(ds[0]?.block?.[1]?.block).to.equal(undefined);
    expect(ds[1]?.block).to.deep.equal([]);
  });

  it('refuses a `{` inside types, map, geo, split_clients and charset_map, whose lines are data', () => {
    for (const block of ['types', 'map $a $b', 'geo $g', 'split_clients $r $v', 'charset_map a b']) {
      const issue = errorOf(`http {\n  ${block} {\n    x 1;\n    y {}\n  }\n}`);
      expect(issue.message, block).to.equal('unexpected "{"');
      expect(issue.pos).to.deep.equal({ file: FILE, line: 4, col: 7 });
    }
    // Outside them, any block nests.
    expect(shape(parse('server { location / { limit_except GET { deny all; } } }'))).to.have.length(1);
  });

  it('checks include as nginx\'s ngx_conf_handler does before reading anything', () => {
    expect(errorOf('include a.conf { }', { expandIncludes: true })).to.deep.include({ message: 'directive "include" is not terminated by ";"' });
    expect(errorOf('include;', { expandIncludes: true }).message).to.equal('invalid number of arguments in "include" directive');
    expect(errorOf('include a b;', { expandIncludes: true }).message).to.equal('invalid number of arguments in "include" directive');
    // Not expanding, include is a directive like any other.
    expect(shape(parse('include a b;'))).to.deep.equal([['include', 'a', 'b']]);
  });

  it('bounds block nesting and the number of words', () => {
    expect(parse(`${'a {'.repeat(100)}${'}'.repeat(100)}`)).to.have.length(1);
    const deep = errorOf(`${'a {\n'.repeat(101)}${'}'.repeat(101)}`);
    expect(deep).to.deep.equal({ pos: { file: FILE, line: 101, col: 3 }, message: 'blocks nested more than 100 deep', severity: 'error' });
    expect(errorOf('a b c;\nd e f;', { maxWords: 5 })).to.deep.include({ message: 'more than 5 words in the configuration', pos: { file: FILE, line: 2, col: 5 } });
    expect(() => parseNginx('a b c;\nd e f;', FILE, { maxWords: 6 })).to.not.throw();
  });
});
