// issue 17: `rewrite:` on sites and routes and top-level `maps:`: what they parse to, and every
// mistake reported at FILE:LINE:COL, with a hint where one helps.
import { expect } from 'chai';
import { expectErrorAt, expectWarningAt, lines, valid } from './helpers.js';
import { declaredVariables, parseCondition, splitWords } from '../../../src/config/rewrite.js';

const HEAD = ['listen: { http: 8080 }'];

function site(...body: string[]): string[] {
  return [...HEAD, 'sites:', '  - hosts: a.test', '    tls: off', ...body];
}

describe('config/rewrite', () => {
  it('reads every step form in order, on a site and on a route', () => {
    const c = valid(
      lines(
        ...site(
          '    rewrite:',
          "      - '^/old/(.*)$ /new/$1 permanent'",
          "      - rewrite: '^/a/(.*)$ /b/$1 last'",
          "      - set: { $mobile: '1', $x: '$host' }",
          "      - if: '$http_user_agent ~* (iphone|android)'",
          '        then:',
          '          - return: 403',
          '      - break: true',
          '    routes:',
          '      - location: /',
          '        root: /srv/www',
          '        rewrite:',
          "          - return: '301 https://$host$request_uri'",
        ),
      ),
    );
    const s = c.sites[0]!;
    expect(s.rewrite?.map((r) => r.kind)).to.deep.equal(['rewrite', 'rewrite', 'set', 'set', 'if', 'break']);
    expect(s.rewrite?.[0]).to.include({ regex: '^/old/(.*)$', replacement: '/new/$1', flag: 'permanent' });
    expect(s.rewrite?.[2]).to.include({ name: 'mobile', value: '1' });
    const cond = s.rewrite?.[4];
    expect(cond?.kind === 'if' && cond.condition).to.deep.equal({ op: '~*', left: '$http_user_agent', regex: '(iphone|android)' });
    expect(cond?.kind === 'if' && cond.then).to.have.length(1);
    expect(s.routes[0]!.rewrite?.[0]).to.include({ kind: 'return', status: 301, text: 'https://$host$request_uri' });
  });

  it('a return body keeps its trailing newline, as nginx sends it (a step and a route return alike)', () => {
    const c = valid(lines(...site('    routes:', '      - location: /', '        rewrite: [{ return: "200 hi $uri\\n" }]', '      - location: /r/', '        return: "200 r\\n"')));
    expect(c.sites[0]!.routes[0]!.rewrite?.[0]).to.include({ status: 200, text: 'hi $uri\n' });
    expect(c.sites[0]!.routes[1]!.return).to.deep.equal({ status: 200, text: 'r\n' });
  });

  it('a route of rewrite steps alone is valid (nginx: location /old { rewrite ... permanent; })', () => {
    const c = valid(lines(...site('    routes:', '      - location: /old/', "        rewrite: ['^/old/(.*)$ /new/$1 permanent']")));
    expect(c.sites[0]!.routes[0]!.rewrite).to.have.length(1);
  });

  it('a set or map variable is declared for the whole config (nginx declares them config-wide)', () => {
    const c = valid(
      lines(
        ...HEAD,
        'maps:',
        '  $conn:',
        '    from: $http_upgrade',
        '    default: upgrade',
        "    values: { '': close, '~^(?<proto>web)': '$proto' }",
        'sites:',
        '  - hosts: a.test',
        '    tls: off',
        '    routes:',
        '      - location: /a/',
        '        proxy: http://127.0.0.1:9',
        '        headers: { request: { set: { Connection: $conn, X-User: $user, X-Proto: $proto } } }',
        '      - location: /b/',
        '        root: /srv',
        "        rewrite: [{ set: { $user: '$remote_addr' } }]",
      ),
    );
    expect(c.maps?.[0]).to.deep.include({ name: 'conn', from: '$http_upgrade', default: 'upgrade', hostnames: false });
    expect(c.maps?.[0]?.values).to.deep.equal([
      ['', 'close'],
      ['~^(?<proto>web)', '$proto'],
    ]);
  });

  it('an undeclared variable stays an error, with a hint among declared ones', () => {
    const L = site('    routes:', '      - location: /', '        root: /srv', "        rewrite: [{ set: { $mobile: '1' } }, { return: '200 $mobil' }]");
    expectErrorAt(L, "'200 $mobil'", 'unknown variable "$mobil" (did you mean "$mobile"?)');
    expectErrorAt(site('    rewrite:', "      - '^/(.*)$ /x/$hots'"), "'^/", 'unknown variable "$hots" (did you mean "$host"?)');
  });

  it('reports a bad flag, a bad regex and a wrong word count', () => {
    expectErrorAt(site('    rewrite:', "      - '^/a /b lsat'"), "'^/a", 'rewrite flag "lsat" must be one of last, break, redirect, permanent (did you mean "last"?)');
    expectErrorAt(site('    rewrite:', "      - '^/(a /b'"), "'^/(a", 'regex "^/(a" does not compile');
    expectErrorAt(site('    rewrite:', "      - '^/a'"), "'^/a'", 'must be "REGEX REPLACEMENT [FLAG]"');
    expectErrorAt(site('    rewrite:', "      - '^/a /b last extra'"), "'^/a", 'must be "REGEX REPLACEMENT [FLAG]"');
  });

  it('reports unknown keys of a step and of a map with a hint', () => {
    expectErrorAt(site('    rewrite:', '      - retrun: 403'), 'retrun', 'unknown key "retrun" (did you mean "return"?)');
    expectErrorAt([...HEAD, 'maps:', '  $c: { form: $uri }', 'sites: [{ hosts: a.test, tls: off }]'], 'form', 'unknown key "form" (did you mean "from"?)');
    expectErrorAt(site('    rewrite:', '      - break: false'), 'false', 'break must be true');
  });

  it('reports a step with two actions, then without if, and if without then', () => {
    expectErrorAt(site('    rewrite:', "      - { set: { $a: '1' }, return: 403 }"), '{ set', 'this one has set and return');
    expectErrorAt(site('    rewrite:', '      - { return: 403, then: [] }'), '[]', '"then" belongs to an "if" step');
    expectErrorAt(site('    rewrite:', "      - if: '$host'"), "'$host'", 'needs "then"');
  });

  it('refuses what nginx cannot do safely inside an if: proxy, root, a nested if', () => {
    const L = site('    rewrite:', "      - if: '$http_x'", '        then:', '          - proxy: http://127.0.0.1:9');
    expectErrorAt(L, 'proxy', 'proxy inside an if is not supported (nginx\'s "if is evil"');
    const N = site('    rewrite:', "      - if: '$http_x'", '        then:', "          - if: '$http_y'", '            then: []');
    expectErrorAt(N, "if: '$http_y'", 'cannot be inside another "if"');
    const U = site('    rewrite:', "      - if: '$http_x'", '        then:', '          - retrun: 403');
    expectErrorAt(U, 'retrun', 'unknown key "retrun" in an if\'s then (did you mean "return"?)');
  });

  it('warns on if together with tryFiles in one route', () => {
    const L = site(
      '    routes:',
      '      - location: /',
      '        root: /srv',
      '        tryFiles: [$uri, =404]',
      "        rewrite: [{ if: '$http_x', then: [{ return: 403 }] }]",
    );
    expectWarningAt(L, "'$http_x'", 'if together with tryFiles');
  });

  it('reports bad if conditions', () => {
    expectErrorAt(site('    rewrite:', "      - { if: 'host = x', then: [] }"), "'host = x'", 'starts with a variable ($name) or a file test');
    expectErrorAt(site('    rewrite:', "      - { if: '$host == x', then: [] }"), "'$host == x'", 'unknown operator "=="');
    expectErrorAt(site('    rewrite:', "      - { if: '$host ~ (x', then: [] }"), "'$host ~ (x'", 'regex "(x" does not compile');
    expectErrorAt(site('    rewrite:', "      - { if: '-f', then: [] }"), "'-f'", '-f takes one path');
    expectErrorAt(site('    rewrite:', "      - { if: '$hots', then: [] }"), "'$hots'", 'unknown variable "$hots"');
  });

  it('reports set on a non-variable or on one of nginx\'s own variables', () => {
    expectErrorAt(site('    rewrite:', "      - set: { mobile: '1' }"), 'mobile', '"mobile" is not a variable name');
    expectErrorAt(site('    rewrite:', "      - set: { $uri: '/x' }"), '$uri', "$uri is one of nginx's own variables");
    expectErrorAt(site('    rewrite:', "      - set: { $http_x: '1' }"), '$http_x', "one of nginx's own variables");
    // $args is the exception nginx makes.
    valid(lines(...site('    rewrite:', "      - set: { $args: 'a=1' }")));
  });

  it('reports a bad return', () => {
    expectErrorAt(site('    rewrite:', '      - return: 999'), '999', 'return code 999 is not an HTTP status');
    expectErrorAt(site('    rewrite:', '      - return: 301'), '301', 'return 301 needs a URL');
  });

  it('reports map mistakes: name, default inside values, bad regex, bad hostnames key, unknown variable', () => {
    const m = (...body: string[]) => [...HEAD, 'maps:', ...body, 'sites: [{ hosts: a.test, tls: off }]'];
    expectErrorAt(m('  conn: { from: $http_upgrade }'), 'conn', 'map name "conn" must be a variable');
    expectErrorAt(m('  $uri: { from: $http_upgrade }'), '$uri', "one of nginx's own variables");
    expectErrorAt(m('  $c: { from: $http_upgrade, values: { default: x } }'), 'default', 'write the default value as "default:"');
    expectErrorAt(m("  $c: { from: $http_upgrade, values: { '~(x': y } }"), "'~(x'", 'regex "(x" does not compile');
    expectErrorAt(m("  $c: { from: $host, hostnames: true, values: { 'a.*.b': y } }"), "'a.*.b'", 'must be like *.example.com');
    expectErrorAt(m('  $c: { from: $hots }'), '$hots', 'unknown variable "$hots" (did you mean "$host"?)');
    expectErrorAt(m('  $c: { values: {} }'), '{ values', 'missing required key "from"');
  });

  it('collects declared names everywhere: set (also in then and nested routes), named captures, maps, forwardAuth.set', () => {
    const raw = {
      maps: { $m: { from: '$uri', values: { '~^/(?<mcap>x)': '1' } } },
      sites: [
        {
          rewrite: ['^/(?<cap>a) /b', { if: '$uri ~ ^/(?P<ifcap>c)', then: [{ set: { $inner: '1' } }] }],
          forwardAuth: { url: 'http://a', set: { $user: '$upstream_http_x' } },
          routes: [{ location: '/', routes: [{ location: '/n/', rewrite: [{ set: { $nested: '1', bad: '2' } }] }] }],
        },
      ],
    };
    expect([...declaredVariables(raw)].sort()).to.deep.equal(['cap', 'ifcap', 'inner', 'mcap', 'nested', 'user']);
  });

  it('splits words as nginx does: quotes hold spaces', () => {
    expect(splitWords(`'^/a b/(.*)$' "/c d/$1" last`)).to.deep.equal(['^/a b/(.*)$', '/c d/$1', 'last']);
    expect(() => splitWords(`'^/a /b`)).to.throw('unbalanced');
  });

  it('parses every if form, with or without parentheses', () => {
    expect(parseCondition('($a)')).to.deep.equal({ op: 'value', value: '$a' });
    expect(parseCondition('$a = "x y"')).to.deep.equal({ op: '=', left: '$a', right: 'x y' });
    expect(parseCondition('$a != ""')).to.deep.equal({ op: '!=', left: '$a', right: '' });
    for (const op of ['~', '~*', '!~', '!~*']) expect(parseCondition(`$a ${op} ^x`)).to.deep.equal({ op, left: '$a', regex: '^x' });
    for (const op of ['-f', '!-f', '-d', '!-d', '-e', '!-e', '-x', '!-x']) {
      expect(parseCondition(`(${op} $request_filename)`)).to.deep.equal({ op, path: '$request_filename' });
    }
  });
});
