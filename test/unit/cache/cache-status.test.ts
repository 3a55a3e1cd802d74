import { expect } from 'chai';
import { cacheStatus, ttlOf } from '../../../src/cache/cache-status.js';
import { variant } from './fixtures.js';

describe('cache/cache-status', () => {
  it('formats RFC 9211 parameters in order', () => {
    expect(cacheStatus({ hit: true, ttl: 42 })).to.equal('gatehouse; hit; ttl=42');
    expect(cacheStatus({ fwd: 'uri-miss', fwdStatus: 200, ttl: 60, stored: true })).to.equal('gatehouse; fwd=uri-miss; fwd-status=200; ttl=60; stored');
    expect(cacheStatus({ fwd: 'stale', fwdStatus: 503, detail: 'stale-if-error' })).to.equal('gatehouse; fwd=stale; fwd-status=503; detail=stale-if-error');
  });

  it('cuts the response freshness at the route duration', () => {
    const v = variant('x', { 'cache-control': 'max-age=600' });
    expect(ttlOf(v.policy, Date.now() + 30_000)).to.be.within(29, 30);
    expect(ttlOf(v.policy, Date.now() + 3_600_000)).to.be.within(599, 600);
  });
});
