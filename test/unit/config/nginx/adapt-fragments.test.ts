// The adapter on the shapes real files have (corpus README): fragments meant for inclusion inside
// `http {}`, whole nginx.conf files whose servers are all in includes, server-level constants.
import { expect } from 'chai';
import { parseConfig } from '../../../../src/config/index.js';
import { ConfigError } from '../../../../src/config/types.js';

const FILE = '/x/site.conf';

function errorsOf(text: string): string[] {
  try {
    parseConfig(text, FILE);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.filter((i) => i.severity === 'error').map((i) => `${i.pos.line}:${i.pos.col}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('nginx adapter: fragments and whole files', () => {
  it('a fragment may log with a format its nginx.conf defines: combined, with a warning; a whole file may not', () => {
    const site = 'server {\n  listen 8080;\n  server_name a.test;\n  access_log /tmp/a.log combined_plus;\n  location / { return 204; }\n}\n';
    const { config, warnings } = parseConfig(site, FILE);
    expect(config.sites[0]?.accessLog).to.deep.equal({ file: '/tmp/a.log' });
    expect(warnings.map((w) => `${w.pos.line}:${w.pos.col}: ${w.message}`)).to.include('4:25: log format "combined_plus" is not defined in this file (a fragment: it is in the nginx.conf that includes it?): this log uses combined until the format is added');
    expect(errorsOf(`events {}\nhttp {\n${site}}\n`)).to.deep.equal(['6:25: unknown log format "combined_plus"']);
    // Defined before use, in the fragment itself: used as written.
    const own = parseConfig(`log_format combined_plus '$remote_addr $request';\n${site}`, FILE).config;
    expect(own.sites[0]?.accessLog).to.deep.include({ format: 'combined_plus' });
  });

  it('an http block without servers checks with a warning; run refuses it (no sites)', () => {
    const { config, warnings } = parseConfig('events {}\nhttp {\n  map $http_upgrade $c { default upgrade; }\n}\n', FILE);
    expect(config.sites).to.deep.equal([]);
    expect(warnings.map((w) => w.message)).to.include('no "server" block: nothing to serve (`gatehouse run` refuses to start until there is one)');
  });

  it('a variable the server sets once to a constant may be used in a prefix alias (Discourse)', () => {
    const conf = (extra: string) => `server {\n  listen 8080;\n  server_name a.test;\n  set $public /srv/pub;\n${extra}  location /downloads/ { internal; alias $public/; }\n}\n`;
    expect(parseConfig(conf(''), FILE).config.sites[0]?.routes[0]?.alias?.path).to.equal('/srv/pub/');
    // Set again anywhere (here inside a location), it is a per-request value: nginx's rule applies.
    expect(errorsOf(conf('  location /x { set $public /other; return 204; }\n'))).to.deep.equal(['6:36: alias with variables is only supported in a regex location (use the captures: alias: /home/$1/www/$2)']);
  });
});
