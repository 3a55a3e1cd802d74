// issue 17: nginx's proxy_redirect: `default` from the proxy URL to the location, prefix rules
// (case-sensitive), `~` / `~*` regex rules replacing the whole value, first match wins, Refresh too.
import { expect } from 'chai';
import { compileProxyRedirect, rewriteLocation, rewriteRefresh } from '../../../src/handler/proxy-redirect.js';
import type { VarSource } from '../../../src/http/vars-types.js';

const vars = { host: 'a.test', scheme: 'https', header: () => undefined } as unknown as VarSource;

describe('handler/proxy-redirect', () => {
  it('default with a URI part: the proxy URL becomes the location', () => {
    const rules = compileProxyRedirect(['default'], { proxyUrl: 'http://b:8080/app/', hasUri: true, location: '/x/' });
    expect(rewriteLocation('http://b:8080/app/y?z=1', rules, vars)).to.equal('/x/y?z=1');
    expect(rewriteLocation('http://b:8080/other', rules, vars)).to.equal('http://b:8080/other');
    expect(rewriteLocation('/relative', rules, vars)).to.equal('/relative');
  });

  it('default without a URI part: the server root becomes /', () => {
    const rules = compileProxyRedirect(['default'], { proxyUrl: 'http://b:8080', hasUri: false, location: '/x/' });
    expect(rewriteLocation('http://b:8080/y', rules, vars)).to.equal('/y');
    expect(rewriteLocation('http://b:80801/y', rules, vars)).to.equal('http://b:80801/y');
  });

  it('default is left out where nginx refuses it (variables in the proxy URI)', () => {
    expect(compileProxyRedirect(['default'], { proxyUrl: undefined, hasUri: true, location: '/' })).to.deep.equal([]);
  });

  it('prefix rules are case-sensitive and take variables; the first rule that matches wins', () => {
    const rules = compileProxyRedirect(
      [
        { from: 'http://b/', to: '$scheme://$host/' },
        { from: 'http://b/', to: '/never/' },
      ],
      { proxyUrl: undefined, hasUri: false, location: '/' },
    );
    expect(rewriteLocation('http://b/p', rules, vars)).to.equal('https://a.test/p');
    expect(rewriteLocation('HTTP://B/p', rules, vars)).to.equal('HTTP://B/p');
  });

  it('regex rules replace the whole value with $1..$9; ~* ignores case', () => {
    const rules = compileProxyRedirect(
      [
        { from: '~^http://re\\.test/(.*)$', to: '/re/$1' },
        { from: '~*^http://CI\\.test/(\\w+)', to: '/ci/$1' },
      ],
      { proxyUrl: undefined, hasUri: false, location: '/' },
    );
    expect(rewriteLocation('http://re.test/a/b', rules, vars)).to.equal('/re/a/b');
    expect(rewriteLocation('http://ci.TEST/abc/rest', rules, vars)).to.equal('/ci/abc');
    expect(rewriteLocation('http://RE.test/a', rules, vars)).to.equal('http://RE.test/a');
  });

  it('Refresh: the part after url= (any case) is rewritten', () => {
    const rules = compileProxyRedirect(['default'], { proxyUrl: 'http://b:8080', hasUri: false, location: '/' });
    expect(rewriteRefresh('5; URL=http://b:8080/r', rules, vars)).to.equal('5; URL=/r');
    expect(rewriteRefresh('5', rules, vars)).to.equal('5');
    expect(rewriteRefresh('5; url=http://other/r', rules, vars)).to.equal('5; url=http://other/r');
  });
});
