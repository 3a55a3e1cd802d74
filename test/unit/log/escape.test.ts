// nginx's log escapings, with vectors taken from lines nginx 1.22 wrote for the same bytes
// (test/integration/nginx-logs.test.ts compares whole lines; these pin the rules down).
import { expect } from 'chai';
import { byteString, escapeDefault, escapeJson } from '../../../src/log/escape.js';

/** Bytes as Node hands them over: one char per byte. */
const bytes = (...parts: Array<string | number[]>): string =>
  parts.map((p) => (typeof p === 'string' ? p : String.fromCharCode(...p))).join('');

describe('log escaping (nginx log_format escape=)', () => {
  describe('escape=default (ngx_http_log_escape)', () => {
    it('writes ", \\, control bytes and bytes from 0x7f up as \\xHH, upper-case as nginx does', () => {
      // nginx wrote: "ua \x22q\x22 \x5C \xE9\x09\xFF"
      expect(escapeDefault(bytes('ua "q" \\ ', [0xe9], '\t', [0xff]))).to.equal('ua \\x22q\\x22 \\x5C \\xE9\\x09\\xFF');
      // nginx wrote: "http://ref/\xC3\xA9\x22" (a UTF-8 é as its two bytes)
      expect(escapeDefault(bytes('http://ref/', [0xc3, 0xa9], '"'))).to.equal('http://ref/\\xC3\\xA9\\x22');
      expect(escapeDefault(bytes('"\\x\t', [0x80]))).to.equal('\\x22\\x5Cx\\x09\\x80');
    });
    it('cannot be made to forge a line: CR, LF, NUL and ESC are escaped', () => {
      expect(escapeDefault(bytes('a', [0x0d, 0x0a, 0x00, 0x1b], '[31m', [0x7f]))).to.equal('a\\x0D\\x0A\\x00\\x1B[31m\\x7F');
    });
    it('leaves printable ASCII as it is', () => {
      const text = "GET /a'{x}<y>|`^?q=%22&b=1 HTTP/1.1";
      expect(escapeDefault(text)).to.equal(text);
    });
    it('writes a char above 0xff (config text, a decoded field) as its UTF-8 bytes', () => {
      expect(escapeDefault('→')).to.equal('\\xE2\\x86\\x92');
      expect(byteString('a→')).to.equal(bytes('a', [0xe2, 0x86, 0x92]));
    });
  });

  describe('escape=json (ngx_escape_json)', () => {
    it('backslashes " and \\, writes \\n \\r \\t \\b \\f short and other control bytes as \\u00XX', () => {
      // nginx wrote: "ua \"q\" \\ é\tÿ" (é and ÿ as the raw bytes E9 and FF)
      expect(escapeJson(bytes('ua "q" \\ ', [0xe9], '\t', [0xff]))).to.equal(bytes('ua \\"q\\" \\\\ ', [0xe9], '\\t', [0xff]));
      expect(escapeJson(bytes([0x0a, 0x0d, 0x08, 0x0c, 0x01, 0x1f]))).to.equal('\\n\\r\\b\\f\\u0001\\u001F');
    });
    it('copies bytes from 0x7f up as they are (nginx does not check UTF-8)', () => {
      expect(escapeJson(bytes('"\\x\t', [0x80, 0x7f]))).to.equal(bytes('\\"\\\\x\\t', [0x80, 0x7f]));
    });
  });
});
