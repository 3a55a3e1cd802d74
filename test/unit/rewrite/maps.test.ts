// issue 17: nginx's map module: exact (case-insensitive), hostnames wildcards, regexes in written
// order with captures, the default; computed lazily, at most once per request.
import { expect } from 'chai';
import { compileTemplate, declareUserVariables } from '../../../src/http/variables.js';
import type { MapDefinition } from '../../../src/http/var-map.js';
import { request } from './helpers.js';

function mapOf(def: Partial<MapDefinition> & { values: Array<[string, string]> }): MapDefinition {
  return { name: 'm', from: '$http_x', default: 'dflt', hostnames: false, ...def };
}

function value(def: MapDefinition, x: string | undefined, extra: Record<string, string> = {}): string {
  declareUserVariables(['name'], [def]);
  const ctx = request('/p', x === undefined ? extra : { 'x': x, ...extra });
  return compileTemplate('$m')(ctx.vars);
}

describe('rewrite/maps', () => {
  it('exact keys, compared case-insensitively as nginx hashes them; the empty key; the default', () => {
    const def = mapOf({ values: [['websocket', 'upgrade'], ['', 'close']] });
    expect(value(def, 'websocket')).to.equal('upgrade');
    expect(value(def, 'WebSocket')).to.equal('upgrade');
    expect(value(def, undefined)).to.equal('close');
    expect(value(def, 'h2c')).to.equal('dflt');
    expect(value(mapOf({ default: '', values: [] }), 'x')).to.equal('');
  });

  it('regexes in written order after the exact keys, ~* without case, captures in the value', () => {
    const def = mapOf({ values: [['~^ba(r|z)$', 'ba-$1'], ['~*^QU(.)', 'qu-$1'], ['~^b', 'b-any'], ['bar', 'exact']] });
    expect(value(def, 'bar')).to.equal('exact');
    expect(value(def, 'baz')).to.equal('ba-z');
    expect(value(def, 'bax')).to.equal('b-any');
    expect(value(def, 'quux')).to.equal('qu-u');
    expect(value(def, 'other')).to.equal('dflt');
  });

  it('named captures of a regex key are variables for the value', () => {
    expect(value(mapOf({ values: [['~^(?<name>[a-z]+)-', 'n=$name']] }), 'abc-1')).to.equal('n=abc');
    expect(value(mapOf({ values: [['~^(?P<name>[a-z]+)-', 'n=$name']] }), 'xyz-1')).to.equal('n=xyz');
  });

  it('hostnames: exact first, then .example.com / *.example.com (longest), then mail.*; a trailing dot is ignored', () => {
    const def = mapOf({
      hostnames: true,
      values: [['.example.com', 'ex'], ['*.a.example.com', 'deep'], ['a.example.com', 'exact'], ['mail.*', 'mail'], ['*.test.org', 'test']],
    });
    expect(value(def, 'example.com')).to.equal('ex');
    expect(value(def, 'www.example.com')).to.equal('ex');
    expect(value(def, 'a.example.com')).to.equal('exact');
    expect(value(def, 'x.a.example.com')).to.equal('deep');
    expect(value(def, 'WWW.Example.COM.')).to.equal('ex');
    expect(value(def, 'x.test.org')).to.equal('test');
    expect(value(def, 'test.org')).to.equal('dflt');
    expect(value(def, 'mail.foo.net')).to.equal('mail');
    expect(value(def, 'mail')).to.equal('dflt');
  });

  it('values may hold variables; the map is computed once per request and cached', () => {
    const def = mapOf({ values: [['a', '$http_y-$uri']] });
    declareUserVariables([], [def]);
    const ctx = request('/p', { x: 'a', y: 'first' });
    const t = compileTemplate('$m|$m');
    expect(t(ctx.vars)).to.equal('first-/p|first-/p');
    ctx.ex.headers.y = 'second';
    expect(compileTemplate('$m')(ctx.vars)).to.equal('first-/p');
    // A new request computes it again.
    expect(compileTemplate('$m')(request('/q', { x: 'a', y: 'second' }).vars)).to.equal('second-/q');
  });

  it('a map that reads itself (a cycle) is \'\' instead of looping', () => {
    const a: MapDefinition = { name: 'ma', from: '$mb', default: 'A[$mb]', hostnames: false, values: [] };
    const b: MapDefinition = { name: 'mb', from: '$ma', default: 'B[$ma]', hostnames: false, values: [] };
    declareUserVariables([], [a, b]);
    expect(compileTemplate('$ma')(request('/').vars)).to.equal('A[B[]]');
  });

  it('$connection_upgrade, the websocket idiom', () => {
    const def: MapDefinition = { name: 'connection_upgrade', from: '$http_upgrade', default: 'upgrade', hostnames: false, values: [['', 'close']] };
    declareUserVariables([], [def]);
    const t = compileTemplate('$connection_upgrade');
    expect(t(request('/', { upgrade: 'websocket' }).vars)).to.equal('upgrade');
    expect(t(request('/').vars)).to.equal('close');
  });

  it('a template keeps the maps it was compiled under when another config is loaded (reload)', () => {
    const def: MapDefinition = { name: 'old', from: '$http_x', default: 'd', hostnames: false, values: [['a', '$inner']] };
    const inner: MapDefinition = { name: 'inner', from: '$http_x', default: 'in', hostnames: false, values: [] };
    declareUserVariables([], [def, inner]);
    const t = compileTemplate('$old');
    declareUserVariables([]);
    expect(t(request('/', { x: 'a' }).vars)).to.equal('in');
    expect(() => compileTemplate('$old')).to.throw('unknown variable "$old"');
  });

  after(() => declareUserVariables([]));
});
