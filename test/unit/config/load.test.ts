// Finding and reading config files: the lookup order, file types, and the repository's own config.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { loadConfig, parseConfig, resolveConfigPath } from '../../../src/config/index.js';
import { ConfigError, type ConfigIssue } from '../../../src/config/types.js';
import { lines } from './helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

async function loadIssues(file: string): Promise<ConfigIssue[]> {
  try {
    await loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  expect.fail('expected a ConfigError');
}

describe('config/load', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-config-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('resolveConfigPath', () => {
    it('prefers -c, then $GATEHOUSE_CONFIG, then ./gatehouse.yaml, always absolute', () => {
      expect(resolveConfigPath('conf/a.yaml', { GATEHOUSE_CONFIG: '/etc/b.yaml' }, '/srv')).to.equal('/srv/conf/a.yaml');
      expect(resolveConfigPath(undefined, { GATEHOUSE_CONFIG: 'b.yaml' }, '/srv')).to.equal('/srv/b.yaml');
      expect(resolveConfigPath(undefined, { GATEHOUSE_CONFIG: '' }, '/srv')).to.equal('/srv/gatehouse.yaml');
      expect(resolveConfigPath(undefined, {}, '/srv')).to.equal('/srv/gatehouse.yaml');
      expect(resolveConfigPath('/abs/c.json', {}, '/srv')).to.equal('/abs/c.json');
    });
  });

  describe('loadConfig', () => {
    it('reads a YAML file and resolves paths against its folder, not the working directory', async () => {
      const file = path.join(dir, 'gatehouse.yml');
      fs.writeFileSync(file, lines('listen: { https: 0 }', 'sites: [{ hosts: localhost, routes: [{ location: /, root: ./public }] }]'));
      const { config, warnings } = await loadConfig(file);
      expect(warnings).to.deep.equal([]);
      expect(config.file).to.equal(file);
      expect(config.storage).to.equal(path.join(dir, 'certs'));
      expect(config.sites[0]?.routes[0]?.root).to.equal(path.join(dir, 'public'));
    });

    it('reads JSON through the same parser, with positions in its errors', async () => {
      const file = path.join(dir, 'gatehouse.json');
      fs.writeFileSync(file, lines(
        '{',
        '  "listen": { "https": 8443 },',
        '  "sites": [',
        '    { "hosts": ["a.test"], "routes": [{ "location": "/", "return": "200 $nope" }] }',
        '  ]',
        '}',
      ));
      const issues = await loadIssues(file);
      expect(issues).to.deep.equal([
        { pos: { file, line: 4, col: 68 }, message: 'unknown variable "$nope"', severity: 'error' },
      ]);
      fs.writeFileSync(file, JSON.stringify({ listen: { https: 8443 }, sites: [{ hosts: ['a.test'], routes: [{ location: '/', return: 204 }] }] }));
      expect((await loadConfig(file)).config.sites[0]?.routes[0]?.return).to.deep.equal({ status: 204 });
    });

    it('reads nginx syntax through the adapter (issue 18), errors at the nginx line', async () => {
      const file = path.join(dir, 'nginx.conf');
      fs.writeFileSync(file, 'server {\n  listen 8080;\n  server_name a.test;\n  location / { return 204; }\n}\n');
      const loaded = await loadConfig(file);
      expect(loaded.config.origin).to.equal('nginx');
      expect(loaded.config.sites[0]?.hosts).to.deep.equal(['a.test']);
      expect(() => parseConfig('server {\n  ssi on;\n}\n', '/x/a.CONF')).to.throw(ConfigError, '/x/a.CONF:2:3: "ssi" is not supported');
    });

    it('reports a missing file as a config error', async () => {
      const file = path.join(dir, 'missing.yaml');
      expect(await loadIssues(file)).to.deep.equal([
        { pos: { file, line: 1, col: 1 }, message: 'cannot read the config file: no such file', severity: 'error' },
      ]);
    });

    it('reports every error of a file, sorted by position', async () => {
      const file = path.join(dir, 'gatehouse.yaml');
      fs.writeFileSync(file, lines('listen: { https: 8443 }', 'drainTimeout: soon', 'sites:', '  - hosts: [a.test]', '    tls: acm', '    routes: [{ location: /, proxy: nope }]'));
      const issues = await loadIssues(file);
      expect(issues.map((i) => [i.pos.line, i.pos.col])).to.deep.equal([[2, 15], [5, 10], [6, 36]]);
    });
  });

  describe('the default config', () => {
    const DEFAULT = lines(
      'listen: { http: 8080, https: 8443 }',
      'storage: ./certs',
      'sites:',
      '  - hosts: [localhost]',
      '    routes:',
      '      - location: /',
      '        root: ./public',
    );

    it('as described for the repository parses without errors or warnings, with the internal CA', () => {
      const { config, warnings } = parseConfig(DEFAULT, path.join(REPO, 'gatehouse.yaml'));
      expect(warnings).to.deep.equal([]);
      expect(config.listen).to.deep.equal({ http: [{ port: 8080 }], https: [{ port: 8443 }] });
      expect(config.sites[0]?.tls).to.deep.equal({ kind: 'internal' });
      expect(config.acme).to.equal(undefined);
      expect(config.sites[0]?.routes[0]?.root).to.equal(path.join(REPO, 'public'));
    });

    it("the repository's gatehouse.yaml loads without errors", async () => {
      // The file is part of the repository: a missing one must fail here, not be skipped.
      const { config, warnings } = await loadConfig(path.join(REPO, 'gatehouse.yaml'));
      expect(warnings).to.deep.equal([]);
      expect(config.sites.length).to.be.greaterThan(0);
    });
  });
});
