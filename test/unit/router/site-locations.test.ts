import { expect } from 'chai';
import { ConfigError } from '../../../src/config/types.js';
import type { CompiledSite } from '../../../src/router/types.js';
import { compileRoutes, type RouteInput } from './fixture.js';

/** The location string of the route chosen for `path`, or undefined for no match. */
function pick(s: CompiledSite, path: string): string | undefined {
  return s.matchLocation(path)?.route.config.location;
}

describe('router: location matching (nginx order)', () => {
  describe('the example table of the nginx `location` docs', () => {
    const s = compileRoutes([
      { location: '= /', return: { status: 200, text: 'A' } },
      { location: '/', root: '/srv/B' },
      { location: '/documents/', root: '/srv/C' },
      { location: '^~ /images/', root: '/srv/D' },
      { location: '~* \\.(gif|jpg|jpeg)$', root: '/srv/E' },
    ]);
    const cases: Array<[string, string]> = [
      ['/', '= /'],
      ['/index.html', '/'],
      ['/documents/document.html', '/documents/'],
      ['/images/1.gif', '^~ /images/'],
      ['/documents/1.jpg', '~* \\.(gif|jpg|jpeg)$'],
    ];
    for (const [path, expected] of cases) {
      it(`${path} → ${expected}`, () => expect(pick(s, path)).to.equal(expected));
    }
  });

  it('uses the longest prefix whatever the config order, and prefixes need not end at a slash', () => {
    const s = compileRoutes([
      { location: '/a', root: '/x' },
      { location: '/a/b/c', root: '/x' },
      { location: '/a/b', root: '/x' },
    ]);
    expect(pick(s, '/a/b/c/d')).to.equal('/a/b/c');
    expect(pick(s, '/a/b/x')).to.equal('/a/b');
    expect(pick(s, '/a/bc')).to.equal('/a/b');
    expect(pick(s, '/abc')).to.equal('/a');
    expect(pick(s, '/b')).to.equal(undefined);
  });

  it('an exact location matches only the same path and beats ^~ and regexes', () => {
    const s = compileRoutes([
      { location: '^~ /x', root: '/x' },
      { location: '~ ^/x', root: '/x' },
      { location: '= /x', root: '/x' },
    ]);
    expect(pick(s, '/x')).to.equal('= /x');
    expect(pick(s, '/x/y')).to.equal('^~ /x');
  });

  it('tries regexes in config order and takes the first match', () => {
    const s = compileRoutes([
      { location: '~ /img/', root: '/1' },
      { location: '~ \\.png$', root: '/2' },
    ]);
    expect(pick(s, '/img/a.png')).to.equal('~ /img/');
    expect(pick(s, '/other/a.png')).to.equal('~ \\.png$');
  });

  it('a regex beats a longer plain prefix; the prefix is used when no regex matches', () => {
    const s = compileRoutes([
      { location: '/static/deep/', root: '/p' },
      { location: '~ \\.php$', root: '/r' },
    ]);
    expect(pick(s, '/static/deep/x.php')).to.equal('~ \\.php$');
    expect(pick(s, '/static/deep/x.html')).to.equal('/static/deep/');
  });

  it('^~ stops the regex search only when it is the longest prefix', () => {
    const s = compileRoutes([
      { location: '^~ /assets/', root: '/a' },
      { location: '/assets/js/', root: '/b' },
      { location: '~ \\.js$', root: '/c' },
    ]);
    expect(pick(s, '/assets/x.js')).to.equal('^~ /assets/');
    expect(pick(s, '/assets/js/x.js')).to.equal('~ \\.js$');
  });

  it('~ is case-sensitive and ~* is not', () => {
    const cs = compileRoutes([{ location: '~ \\.PNG$', root: '/x' }]);
    const ci = compileRoutes([{ location: '~* \\.PNG$', root: '/x' }]);
    expect(pick(cs, '/a.png')).to.equal(undefined);
    expect(pick(cs, '/a.PNG')).to.equal('~ \\.PNG$');
    expect(pick(ci, '/a.png')).to.equal('~* \\.PNG$');
  });

  it('prefix matching is case-sensitive, as ngx_filename_cmp on Unix', () => {
    const s = compileRoutes([{ location: '/App/', root: '/x' }]);
    expect(pick(s, '/app/x')).to.equal(undefined);
  });

  it('returns the regex captures ($1..), unmatched groups as empty strings', () => {
    const s = compileRoutes([
      { location: '~ ^/users/(\\d+)(?:/(\\w+))?$', proxy: 'http://127.0.0.1:9000' },
      { location: '/', root: '/x' },
    ]);
    expect(s.matchLocation('/users/42/posts')?.captures).to.deep.equal(['42', 'posts']);
    expect(s.matchLocation('/users/42')?.captures).to.deep.equal(['42', '']);
    expect(s.matchLocation('/other')).to.not.have.property('captures');
  });

  it('returns undefined when nothing matches', () => {
    const s = compileRoutes([{ location: '/api/', proxy: 'http://127.0.0.1:9000' }]);
    expect(s.matchLocation('/web')).to.equal(undefined);
  });

  describe('named locations', () => {
    const s = compileRoutes([
      { location: '@fallback', proxy: 'http://127.0.0.1:9000' },
      { location: '/', root: '/x' },
    ]);
    it('never match a path', () => {
      expect(pick(s, '/@fallback')).to.equal('/');
      expect(pick(s, 'fallback')).to.equal(undefined);
    });
    it('are found by name, with or without the @', () => {
      expect(s.named('fallback')?.config.location).to.equal('@fallback');
      expect(s.named('@fallback')?.config.location).to.equal('@fallback');
      expect(s.named('missing')).to.equal(undefined);
    });
  });

  describe('auto_redirect (a proxied "/x/" asked for as "/x")', () => {
    const redirect = (routes: RouteInput[], path: string) => compileRoutes(routes).matchLocation(path);

    it('redirects to the location with its slash', () => {
      const m = redirect([{ location: '/app/', proxy: 'http://127.0.0.1:8080' }, { location: '/', root: '/x' }], '/app');
      expect(m?.autoRedirect).to.equal(true);
      expect(m?.route.config.location).to.equal('/app/');
    });

    it('does not redirect the slashed path itself, nor a longer one', () => {
      const s = compileRoutes([{ location: '/app/', proxy: 'http://127.0.0.1:8080' }]);
      expect(s.matchLocation('/app/')?.autoRedirect).to.equal(undefined);
      expect(s.matchLocation('/app/x')?.autoRedirect).to.equal(undefined);
      expect(s.matchLocation('/ap')).to.equal(undefined);
    });

    it('applies to every proxy scheme (fastcgi_pass, uwsgi_pass... set it too) and to ^~', () => {
      expect(redirect([{ location: '/php/', proxy: 'fastcgi://127.0.0.1:9000' }], '/php')?.autoRedirect).to.equal(true);
      expect(redirect([{ location: '^~ /py/', proxy: 'uwsgi://127.0.0.1:3031' }], '/py')?.autoRedirect).to.equal(true);
    });

    it('applies to an exact "= /x/" proxied location too, as in nginx', () => {
      expect(redirect([{ location: '= /e/', proxy: 'http://127.0.0.1:1' }], '/e')?.autoRedirect).to.equal(true);
    });

    it('loses to an exact location for the path', () => {
      const m = redirect(
        [
          { location: '/app/', proxy: 'http://127.0.0.1:8080' },
          { location: '= /app', return: { status: 204 } },
        ],
        '/app',
      );
      expect(m?.autoRedirect).to.equal(undefined);
      expect(m?.route.config.location).to.equal('= /app');
    });

    it('loses to a prefix location named exactly the path', () => {
      const m = redirect(
        [
          { location: '/app/', proxy: 'http://127.0.0.1:8080' },
          { location: '/app', root: '/x' },
        ],
        '/app',
      );
      expect(m?.autoRedirect).to.equal(undefined);
      expect(m?.route.config.location).to.equal('/app');
    });

    it('wins over a regex and over a shorter ^~ prefix (nginx returns before the regex search)', () => {
      const m = redirect(
        [
          { location: '^~ /ap', root: '/x' },
          { location: '~ ^/app$', root: '/x' },
          { location: '/app/', proxy: 'http://127.0.0.1:8080' },
        ],
        '/app',
      );
      expect(m?.autoRedirect).to.equal(true);
    });

    it('is not done for static files or return routes', () => {
      expect(redirect([{ location: '/s/', root: '/x' }, { location: '/', root: '/y' }], '/s')?.route.config.location).to.equal('/');
      expect(redirect([{ location: '/r/', return: { status: 204 } }], '/r')).to.equal(undefined);
    });
  });

  describe('config errors', () => {
    const fails = (routes: RouteInput[]): ConfigError => {
      try {
        compileRoutes(routes);
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        return err as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };

    it('rejects duplicate locations, "/x" and "^~ /x" included', () => {
      expect(fails([{ location: '/x', root: '/a' }, { location: '^~ /x', root: '/b' }]).message).to.match(/duplicate location "\^~ \/x"/);
      expect(fails([{ location: '= /x', root: '/a' }, { location: '= /x', root: '/b' }]).message).to.match(/duplicate location/);
      expect(fails([{ location: '@n', root: '/a' }, { location: '@n', root: '/b' }]).message).to.match(/duplicate location/);
    });

    it('allows "= /x" beside "/x"', () => {
      const s = compileRoutes([{ location: '= /x', root: '/a' }, { location: '/x', root: '/b' }]);
      expect(pick(s, '/x')).to.equal('= /x');
      expect(pick(s, '/x/1')).to.equal('/x');
    });

    it('rejects a fixed proxy URI part in a regex or named location, as nginx does', () => {
      expect(fails([{ location: '~ \\.php$', proxy: 'http://127.0.0.1:1/x/' }]).message).to.match(/cannot have a URI part/);
      expect(fails([{ location: '@n', proxy: 'http://127.0.0.1:1/' }]).message).to.match(/cannot have a URI part/);
      expect(() => compileRoutes([{ location: '~ ^/u/(\\d+)$', proxy: 'http://127.0.0.1:1/users/$1' }])).to.not.throw();
    });

    it('reports every bad route with its position', () => {
      const err = fails([
        { location: '~ (', root: '/a', pos: { file: 'g.yaml', line: 7, col: 5 } },
        { location: 'nope', root: '/a', pos: { file: 'g.yaml', line: 9, col: 5 } },
        { location: '/p', proxy: 'ftp://x', pos: { file: 'g.yaml', line: 11, col: 5 } },
      ]);
      expect(err.issues.map((i) => i.pos.line)).to.deep.equal([7, 9, 11]);
      expect(err.message).to.match(/^g\.yaml:7:5: /);
    });
  });

  it('finds the longest prefix among hundreds of locations like a linear scan does', () => {
    let seed = 0x2545f491;
    const rnd = (n: number): number => {
      // xorshift32: deterministic, so a failure names a path that can be replayed.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const word = (): string => ['a', 'b', 'ab', 'ba', 'c', 'aa'][rnd(6)] as string;
    const locations = new Set<string>();
    while (locations.size < 400) {
      let p = '';
      for (let d = rnd(4) + 1; d > 0; d--) p += `/${word()}`;
      locations.add(rnd(3) === 0 ? `${p}/` : p);
    }
    const list = [...locations];
    const s = compileRoutes(list.map((location) => ({ location, root: '/x' })));
    for (let i = 0; i < 2000; i++) {
      let path = '';
      for (let d = rnd(6) + 1; d > 0; d--) path += `/${word()}`;
      const expected = list
        .filter((l) => path.startsWith(l))
        .sort((a, b) => b.length - a.length)[0];
      expect(pick(s, path), path).to.equal(expected);
    }
  });
});
