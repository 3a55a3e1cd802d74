// issue 18: nginx servers bound to different ports become sites with `listen:`; names are per port,
// a repeated name is nginx's "conflicting server name ..., ignored" warning (the first server keeps
// it), and default_server is per port.
import { expect } from 'chai';
import { parseConfig } from '../../../../src/config/index.js';
import { isDefaultOn } from '../../../../src/config/site-ports.js';
import { formatIssue } from '../../../../src/config/types.js';

const FILE = '/etc/nginx/sites-enabled/app.conf';

function load(...ls: string[]): ReturnType<typeof parseConfig> {
  return parseConfig(`${ls.join('\n')}\n`, FILE);
}

describe('nginx adapter: servers per port', () => {
  it('loads a redirect server on port 80 and the site on 443 with the same name', () => {
    const { config } = load(
      'server { listen 80; server_name a.test; return 301 https://$host$request_uri; }',
      'server { listen 443 ssl; server_name a.test; ssl_certificate /c.pem; ssl_certificate_key /k.pem; location / { return 204; } }',
    );
    expect(config.sites.map((s) => s.listen)).to.deep.equal([[80], [443]]);
    expect(config.sites.map((s) => s.hosts)).to.deep.equal([['a.test'], ['a.test']]);
    expect(config.sites[0]!.tls.kind).to.equal('off');
    expect(config.sites[1]!.tls.kind).to.equal('files');
  });

  it('warns as nginx -t does about a name repeated on a port, and the first server keeps it', () => {
    // nginx 1.22 -t on these servers: conflicting server name "" / "_" / "a.test" on 0.0.0.0:8080, ignored.
    const { config, warnings } = load(
      'server { listen 8080; return 200 one; }',
      'server { listen 8080; return 200 two; }',
      'server { listen 8080; server_name _; return 200 three; }',
      'server { listen 8080; server_name _ a.test; return 200 four; }',
      'server { listen 8080; server_name A.test b.test; return 200 five; }',
      'server { listen 8081; server_name a.test; return 200 six; }',
    );
    expect(warnings.map(formatIssue)).to.deep.equal([
      `${FILE}:2:1: warning: conflicting server name "" on 0.0.0.0:8080, ignored`,
      `${FILE}:4:35: warning: conflicting server name "_" on 0.0.0.0:8080, ignored`,
      `${FILE}:5:35: warning: conflicting server name "A.test" on 0.0.0.0:8080, ignored`,
    ]);
    expect(config.sites.map((s) => s.hosts)).to.deep.equal([['_'], ['_'], ['_'], ['a.test'], ['b.test'], ['a.test']]);
  });

  it('makes default_server on some of a server\'s ports "default: [PORTS]"', () => {
    const { config } = load(
      'server { listen 8080 default_server; listen 8081; server_name a.test; return 200 a; }',
      'server { listen 8080; listen 8081 default_server; server_name b.test; return 200 b; }',
    );
    const [a, b] = config.sites;
    expect(a!.listen, 'bound to every port: no listen key').to.equal(undefined);
    expect([isDefaultOn(a!, 8080), isDefaultOn(a!, 8081)]).to.deep.equal([true, false]);
    expect([isDefaultOn(b!, 8080), isDefaultOn(b!, 8081)]).to.deep.equal([false, true]);
  });
});
