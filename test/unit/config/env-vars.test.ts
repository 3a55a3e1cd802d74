// issue 17: `${VAR}` and `${VAR:-default}` from the environment in config values: substituted at
// load (and so at every reload, which loads again), a missing one named at FILE:LINE:COL of its
// `${`, keys left alone, nginx's lower-case `${scheme}` left to be a variable, `$${VAR}` for the
// text itself, and a value from the environment never shown in a message.
import { expect } from 'chai';
import { parseNative } from '../../../src/config/native.js';
import { ConfigError, type ConfigIssue } from '../../../src/config/types.js';
import { at, FILE, lines } from './helpers.js';

const config = (...site: string[]): string[] => [
  "listen: { http: '${PORT:-8080}' }",
  'sites:',
  '  - hosts: ${SITE_HOST}',
  '    tls: off',
  '    routes:',
  ...site,
];

function load(ls: string[], env: NodeJS.ProcessEnv) {
  return parseNative(lines(...ls), FILE, env).config;
}

function issues(ls: string[], env: NodeJS.ProcessEnv): ConfigIssue[] {
  try {
    parseNative(lines(...ls), FILE, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  expect.fail('expected a ConfigError');
}

describe('environment variables in config values', () => {
  it('substitutes ${VAR}, and ${VAR:-default} when VAR is unset or empty', () => {
    const ls = config("      - { location: /, return: '200 \"${GREETING:-hi} ${WHO}\"' }");
    const c = load(ls, { SITE_HOST: 'a.test', WHO: 'there', GREETING: '' });
    expect(c.sites[0]?.hosts).to.deep.equal(['a.test']);
    expect(c.listen.http).to.deep.equal([{ port: 8080 }]);
    expect(c.sites[0]?.routes[0]?.return?.text).to.equal('hi there');
    expect(load(ls, { SITE_HOST: 'a.test', WHO: 'x', PORT: '9090' }).listen.http).to.deep.equal([{ port: 9090 }]);
  });

  it('leaves lower-case ${scheme} to nginx templates, and writes $${VAR} as the text ${VAR}', () => {
    const ls = config("      - { location: /, return: '301 ${scheme}://$host/' }");
    const c = load(['storage: /srv/$${NOT_ENV}', ...ls], { SITE_HOST: 'a.test' });
    expect(c.sites[0]?.routes[0]?.return?.text).to.equal('${scheme}://$host/');
    expect(c.storage).to.equal('/srv/${NOT_ENV}');
  });

  it('reads an unquoted value that becomes a number as a number; a quoted one stays text', () => {
    // (In a flow map `{ ... }` a plain `${` is not YAML: quote it there.)
    const ls = ['listen: { http: 8080 }', 'upstreams:', '  app:', '    servers: http://127.0.0.1:9000', '    maxFails: ${FAILS}', ...config('      - { location: /, proxy: app }').slice(1)];
    expect(load(ls, { SITE_HOST: 'a.test', FAILS: '3' }).upstreams.app?.maxFails).to.equal(3);
    const quoted = ls.map((l) => l.replace('${FAILS}', "'${FAILS}'"));
    expect(issues(quoted, { SITE_HOST: 'a.test', FAILS: '3' }).map((i) => i.message).join()).to.contain('maxFails');
  });

  it('substitutes once: a value that itself holds ${OTHER} is kept as it is', () => {
    const c = load(['storage: /srv/${DIR}', ...config('      - { location: /, return: 204 }')], { SITE_HOST: 'a.test', DIR: '${SECRET}', SECRET: 'x' });
    expect(c.storage).to.equal('/srv/${SECRET}');
  });

  it('does not substitute keys', () => {
    const ls = ['listen: { http: 8080 }', 'upstreams:', '  ${NAME}: { servers: http://127.0.0.1:9000 }', ...config('      - { location: /, proxy: app }').slice(1)];
    const found = issues(ls, { SITE_HOST: 'a.test', NAME: 'app' });
    expect(found.map((i) => i.message).join('\n')).to.contain('unknown upstream "app"');
  });

  it('names a missing variable at the line and column of its ${, every one of them', () => {
    const ls = config("      - { location: /, return: '200 \"${A:-x} ${MISSING} ${MISSING}\"' }");
    const found = issues(ls, {});
    const where = (i: ConfigIssue) => `${i.pos.line}:${i.pos.col} ${i.message}`;
    const host = at(ls, '${SITE_HOST}');
    const first = at(ls, '${MISSING}');
    const second = at(ls, '${MISSING}', 2);
    expect(found.map(where)).to.deep.equal([
      `${host.line}:${host.col} environment variable SITE_HOST is not set (write \${SITE_HOST:-default} for a default, or $\${SITE_HOST} for the text itself)`,
      `${first.line}:${first.col} environment variable MISSING is not set (write \${MISSING:-default} for a default, or $\${MISSING} for the text itself)`,
      `${second.line}:${second.col} environment variable MISSING is not set (write \${MISSING:-default} for a default, or $\${MISSING} for the text itself)`,
    ]);
  });

  it('never shows a value from the environment in a message, only the variable name', () => {
    const secret = 'hunter2-Sup3r-secret';
    const ls = ['listen: { http: 8080 }', 'storage: ${STORE}', ...config('      - { location: /, return: 204 }').slice(1)];
    const found = issues(ls, { SITE_HOST: 'a.test', STORE: `ftp://user:${secret}@h/` });
    const text = found.map((i) => i.message).join('\n');
    expect(text).to.contain('${STORE}');
    expect(text).to.not.contain(secret);
  });
});
