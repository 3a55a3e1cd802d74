// Issue 18: `check` warns about the seed tutorial's classic mistakes (which gatehouse, like nginx,
// still carries out) and about `if` inside a location, at the nginx line.
import { expect } from 'chai';
import { parseConfig } from '../../../../src/config/index.js';

const FILE = '/x/site.conf';
const server = (body: string) => `server {\n  listen 8080;\n  server_name a.test;\n  root /srv/www;\n${body}}\n`;
const warnings = (text: string) => parseConfig(text, FILE).warnings.map((w) => `${w.pos.line}:${w.pos.col}: ${w.message}`);

describe('nginx adapter: classic mistakes', () => {
  it('location without a trailing slash and a proxy_pass URI ending in "/": the double slash, said at proxy_pass', () => {
    const w = warnings(server('  location /blog {\n    proxy_pass http://127.0.0.1:9000/wordpress/;\n  }\n'));
    expect(w).to.include('6:5: location "/blog" without a trailing slash and a proxy_pass URI ending in "/": /blog/x is sent as /wordpress//x (a double slash), as nginx does; write "location /blog/"');
    // The same with the slash, or without a URI part, is quiet.
    expect(warnings(server('  location /blog/ {\n    proxy_pass http://127.0.0.1:9000/wordpress/;\n  }\n')).join('\n')).not.to.include('double slash');
    expect(warnings(server('  location /blog {\n    proxy_pass http://127.0.0.1:9000;\n  }\n')).join('\n')).not.to.include('double slash');
  });

  it('try_files ... =404 before proxy_pass: only files reach the backend, said at try_files', () => {
    const w = warnings(server('  location / {\n    try_files $uri $uri/ =404;\n    proxy_pass http://127.0.0.1:9000;\n  }\n'));
    expect(w).to.include('6:5: try_files before proxy_pass answers 404 whenever no file exists under the root, so the backend is asked only for paths that are files; to proxy what is not a file, end try_files with a named location (@app) that proxies');
    // The FastCGI form is the safe pattern, and a named fallback is what was meant.
    expect(warnings(server('  location ~ \\.php$ {\n    try_files $uri =404;\n    fastcgi_pass 127.0.0.1:9001;\n  }\n')).join('\n')).not.to.include('try_files before');
    expect(warnings(server('  location / {\n    try_files $uri @app;\n  }\n  location @app {\n    proxy_pass http://127.0.0.1:9000;\n  }\n')).join('\n')).not.to.include('try_files before');
  });

  it('"if" inside a location: a warning at the if, with what to prefer', () => {
    const w = warnings(server('  location / {\n    if ($http_x_old) {\n      return 410;\n    }\n    return 204;\n  }\n'));
    expect(w).to.include('6:5: "if" inside a location: only rewrite, return, set and break are safe there (nginx\'s "If is evil"); prefer a map or a separate location');
    expect(warnings(server('  if ($http_x_old) {\n    return 410;\n  }\n  location / { return 204; }\n')).join('\n')).not.to.include('inside a location');
  });
});
