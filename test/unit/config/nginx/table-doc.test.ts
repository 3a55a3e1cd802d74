// docs/nginx.md lists every directive in its class with the note the adapter gives (issue 18: the
// list is generated from the adapter's table so it cannot drift). `npm run docs:nginx` rewrites it.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIRECTIVES } from '../../../../src/config/nginx/adapt/table.js';
import { withDirectives } from '../../../../src/config/nginx/adapt/table-doc.js';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../docs/nginx.md');

describe('docs/nginx.md: the directive table', () => {
  it('is the table the adapter uses (else: npm run docs:nginx)', () => {
    const doc = fs.readFileSync(DOC, 'utf8');
    const generated = withDirectives(doc);
    expect(generated, 'markers missing in docs/nginx.md').to.be.a('string');
    expect(doc === generated, 'docs/nginx.md is stale: run npm run docs:nginx').to.equal(true);
  });

  it('names every directive of the table once, in its class', () => {
    const doc = fs.readFileSync(DOC, 'utf8');
    for (const [name, info] of Object.entries(DIRECTIVES)) {
      const rows = doc.split('\n').filter((l) => l.startsWith(`| \`${name}\` |`));
      expect(rows, name).to.have.length(1);
      if (info.differs) expect(rows[0], name).to.include('**differs**');
    }
  });
});
