// issue 17: nginx's add_header: added next to what the response has, only on 200 201 204 206 301
// 302 303 304 307 308 unless `always`, nothing for an empty value, Last-Modified and ETag replaced.
import { expect } from 'chai';
import { applyAddHeaders, compileAddHeaders, SAFE_STATUSES } from '../../../src/http/add-headers.js';
import type { VarSource } from '../../../src/http/vars-types.js';

const vars = (uri: string): VarSource => ({ uri, args: '', header: () => undefined }) as unknown as VarSource;

describe('http/add-headers', () => {
  const list = compileAddHeaders([
    { name: 'X-A', value: 'a', always: false },
    { name: 'X-B', value: 'b', always: true },
    { name: 'X-Uri', value: '$uri', always: false },
    { name: 'X-Empty', value: '$args', always: true },
    { name: 'ETag', value: '"mine"', always: false },
  ]);

  it('applies only to the statuses nginx lists, except `always` entries', () => {
    for (let status = 100; status < 600; status++) {
      const headers: Record<string, string | string[] | number> = {};
      applyAddHeaders(headers, status, list, vars('/p'));
      const expected = SAFE_STATUSES.has(status) ? { 'x-a': 'a', 'x-b': 'b', 'x-uri': '/p', etag: '"mine"' } : { 'x-b': 'b' };
      expect(headers, String(status)).to.deep.equal(expected);
    }
    expect([...SAFE_STATUSES].sort()).to.deep.equal([200, 201, 204, 206, 301, 302, 303, 304, 307, 308]);
  });

  it('adds to a field the response has (never replaces), except ETag and Last-Modified', () => {
    const headers: Record<string, string | string[] | number> = { 'x-a': 'up', 'x-b': ['1', '2'], etag: '"up"' };
    applyAddHeaders(headers, 200, list, vars('/p'));
    expect(headers).to.deep.equal({ 'x-a': ['up', 'a'], 'x-b': ['1', '2', 'b'], 'x-uri': '/p', etag: '"mine"' });
  });

  it('leaves out a value from a variable that holds a line break', () => {
    const headers: Record<string, string | string[] | number> = {};
    applyAddHeaders(headers, 200, list, vars('/a\r\nSet-Cookie: x=1'));
    expect(headers).to.not.have.property('x-uri');
  });

  it('compiles a list once', () => {
    const raw = [{ name: 'X', value: 'v', always: false }];
    expect(compileAddHeaders(raw)).to.equal(compileAddHeaders(raw));
  });
});
