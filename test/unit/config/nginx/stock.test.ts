// The built-in stock files are the facts of the files nginx ships: compared with /etc/nginx where the
// package is installed, so an update of the package that changes them fails here, not in production.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { builtinText, STOCK_DIR, STOCK_NAMES, stockNameOf } from '../../../../src/config/nginx/index.js';
import { word } from '../../../../src/config/nginx/stock.js';
import { parse, shape, skipBecause } from './helpers.js';

describe('config/nginx stock files', () => {
  for (const name of STOCK_NAMES) {
    it(`built-in ${name} says what ${STOCK_DIR}/${name} says`, function () {
      const onDisk = path.join(STOCK_DIR, name);
      if (!fs.existsSync(onDisk)) skipBecause(this, `${onDisk} does not exist (nginx-common is not installed): nothing to compare with`);
      const builtin = shape(parse(builtinText(name) ?? ''));
      expect(builtin.length).to.be.greaterThan(0);
      expect(builtin).to.deep.equal(shape(parse(fs.readFileSync(onDisk, 'utf8'))));
    });
  }

  it('knows a stock file by the end of the included path, whole components only', () => {
    expect(stockNameOf('/etc/nginx/fastcgi_params')).to.equal('fastcgi_params');
    expect(stockNameOf('/srv/app/conf//mime.types')).to.equal('mime.types');
    expect(stockNameOf('/etc/nginx/snippets/fastcgi-php.conf')).to.equal('snippets/fastcgi-php.conf');
    expect(stockNameOf('/etc/nginx/fastcgi-php.conf')).to.equal(undefined);
    expect(stockNameOf('/etc/nginx/my_fastcgi_params')).to.equal(undefined);
  });

  it('writes words that the tokenizer reads back unchanged', () => {
    const samples = ['$document_root$fastcgi_script_name', '^(.+?\\.php)(/.*)$', 'a b', '', 'x;y', '{', '"q"', "it's", 'a\\', 'a\\n', '#x', 'a#b', '${x}'];
    for (const s of samples) {
      expect(parse(`d ${word(s)};`)[0]?.args[0]?.text, word(s)).to.equal(s);
    }
  });
});
