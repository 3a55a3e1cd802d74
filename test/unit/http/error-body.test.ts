// issue 17: the built-in pages have nginx's layout and titles, and name no product or version.
import { expect } from 'chai';
import { errorBody, errorTitle } from '../../../src/http/error-body.js';

describe('http/error-body', () => {
  it('is nginx’s page without the server line', () => {
    expect(errorBody(404)).to.equal('<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n</body>\r\n</html>\r\n');
    expect(errorBody(502)).to.not.match(/nginx|gatehouse|\d+\.\d+\.\d+/);
  });

  it('uses nginx’s titles', () => {
    expect([405, 413, 414, 416, 503, 504, 401, 302, 301].map(errorTitle)).to.deep.equal([
      '405 Not Allowed',
      '413 Request Entity Too Large',
      '414 Request-URI Too Large',
      '416 Requested Range Not Satisfiable',
      '503 Service Temporarily Unavailable',
      '504 Gateway Time-out',
      '401 Authorization Required',
      '302 Found',
      '301 Moved Permanently',
    ]);
  });

  it('is empty for statuses without a body', () => {
    for (const s of [101, 204, 304]) expect(errorBody(s)).to.equal('');
  });
});
