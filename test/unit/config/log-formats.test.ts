// issue 17: `log.formats`, `log.format` naming one, and `accessLog` on sites and routes: every name
// checked at its FILE:LINE:COL with a hint for a misspelt one.
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import { at, expectErrorAt, FILE, lines, valid } from './helpers.js';

const base = (...rest: string[]): string[] => [
  'listen: { http: 8080 }',
  'log:',
  '  formats:',
  "    main: '$remote_addr [$time_local] \"$request\" $status'",
  '    js: { format: \'{"ua":"$http_user_agent"}\', escape: json }',
  ...rest,
];
const sites = (...site: string[]): string[] => ['sites:', '  - hosts: a.test', '    tls: off', ...site, '    routes:', '      - location: /', '        return: 204'];

describe('log formats and accessLog (config)', () => {
  it('reads formats, log.format by name, and accessLog: off, NAME, { file, format } on sites and routes', () => {
    const c = valid(
      lines(
        ...base('  format: main'),
        'sites:',
        '  - hosts: a.test',
        '    tls: off',
        '    accessLog: { file: logs/a.log, format: js }',
        '    routes:',
        '      - { location: /health, return: 204, accessLog: off }',
        '      - { location: /x, return: 204, accessLog: combined }',
        '      - { location: /, return: 204 }',
      ),
      '/etc/gh/gatehouse.yaml',
    );
    expect(c.log.format).to.equal('main');
    expect(c.log.formats).to.deep.equal({
      main: { format: '$remote_addr [$time_local] "$request" $status', escape: 'default' },
      js: { format: '{"ua":"$http_user_agent"}', escape: 'json' },
    });
    const site = c.sites[0];
    expect(site?.accessLog).to.deep.equal({ file: '/etc/gh/logs/a.log', format: 'js' });
    // The third route writes none: it inherits the site's (config/inherit.ts).
    expect(site?.routes.map((r) => r.accessLog)).to.deep.equal(['off', { format: 'combined' }, { file: '/etc/gh/logs/a.log', format: 'js' }]);
  });

  it('a route inherits its site\'s accessLog, a nested route its parent\'s; its own replaces it', () => {
    const c = valid(
      lines(
        ...base(),
        'sites:',
        '  - hosts: a.test',
        '    tls: off',
        '    accessLog: main',
        '    routes:',
        '      - location: /app/',
        '        return: 204',
        '        routes:',
        '          - { location: /app/x, return: 204 }',
        '          - { location: /app/q, return: 204, accessLog: { file: /var/log/q.log, format: js } }',
        '      - { location: /, return: 204, accessLog: off }',
      ),
    );
    const [app, root] = c.sites[0]?.routes ?? [];
    expect(app?.accessLog).to.deep.equal({ format: 'main' });
    expect(app?.routes?.map((r) => r.accessLog)).to.deep.equal([{ format: 'main' }, { file: '/var/log/q.log', format: 'js' }]);
    expect(root?.accessLog).to.equal('off');
  });

  it('an unknown log.format, with a hint', () => {
    expectErrorAt([...base('  format: mian'), ...sites()], 'mian', 'unknown log format "mian" (did you mean "main"?)');
  });

  it('an unknown format in a site accessLog and in a route accessLog', () => {
    expectErrorAt([...base(), ...sites('    accessLog: jss')], 'jss', 'unknown log format "jss" (did you mean "js"?)');
    const ls = [...base(), 'sites:', '  - hosts: a.test', '    tls: off', '    routes:', '      - { location: /, return: 204, accessLog: { file: /tmp/x.log, format: comined } }'];
    expectErrorAt(ls, 'comined', 'unknown log format "comined" (did you mean "combined"?)');
  });

  it('a name that is no format at all lists the formats', () => {
    expectErrorAt([...base(), ...sites('    accessLog: zzzzzzzz')], 'zzzzzzzz', 'the formats are combined, json, main, js');
  });

  it('an unknown variable in a format, with a hint', () => {
    const ls = ['listen: { http: 8080 }', 'log:', '  formats:', "    bad: '$status $remote_adr'", "    b2: { format: 'x=${remote_adr}' }", ...sites()];
    // At the variable itself, not at the start of the value.
    expectErrorAt(ls, '$remote_adr', 'unknown variable "$remote_adr" (did you mean "$remote_addr"?)');
    expectErrorAt(ls, '${remote_adr}', 'unknown variable "$remote_adr"');
  });

  it('a predefined name cannot be redefined; a line break is refused; escape must be default, json or none', () => {
    expectErrorAt(['listen: { http: 8080 }', 'log:', '  formats:', "    combined: '$status'", ...sites()], 'combined', 'is predefined');
    expectErrorAt(['listen: { http: 8080 }', 'log:', '  formats:', '    two: "$status\\n$uri"', ...sites()], '"$status', 'line break');
    expectErrorAt(['listen: { http: 8080 }', 'log:', '  formats:', "    e: { format: '$status', escape: xml }", ...sites()], 'xml', 'must be default, json or none');
  });

  it('warns about escape: none over client bytes (log forging), not over server-made values', () => {
    const ls = ['listen: { http: 8080 }', 'log:', '  formats:', "    raw: { format: '$request $status', escape: none }", "    ok: { format: '$status $request_time', escape: none }", ...sites()];
    const { line, col } = at(ls, 'none');
    const warnings = parseConfig(lines(...ls), FILE).warnings;
    expect(warnings.map((w) => `${w.pos.line}:${w.pos.col} ${w.message}`)).to.deep.equal([
      `${line}:${col} log format "raw" has escape: none and logs what clients send: a request can forge log lines (use default or json)`,
    ]);
  });

  it('accessLog needs a file or a format; its file is a path, not stdout or off', () => {
    expectErrorAt([...base(), ...sites('    accessLog: {}')], '{}', 'needs a file, a format or both');
    expectErrorAt([...base(), ...sites('    accessLog: { file: stdout }')], 'stdout', 'must be a file path');
  });
});
