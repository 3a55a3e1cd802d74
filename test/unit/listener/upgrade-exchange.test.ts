// The hand-written response head of the Upgrade path (rawHead) refuses what Node's writeHead
// refuses on the normal path: CR, LF and NUL in a field name or value, which would let a header
// value start a header of its own (response splitting, review F8).
import { expect } from 'chai';
import { rawHead } from '../../../src/listener/upgrade-exchange.js';

describe('listener/upgrade-exchange rawHead', () => {
  it('writes a status line and each value of each field', () => {
    expect(rawHead(200, { 'x-a': '1', 'set-cookie': ['a=1', 'b=2'], 'content-length': 0 })).to.equal(
      'HTTP/1.1 200 OK\r\nx-a: 1\r\nset-cookie: a=1\r\nset-cookie: b=2\r\ncontent-length: 0\r\n\r\n',
    );
    expect(rawHead(101, { upgrade: 'websocket' }, 'Switching Protocols')).to.equal('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n');
  });

  it('throws on CR, LF or NUL in a value or a name, as writeHead does', () => {
    for (const bad of ['a\r\nSet-Cookie: x=1', 'a\nb', 'a\rb', 'a\0b']) {
      expect(() => rawHead(200, { 'x-room': bad }), JSON.stringify(bad)).to.throw(TypeError, /x-room/);
      expect(() => rawHead(200, { 'x-room': ['ok', bad] }), JSON.stringify(bad)).to.throw(TypeError);
      expect(() => rawHead(200, { [`x${bad}`]: 'v' }), JSON.stringify(bad)).to.throw(TypeError);
    }
    expect(() => rawHead(200, { 'x-ok': 'tab\tand space and é' })).not.to.throw();
  });
});
