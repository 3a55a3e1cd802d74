// Header rules: set replaces, an empty value removes (nginx), and a value from a variable that
// holds CR, LF or NUL removes too, since it cannot be sent as one field (review F8).
import { expect } from 'chai';
import { applyHeaderOps, compileHeaderOps } from '../../../src/http/header-ops.js';
import type { VarSource } from '../../../src/http/vars-types.js';

const vars = (uri: string): VarSource => ({ uri, args: '', header: () => undefined }) as unknown as VarSource;

describe('middleware/header-ops', () => {
  const ops = compileHeaderOps({ set: { 'X-Path': '$uri', 'X-Fixed': 'yes', 'X-Empty': '$args' }, remove: ['Server'] });

  it('sets, replaces and removes', () => {
    const headers: Record<string, string> = { 'x-path': 'old', 'x-empty': 'old', server: 'app' };
    applyHeaderOps(headers, ops!, vars('/a b'));
    expect(headers).to.deep.equal({ 'x-path': '/a b', 'x-fixed': 'yes' });
  });

  it('leaves out a header whose value from a variable holds CR, LF or NUL', () => {
    for (const uri of ['/a\r\nSet-Cookie: x=1', '/a\nb', '/a\rb', '/a\0b']) {
      const headers: Record<string, string> = { 'x-path': 'from upstream' };
      applyHeaderOps(headers, ops!, vars(uri));
      expect(headers, JSON.stringify(uri)).to.deep.equal({ 'x-fixed': 'yes' });
    }
  });
});
