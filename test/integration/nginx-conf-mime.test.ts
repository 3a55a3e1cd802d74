// Content-Type of static files on one .conf run by nginx 1.22 and by gatehouse's nginx adapter:
// the config's types (the stock mime.types, or nginx's three built-in ones without it),
// default_type, and `; charset=` only under `charset` and only for charset_types.
import { expect } from 'chai';
import { expectSame } from '../helpers/differential.js';
import { useConfPair, type ConfPair } from '../helpers/nginx-conf-differential.js';

const FILES = {
  'www/a.js': 'var a = 1;\n',
  'www/a.html': '<p>a</p>\n',
  'www/a.css': 'p {}\n',
  'www/A.TXT': 'upper\n',
  'www/a.unknownext': 'x\n',
  'www/noext': 'x\n',
  'www/a.svg': '<svg/>\n',
};
const PATHS = Object.keys(FILES).map((f) => f.slice('www'.length));

async function sameTypes(pair: ConfPair): Promise<Record<string, string | undefined>> {
  const seen: Record<string, string | undefined> = {};
  for (const path of PATHS) {
    const { nginx, gatehouse } = await pair.both({ path });
    expect(nginx.status, path).to.equal(200);
    expectSame(nginx, gatehouse, { headers: ['content-type'], body: true });
    seen[path] = nginx.headers['content-type'];
  }
  return seen;
}

function describePair(title: string, http: string, check: (seen: Record<string, string | undefined>) => void): void {
  describe(title, () => {
    const pair = useConfPair({
      files: FILES,
      http: ({ port, dir }) => `${http}\n server { listen 127.0.0.1:${port}; server_name a.test; root ${dir}/www; }`,
    });
    it('every file has the Content-Type nginx sends', async () => check(await sameTypes(pair())));
  });
}

describe('nginx .conf: static Content-Type and charset (nginx 1.22 vs gatehouse adapt, integration)', function () {
  this.timeout(60_000);

  describePair('stock mime.types, default_type application/octet-stream, no charset', 'include /etc/nginx/mime.types; default_type application/octet-stream;', (seen) => {
    expect(seen['/a.js']).to.equal('application/javascript');
    expect(seen['/a.html']).to.equal('text/html');
    expect(seen['/a.unknownext']).to.equal('application/octet-stream');
  });

  describePair('charset utf-8: the suffix only for charset_types', 'include /etc/nginx/mime.types; default_type application/octet-stream; charset utf-8;', (seen) => {
    expect(seen['/a.html']).to.equal('text/html; charset=utf-8');
    expect(seen['/a.js']).to.equal('application/javascript; charset=utf-8');
    expect(seen['/a.css']).to.equal('text/css');
  });

  describePair('no types at all: nginx\'s three built-in ones and default_type text/plain', '', (seen) => {
    expect(seen['/a.html']).to.equal('text/html');
    expect(seen['/a.css']).to.equal('text/plain');
  });
});
