// issue 17: nginx's rules for a rewrite's replacement: redirect or not, the `?` rules for args,
// escaping of captures (quoted URIs), NGX_UNESCAPE_REDIRECT, and nothing unsafe on the wire.
import { expect } from 'chai';
import { applyReplacement, compileReplacement, quotedUri, unescapeRedirect } from '../../../src/rewrite/replacement.js';
import type { VarSource } from '../../../src/http/vars-types.js';

function vars(captures: string[], extra: Partial<VarSource> = {}): VarSource {
  return { host: 'a.test', scheme: 'http', uri: '/u', args: '', captures, ...extra } as VarSource;
}

describe('rewrite/replacement', () => {
  it('is a redirect when it starts with http://, https:// or $scheme, or with redirect/permanent', () => {
    expect(compileReplacement('http://x/', false).redirect).to.equal(true);
    expect(compileReplacement('https://x/', false).redirect).to.equal(true);
    expect(compileReplacement('$scheme://x/', false).redirect).to.equal(true);
    expect(compileReplacement('/x', true).redirect).to.equal(true);
    expect(compileReplacement('/x', false).redirect).to.equal(false);
  });

  it('without "?": the request args are kept', () => {
    const r = compileReplacement('/new/$1', false);
    expect(applyReplacement(r, vars(['a']), 'k=v', false)).to.deep.equal({ uri: '/new/a', args: 'k=v' });
  });

  it('with "?": its own args, then "&" and the request args', () => {
    const r = compileReplacement('/new?x=$1', false);
    expect(applyReplacement(r, vars(['a']), 'k=v', false)).to.deep.equal({ uri: '/new', args: 'x=a&k=v' });
    expect(applyReplacement(r, vars(['a']), '', false)).to.deep.equal({ uri: '/new', args: 'x=a' });
  });

  it('ending with "?": the request args are dropped', () => {
    expect(applyReplacement(compileReplacement('/new?x=$1?', false), vars(['a']), 'k=v', false)).to.deep.equal({ uri: '/new', args: 'x=a' });
    expect(applyReplacement(compileReplacement('/new?', false), vars([]), 'k=v', false)).to.deep.equal({ uri: '/new', args: '' });
  });

  it('a capture in the args is escaped when the request path was quoted (% or +), not in the URI', () => {
    const r = compileReplacement('/p/$1?q=$1', false);
    expect(applyReplacement(r, vars(['a b&c']), '', true)).to.deep.equal({ uri: '/p/a b&c', args: 'q=a%20b%26c' });
    expect(applyReplacement(r, vars(['ab']), '', false)).to.deep.equal({ uri: '/p/ab', args: 'q=ab' });
  });

  it('a redirect appends the request args with "?" or "&", unless it ends with "?"', () => {
    expect(applyReplacement(compileReplacement('/x/$1', true), vars(['a']), 'k=v', false).uri).to.equal('/x/a?k=v');
    expect(applyReplacement(compileReplacement('https://h/s?q=$1', false), vars(['a']), 'k=v', false).uri).to.equal('https://h/s?q=a&k=v');
    expect(applyReplacement(compileReplacement('/x/$1?', true), vars(['a']), 'k=v', false).uri).to.equal('/x/a');
  });

  it('a decoded CR LF in a capture never reaches the Location raw', () => {
    const r = compileReplacement('https://h/$1', false);
    expect(applyReplacement(r, vars(['a\r\nSet-Cookie: x']), '', true).uri).to.equal('https://h/a%0D%0ASet-Cookie:%20x');
    // Not quoted (cannot come from a request line, but from a variable): still escaped for the wire.
    const v = compileReplacement('https://h$uri', false);
    expect(applyReplacement(v, vars([], { uri: '/a\r\nb' }), '', false).uri).to.equal('https://h/a%0D%0Ab');
  });

  it('non-ASCII text leaves as UTF-8 escapes in a URI rewrite\'s args and a Location', () => {
    expect(applyReplacement(compileReplacement('/p?q=$1', false), vars(['€']), '', false).args).to.equal('q=%E2%82%AC');
    expect(applyReplacement(compileReplacement('/p/$1', true), vars(['€']), '', false).uri).to.equal('/p/%E2%82%AC');
  });

  it('NGX_UNESCAPE_REDIRECT decodes printable escapes above "%" up to the first "?"', () => {
    expect(unescapeRedirect('/a%41%2F%20%25%0D?b%41')).to.equal('/aA/%20%25%0D?b%41');
    expect(unescapeRedirect('/a%3Fb%41')).to.equal('/a?b%41');
    expect(unescapeRedirect('/plain')).to.equal('/plain');
  });

  it('knows a quoted request path: a % escape or a + before the query', () => {
    expect(quotedUri('/a%20b')).to.equal(true);
    expect(quotedUri('/a+b')).to.equal(true);
    expect(quotedUri('/a?b=%20+')).to.equal(false);
    expect(quotedUri('http://h/a%2F')).to.equal(true);
  });
});
