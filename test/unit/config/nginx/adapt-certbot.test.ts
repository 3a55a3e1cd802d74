// `adapt --acme`: which server blocks are certbot's (its live/NAME pair, in any --config-dir), what they
// become, and the acme section --acme-directory writes.
import path from 'node:path';
import { expect } from 'chai';
import { adaptedYaml, readNginx, type NginxReadOptions } from '../../../../src/config/nginx/adapt/reader.js';

const FILE = '/etc/nginx/sites-enabled/shop';

function server(cert: string, key: string): string {
  return `server {\n  listen 443 ssl;\n  server_name shop.example.com www.shop.example.com;\n  ssl_certificate ${cert};\n  ssl_certificate_key ${key};\n}\n`;
}

function read(text: string, options: NginxReadOptions = {}): ReturnType<typeof readNginx> {
  return readNginx(text, FILE, { acme: true, storage: '/var/lib/gatehouse', ...options });
}

describe('config/nginx adapt --acme: certbot sites', () => {
  it('certbot\'s live/NAME pair becomes tls: acme, its lineage collected at the ssl_certificate line', () => {
    const loaded = read(server('/etc/letsencrypt/live/shop.example.com/fullchain.pem', '/etc/letsencrypt/live/shop.example.com/privkey.pem'));
    expect(loaded.config.sites[0]?.tls).to.deep.equal({ kind: 'acme' });
    expect(loaded.adapted.certbot).to.deep.equal([
      { liveDir: '/etc/letsencrypt/live/shop.example.com', hosts: ['shop.example.com', 'www.shop.example.com'], pos: { file: FILE, line: 4, col: 19 } },
    ]);
    expect(loaded.config.storage).to.equal('/var/lib/gatehouse');
    expect(loaded.config.acme?.directory).to.equal('https://acme-v02.api.letsencrypt.org/directory');
  });

  it('a certbot --config-dir elsewhere, relative to the conf prefix (the main file\'s folder, whatever -p says), is certbot\'s too', () => {
    const loaded = read(server('le/live/shop/fullchain.pem', 'le/live/shop/privkey.pem'), { prefix: '/srv/nginx' });
    expect(loaded.config.sites[0]?.tls).to.deep.equal({ kind: 'acme' });
    expect(loaded.adapted.certbot[0]?.liveDir).to.equal(`${path.dirname(FILE)}/le/live/shop`);
  });

  it('a key that is not the lineage\'s privkey.pem, or no --acme: the files are served as they are', () => {
    const mixed = read(server('/etc/letsencrypt/live/shop/fullchain.pem', '/etc/ssl/private/shop.key'));
    expect(mixed.config.sites[0]?.tls).to.deep.equal({ kind: 'files', cert: '/etc/letsencrypt/live/shop/fullchain.pem', key: '/etc/ssl/private/shop.key' });
    expect(mixed.adapted.certbot).to.deep.equal([]);
    const plain = readNginx(server('/etc/letsencrypt/live/shop/fullchain.pem', '/etc/letsencrypt/live/shop/privkey.pem'), FILE);
    expect(plain.config.sites[0]?.tls.kind).to.equal('files');
  });

  it('a wildcard lineage keeps certbot\'s files, with a warning saying how gatehouse could renew it (DNS-01)', () => {
    const text = `server {\n  listen 443 ssl;\n  server_name *.shop.example.com;\n  ssl_certificate /etc/letsencrypt/live/shop/fullchain.pem;\n  ssl_certificate_key /etc/letsencrypt/live/shop/privkey.pem;\n}\n`;
    const loaded = read(text);
    expect(loaded.config.sites[0]?.tls).to.deep.equal({ kind: 'files', cert: '/etc/letsencrypt/live/shop/fullchain.pem', key: '/etc/letsencrypt/live/shop/privkey.pem' });
    expect(loaded.adapted.certbot).to.deep.equal([]);
    const warning = loaded.warnings.find((w) => w.message.includes('wildcard'));
    expect(warning?.pos).to.deep.equal({ file: FILE, line: 4, col: 19 });
    expect(warning?.message).to.include('add acme.dns');
  });

  it('--acme-directory is written as the acme section', () => {
    const loaded = read(server('/etc/letsencrypt/live/shop/fullchain.pem', '/etc/letsencrypt/live/shop/privkey.pem'), { acmeDirectory: 'https://ca.internal:14000/dir' });
    expect(adaptedYaml(loaded.adapted, FILE)).to.match(/^acme:\n {2}directory: https:\/\/ca\.internal:14000\/dir\n/m);
    expect(loaded.config.acme?.directory).to.equal('https://ca.internal:14000/dir');
  });
});
