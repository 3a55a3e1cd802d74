// issue 17: nginx's `expires` values (ngx_http_set_expires), formatted as nginx does.
import { expect } from 'chai';
import { applyExpires, expiresValues } from '../../../src/http/expires.js';

// 2026-12-06T08:00:00.250Z: the fraction is dropped, as nginx counts whole seconds.
const NOW = Date.UTC(2026, 11, 6, 8, 0, 0) + 250;

describe('http/expires', () => {
  it('epoch and max are nginx’s fixed values', () => {
    expect(expiresValues({ kind: 'epoch' }, NOW, undefined)).to.deep.equal({ expires: 'Thu, 01 Jan 1970 00:00:01 GMT', cacheControl: 'no-cache' });
    expect(expiresValues({ kind: 'max' }, NOW, undefined)).to.deep.equal({ expires: 'Thu, 31 Dec 2037 23:55:55 GMT', cacheControl: 'max-age=315360000' });
  });

  it('a duration counts from now; 0 is now with max-age=0', () => {
    expect(expiresValues({ kind: 'access', seconds: 3600 }, NOW, undefined)).to.deep.equal({ expires: 'Sun, 06 Dec 2026 09:00:00 GMT', cacheControl: 'max-age=3600' });
    expect(expiresValues({ kind: 'access', seconds: 0 }, NOW, undefined)).to.deep.equal({ expires: 'Sun, 06 Dec 2026 08:00:00 GMT', cacheControl: 'max-age=0' });
  });

  it('a negative duration is a date in the past and no-cache', () => {
    expect(expiresValues({ kind: 'access', seconds: -1 }, NOW, undefined)).to.deep.equal({ expires: 'Sun, 06 Dec 2026 07:59:59 GMT', cacheControl: 'no-cache' });
  });

  it('modified counts from Last-Modified (max-age what is left, no-cache once past), from now without one', () => {
    const lm = 'Sun, 06 Dec 2026 07:30:00 GMT';
    expect(expiresValues({ kind: 'modified', seconds: 3600 }, NOW, lm)).to.deep.equal({ expires: 'Sun, 06 Dec 2026 08:30:00 GMT', cacheControl: 'max-age=1800' });
    expect(expiresValues({ kind: 'modified', seconds: 600 }, NOW, lm)).to.deep.equal({ expires: 'Sun, 06 Dec 2026 07:40:00 GMT', cacheControl: 'no-cache' });
    expect(expiresValues({ kind: 'modified', seconds: 60 }, NOW, undefined)).to.deep.equal({ expires: 'Sun, 06 Dec 2026 08:01:00 GMT', cacheControl: 'max-age=60' });
    expect(expiresValues({ kind: 'modified', seconds: 60 }, NOW, 'not a date').cacheControl).to.equal('max-age=60');
  });

  it('replaces the response’s own Expires and every Cache-Control', () => {
    const headers = { expires: 'x', 'cache-control': ['private', 'no-store'], 'last-modified': 'Sun, 06 Dec 2026 07:30:00 GMT' };
    applyExpires(headers, { kind: 'modified', seconds: 3600 }, NOW);
    expect(headers).to.deep.equal({ expires: 'Sun, 06 Dec 2026 08:30:00 GMT', 'cache-control': 'max-age=1800', 'last-modified': 'Sun, 06 Dec 2026 07:30:00 GMT' });
  });
});
