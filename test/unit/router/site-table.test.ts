import { expect } from 'chai';
import { ConfigError } from '../../../src/config/types.js';
import type { SiteTable } from '../../../src/router/types.js';
import { compileSiteTable } from '../../../src/router/site-table.js';
import { config, ret, site, table } from './fixture.js';

/** Index of the site chosen for `host`. */
function siteFor(t: SiteTable, host: string): number {
  return t.matchHost(host).index;
}

describe('router: site by Host (nginx server_name order)', () => {
  it('prefers the exact name over any wildcard or regex', () => {
    const t = table([
      { hosts: ['*.example.com'] },
      { hosts: ['~^www\\.'] },
      { hosts: ['www.example.com'] },
    ]);
    expect(siteFor(t, 'www.example.com')).to.equal(2);
    expect(siteFor(t, 'api.example.com')).to.equal(0);
  });

  it('takes the longest leading wildcard, at any depth, but not the bare domain', () => {
    const t = table([
      { hosts: ['default.test'] },
      { hosts: ['*.example.com'] },
      { hosts: ['*.b.example.com'] },
    ]);
    expect(siteFor(t, 'x.b.example.com')).to.equal(2);
    expect(siteFor(t, 'y.x.b.example.com')).to.equal(2);
    expect(siteFor(t, 'x.c.example.com')).to.equal(1);
    expect(siteFor(t, 'a.b.c.example.com')).to.equal(1);
    expect(siteFor(t, 'b.example.com')).to.equal(1);
    expect(siteFor(t, 'example.com')).to.equal(0);
    expect(siteFor(t, 'notexample.com')).to.equal(0);
  });

  it('".example.com" covers the bare name and every name below it, after exact names', () => {
    const t = table([{ hosts: ['other.test'] }, { hosts: ['.example.com'] }, { hosts: ['www.example.com'] }]);
    expect(siteFor(t, 'example.com')).to.equal(1);
    expect(siteFor(t, 'a.b.example.com')).to.equal(1);
    expect(siteFor(t, 'www.example.com')).to.equal(2);
  });

  it('supports trailing wildcards "www.example.*", after leading ones', () => {
    const t = table([
      { hosts: ['other.test'] },
      { hosts: ['www.example.*'] },
      { hosts: ['www.*'] },
      { hosts: ['*.example.org'] },
    ]);
    expect(siteFor(t, 'www.example.net')).to.equal(1);
    expect(siteFor(t, 'www.example.co.uk')).to.equal(1);
    expect(siteFor(t, 'www.other.net')).to.equal(2);
    expect(siteFor(t, 'www.example.org')).to.equal(3);
    expect(siteFor(t, 'www.example')).to.equal(2);
    expect(siteFor(t, 'www')).to.equal(0);
  });

  it('tries regex names in config order, after wildcards', () => {
    const t = table([
      { hosts: ['other.test'] },
      { hosts: ['~^api\\d+\\.example\\.net$'] },
      { hosts: ['~\\.example\\.net$'] },
      { hosts: ['*.eu.example.net'] },
    ]);
    expect(siteFor(t, 'api1.example.net')).to.equal(1);
    expect(siteFor(t, 'apix.example.net')).to.equal(2);
    expect(siteFor(t, 'api1.eu.example.net')).to.equal(3);
  });

  it('keeps a regex as written (no lower-casing of \\D) and matches it without case', () => {
    const t = table([{ hosts: ['other.test'] }, { hosts: ['~^\\D+\\.EXAMPLE\\.net$'] }]);
    expect(siteFor(t, 'abc.example.net')).to.equal(1);
    expect(siteFor(t, '123.example.net')).to.equal(0);
  });

  it('falls back to the site marked default, else to the first site', () => {
    expect(siteFor(table([{ hosts: ['a.test'] }, { hosts: ['b.test'], default: true }]), 'c.test')).to.equal(1);
    expect(siteFor(table([{ hosts: ['a.test'] }, { hosts: ['b.test'] }]), 'c.test')).to.equal(0);
    expect(siteFor(table([{ hosts: ['a.test'] }, { hosts: ['b.test'] }]), '')).to.equal(0);
    const t = table([{ hosts: ['a.test'] }, { hosts: ['b.test'], default: true }]);
    expect(t.defaultSite).to.equal(t.sites[1]);
  });

  it('ignores one trailing dot on the Host', () => {
    const t = table([{ hosts: ['other.test'] }, { hosts: ['www.example.com'] }, { hosts: ['*.example.org'] }]);
    expect(siteFor(t, 'www.example.com.')).to.equal(1);
    expect(siteFor(t, 'a.example.org.')).to.equal(2);
  });

  it('normalises configured names: case and a trailing dot', () => {
    const t = table([{ hosts: ['other.test'] }, { hosts: ['WWW.Example.COM.'] }]);
    expect(siteFor(t, 'www.example.com')).to.equal(1);
  });

  it('gives a name listed by two sites to the first, as nginx does', () => {
    const t = table([{ hosts: ['a.test'] }, { hosts: ['dup.test', '*.w.test'] }, { hosts: ['dup.test', '*.w.test'] }]);
    expect(siteFor(t, 'dup.test')).to.equal(1);
    expect(siteFor(t, 'x.w.test')).to.equal(1);
  });

  it('compiles each site with its routes and upstream names', () => {
    const t = table(
      [
        { hosts: ['a.test'], routes: [{ location: '/api/', proxy: 'app' }] },
        { hosts: ['b.test'], routes: [{ location: '/', proxy: 'http://app/v2/' }] },
      ],
      ['app'],
    );
    expect(t.sites.map((s) => s.index)).to.deep.equal([0, 1]);
    expect(t.matchHost('a.test').matchLocation('/api/x')?.route.proxy).to.deep.equal({
      scheme: 'http',
      upstream: 'app',
      proxyHost: 'app',
    });
    expect(t.matchHost('b.test').routes[0]?.proxy?.uri).to.equal('/v2/');
  });

  describe('per listener port (issue 18, nginx server tables per address:port)', () => {
    const bound = () =>
      compileSiteTable({
        ...config([
          site({ hosts: ['a.test'], listen: [80], tls: { kind: 'off' }, routes: [ret('/')] }),
          site({ hosts: ['a.test', 'b.test'], listen: [443] }),
          site({ hosts: ['c.test'], listen: [80, 443], default: true, defaultPorts: [443] }),
        ]),
        listen: { http: [{ port: 80 }], https: [{ port: 443 }, { port: 0 }] },
      });

    it('finds one name in a different site on each port, with each port\'s default', () => {
      const t = bound();
      expect(siteFor(t.forPort(80), 'a.test')).to.equal(0);
      expect(siteFor(t.forPort(443), 'a.test')).to.equal(1);
      expect(t.forPort(80).findHost('b.test'), 'b.test is not on port 80').to.equal(undefined);
      expect(siteFor(t.forPort(80), 'b.test'), 'port 80 has no default: its first site').to.equal(0);
      expect(siteFor(t.forPort(443), 'unknown.test'), 'default: [443]').to.equal(2);
      expect(t.sites.map((s) => s.index), 'every site is compiled once').to.deep.equal([0, 1, 2]);
    });

    it('gives a port no site names the sites on every port, and is itself when no site is bound', () => {
      const t = compileSiteTable({
        ...config([site({ hosts: ['a.test'], listen: [443] }), site({ hosts: ['any.test'] })]),
        listen: { http: [], https: [{ port: 443 }, { port: 0 }] },
      });
      expect(siteFor(t.forPort(443), 'a.test')).to.equal(0);
      expect(siteFor(t.forPort(40123), 'a.test'), 'a port-0 listener, bound at start').to.equal(1);
      const plain = table([{ hosts: ['a.test'] }]);
      expect(plain.forPort(443)).to.equal(plain);
    });
  });

  describe('config errors', () => {
    const error = (sites: Parameters<typeof table>[0]): ConfigError => {
      try {
        table(sites);
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        return err as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    it('rejects a wildcard in the middle or a bad regex', () => {
      expect(error([{ hosts: ['www.*.com'] }]).message).to.match(/invalid host "www\.\*\.com"/);
      expect(error([{ hosts: ['*'] }]).message).to.match(/invalid host/);
      expect(error([{ hosts: ['~('] }]).message).to.match(/does not compile/);
    });
    it('rejects a config with no site', () => {
      expect(error([]).message).to.match(/no sites/);
    });
  });
});
