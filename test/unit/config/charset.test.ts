// issue 18: `charset` and `charsetTypes` on sites and routes (nginx's charset and charset_types):
// one rule per route made at load, each key inherited on its own, `off` overriding, errors at
// their lines.
import { expect } from 'chai';
import { expectErrorAt, issuesOf, lines, valid } from './helpers.js';
import { DEFAULT_CHARSET_TYPES, withCharset, type CharsetRule } from '../../../src/http/charset.js';

const HEAD = ['listen: { http: 8080 }', 'sites:', '  - hosts: a.test', '    tls: off'];

function route(...keys: string[]): string[] {
  return [...HEAD, '    routes:', '      - location: /', '        root: /srv', ...keys.map((k) => `        ${k}`)];
}

describe('config/charset (issue 18)', () => {
  it('makes a site\'s charset one rule with nginx\'s default types; a route inherits it, `off` and its own types replace it', () => {
    const c = valid(
      lines(
        ...HEAD,
        '    charset: utf-8',
        '    routes:',
        '      - location: /a/',
        '        root: /srv',
        '      - location: /b/',
        '        root: /srv',
        '        charset: off',
        '      - location: /c/',
        '        root: /srv',
        '        charsetTypes: [Text/CSS, text/html]',
        '        routes:',
        '          - location: /c/d/',
        '            charset: koi8-r',
      ),
    );
    const site = c.sites[0]!;
    expect(site.charset).to.deep.equal({ suffix: '; charset=utf-8', types: new Set(DEFAULT_CHARSET_TYPES) });
    const [a, b, cr] = site.routes;
    expect(a!.charset).to.deep.equal(site.charset);
    expect(b!.charset).to.equal('off');
    // The two keys inherit separately: /c/ keeps the site's charset with its own types, /c/d/ both of /c/'s types and its own name.
    expect(cr!.charset).to.deep.equal({ suffix: '; charset=utf-8', types: new Set(['text/css', 'text/html']) });
    expect(cr!.routes![0]!.charset).to.deep.equal({ suffix: '; charset=koi8-r', types: new Set(['text/css', 'text/html']) });
  });

  it('charsetTypes without a charset adds nothing; `*` is every type', () => {
    const c = valid(lines(...HEAD, '    charsetTypes: text/css', '    routes:', '      - location: /', '        root: /srv', '        charset: utf-8', '        charsetTypes: ["*", text/css]'));
    expect(c.sites[0]!.charset).to.equal(undefined);
    expect(c.sites[0]!.routes[0]!.charset).to.deep.equal({ suffix: '; charset=utf-8', types: '*' });
  });

  it('reports a charset from a variable, a name that is not a token and a bad media type where they are written', () => {
    expectErrorAt(route('charset: $cs'), '$cs', 'a charset from a variable is not supported');
    expectErrorAt(route('charset: "utf 8"'), '"utf 8"', 'is not a charset name like utf-8');
    expectErrorAt(route('charset: "a;b"'), '"a;b"', 'is not a charset name like utf-8');
    expectErrorAt(route('charsetTypes: [text/html, html]'), 'html]', '"html" is not a media type like text/html');
    expectErrorAt(route('charset: 88'), '88', 'a charset name like utf-8, or off');
  });

  it('an error in a site\'s charset is reported once, at the site\'s line', () => {
    const ls = [...HEAD, '    charset: "x y"', '    routes:', '      - location: /a/', '        root: /srv', '      - location: /b/', '        root: /srv'];
    expectErrorAt(ls, '"x y"', 'is not a charset name');
    expect(issuesOf(lines(...ls)).map((i) => `${i.pos.line}:${i.pos.col}`)).to.deep.equal(['5:14']);
  });
});

describe('http/charset: which Content-Types get the charset (ngx_http_charset_filter_module)', () => {
  const rule: CharsetRule = { suffix: '; charset=utf-8', types: new Set(DEFAULT_CHARSET_TYPES) };
  const all: CharsetRule = { suffix: '; charset=utf-8', types: '*' };

  it('adds it to a listed type in any case, not to another type', () => {
    expect(withCharset(rule, 200, 'text/html')).to.equal('text/html; charset=utf-8');
    expect(withCharset(rule, 404, 'Text/HTML')).to.equal('Text/HTML; charset=utf-8');
    expect(withCharset(rule, 200, 'application/javascript')).to.equal('application/javascript; charset=utf-8');
    expect(withCharset(rule, 200, 'text/css')).to.equal(undefined);
    expect(withCharset(rule, 200, 'application/json')).to.equal(undefined);
    expect(withCharset(rule, 200, '')).to.equal(undefined);
  });

  it('leaves a type that names a charset, or has other parameters (looked up whole), as it is', () => {
    expect(withCharset(rule, 200, 'text/html; charset=ISO-8859-1')).to.equal(undefined);
    expect(withCharset(rule, 200, 'text/html;charset=x')).to.equal(undefined);
    expect(withCharset(rule, 200, 'text/html; q=1')).to.equal(undefined);
    expect(withCharset(all, 200, 'text/html; q=1')).to.equal('text/html; q=1; charset=utf-8');
    expect(withCharset(all, 200, 'text/html;  CHARSET=x')).to.equal(undefined);
    expect(withCharset(all, 200, 'image/png')).to.equal('image/png; charset=utf-8');
  });

  it('never on a 301 or 302 (ngx_http_set_charset), on a 303, 307 and 308 yes', () => {
    expect(withCharset(rule, 301, 'text/html')).to.equal(undefined);
    expect(withCharset(rule, 302, 'text/html')).to.equal(undefined);
    for (const s of [303, 307, 308]) expect(withCharset(rule, s, 'text/html')).to.equal('text/html; charset=utf-8');
  });
});
