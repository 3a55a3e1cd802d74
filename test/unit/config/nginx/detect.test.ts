// nginx syntax recognised by content, for files whose name does not say (sites-available/default,
// *.vhost, no extension), and never mistaken for YAML or JSON.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parseConfig } from '../../../../src/config/index.js';
import { looksLikeNginx } from '../../../../src/config/nginx/index.js';
import { ConfigError } from '../../../../src/config/types.js';
import { confFiles, CORPUS, FIXTURES, NO_CORPUS, REPO, skipBecause } from './helpers.js';

const DEBIAN_DEFAULT = [
  '##',
  '# You should look at the following URL\'s ...',
  '##',
  'server {',
  '\tlisten 80 default_server;',
  '\tlisten [::]:80 default_server;',
  '\troot /var/www/html;',
  '\tindex index.html index.htm index.nginx-debian.html;',
  '\tserver_name _;',
  '\tlocation / {',
  '\t\ttry_files $uri $uri/ =404;',
  '\t}',
  '}',
].join('\n');

describe('config/nginx looksLikeNginx', () => {
  it('says yes to server blocks, whole nginx.conf files, fragments and broken nginx files', () => {
    expect(looksLikeNginx(DEBIAN_DEFAULT)).to.equal(true);
    expect(looksLikeNginx('user www-data;\nworker_processes auto;\nevents { worker_connections 768; }\nhttp { include mime.types; }\n')).to.equal(true);
    expect(looksLikeNginx('upstream app { server 127.0.0.1:8000; }\nmap $http_upgrade $c { default upgrade; }\n')).to.equal(true);
    expect(looksLikeNginx('server {\n  listen 80;\n  location / {\n')).to.equal(true);
    expect(looksLikeNginx('types {\n  text/html html;\n  image/png png;\n}\n')).to.equal(true);
  });

  it('says no to YAML, JSON, empty files and plain text', () => {
    expect(looksLikeNginx('listen: { https: 443 }\nsites:\n  - hosts: a.test\n')).to.equal(false);
    expect(looksLikeNginx('# gatehouse\nlisten:\n  https: 443\n')).to.equal(false);
    expect(looksLikeNginx('{ "listen": { "https": 443 }, "sites": [] }')).to.equal(false);
    expect(looksLikeNginx('---\nsites: []\n')).to.equal(false);
    expect(looksLikeNginx('')).to.equal(false);
    expect(looksLikeNginx('# only comments\n')).to.equal(false);
    expect(looksLikeNginx('hello world\n')).to.equal(false);
    expect(looksLikeNginx('a: b; c: d;\n')).to.equal(false);
  });

  it('says yes to every fixture and no to the repository\'s own YAML configs', () => {
    for (const f of fs.readdirSync(FIXTURES)) expect(looksLikeNginx(fs.readFileSync(path.join(FIXTURES, f), 'utf8')), f).to.equal(true);
    expect(looksLikeNginx(fs.readFileSync(path.join(REPO, 'gatehouse.yaml'), 'utf8'))).to.equal(false);
  });

  it('says yes to every corpus file and to this machine\'s Debian default site', function () {
    const files = [...confFiles(CORPUS), '/etc/nginx/sites-available/default'].filter((f) => fs.existsSync(f));
    if (files.length === 0) skipBecause(this, `${NO_CORPUS}; and Debian's /etc/nginx/sites-available/default is not here either`);
    for (const f of files) expect(looksLikeNginx(fs.readFileSync(f, 'utf8')), f).to.equal(true);
  });

  it('makes the config loader send an nginx file with no .conf name to the nginx reader', () => {
    for (const file of ['/etc/nginx/sites-available/default', '/srv/site.vhost']) {
      try {
        expect(parseConfig(DEBIAN_DEFAULT, file).config.origin).to.equal('nginx');
      } catch (err) {
        // Debian's default site names files this machine may not have; an error must still be the nginx reader's.
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as ConfigError).issues[0]?.message).to.not.match(/syntax error|unknown key/);
      }
    }
    // A .yaml name is YAML whatever it holds (here: a YAML syntax error, not the nginx reader).
    expect(() => parseConfig(DEBIAN_DEFAULT, '/srv/site.yaml')).to.throw(ConfigError).that.does.not.match(/nginx-syntax/);
  });
});
