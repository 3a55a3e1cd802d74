// fastcgi_split_path_info as nginx applies it: a FastCGI location splits $uri only when it or a parent
// location has the directive (Debian's snippets/fastcgi-php.conf has it); otherwise the whole $uri is
// $fastcgi_script_name and no PATH_INFO is sent, which the adapter writes as `splitPathInfo: false`.
import { expect } from 'chai';
import { parseConfig } from '../../../../src/config/index.js';
import type { RouteConfig } from '../../../../src/config/types.js';

const FILE = '/x/site.conf';

function routes(locations: string): RouteConfig[] {
  const text = `server {\n  listen 8080;\n  server_name a.test;\n  root /srv/www;\n${locations}}\n`;
  return parseConfig(text, FILE).config.sites[0]!.routes;
}

describe('nginx adapter: fastcgi_split_path_info', () => {
  it('a FastCGI location without it does not split: splitPathInfo false', () => {
    const [php] = routes('  location ~ \\.php$ { include fastcgi_params; fastcgi_pass 127.0.0.1:9000; }\n');
    expect(php?.splitPathInfo).to.equal(false);
  });

  it('Debian\'s snippets/fastcgi-php.conf splits with the built-in rule (the default, true)', () => {
    const [php] = routes('  location ~ \\.php$ { include snippets/fastcgi-php.conf; fastcgi_pass 127.0.0.1:9000; }\n');
    expect(php?.splitPathInfo).to.not.equal(false);
    expect(php?.splitPathInfo ?? true).to.equal(true);
  });

  it('a regex of the location\'s own is kept as written', () => {
    const [php] = routes('  location ~ \\.php(?:$|/) { fastcgi_split_path_info ^(.+?\\.php)(/.*)$x; fastcgi_pass 127.0.0.1:9000; }\n');
    expect(php?.splitPathInfo).to.equal('^(.+?\\.php)(/.*)$x');
  });

  it('a nested FastCGI location inherits its parent\'s split, and the built-in one overrides a parent that has none', () => {
    const [parent] = routes('  location /app/ {\n    fastcgi_split_path_info ^(/app/.+?\\.php)(/.*)$;\n    location ~ \\.php { fastcgi_pass 127.0.0.1:9000; }\n  }\n');
    expect(parent?.routes?.[0]?.splitPathInfo).to.equal('^(/app/.+?\\.php)(/.*)$');
    const [plain] = routes('  location ~ \\.php { fastcgi_pass 127.0.0.1:9000;\n    location ~ ^/x/ { fastcgi_split_path_info ^(.+?\\.php)(/.*)$; fastcgi_pass 127.0.0.1:9000; }\n  }\n');
    expect(plain?.splitPathInfo).to.equal(false);
    expect(plain?.routes?.[0]?.splitPathInfo).to.equal(true);
  });

  it('a location that does not pass to FastCGI gets no splitPathInfo', () => {
    const [files] = routes('  location / { try_files $uri $uri/ =404; }\n');
    expect(files?.splitPathInfo).to.equal(undefined);
  });
});
