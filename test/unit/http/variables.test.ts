// The nginx variables of fastcgi.conf in templates: what each one evaluates to over a request on a
// FastCGI route and on another route, and that the config checker accepts them (and hints typos).
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import type { RouteConfig } from '../../../src/config/types.js';
import { compileCgiRoute } from '../../../src/handler/cgi-request.js';
import { type RequestContext } from '../../../src/request/context.js';
import { RequestVars } from '../../../src/request/vars.js';
import { compileTemplate } from '../../../src/http/variables.js';
import type { FastCgiPathRule } from '../../../src/http/fastcgi-path.js';
import { expectError, FILE, lines } from '../config/helpers.js';

function requestVars(path: string, rc: RouteConfig | undefined, headers: Record<string, string> = {}): RequestVars {
  const ctx = {
    host: 'a.test',
    path,
    args: 'x=1',
    site: { config: { hosts: ['a.test'] } },
    route: rc ? { config: rc, ...(rc === php ? { fastcgi: phpRule() } : {}) } : undefined,
    ex: {
      method: 'POST',
      protocol: 'HTTP/2.0',
      rawTarget: `${path}?x=1`,
      headers,
      conn: { secure: true, remoteAddress: '::1', remotePort: 50000, localAddress: '127.0.0.1', localPort: 8443 },
    },
  } as unknown as RequestContext;
  return new RequestVars(ctx);
}

const php: RouteConfig = { location: '~ \\.php(/|$)', proxy: 'fastcgi://127.0.0.1:9000', root: '/var/www/', index: ['index.html'] };
/** What the snapshot compiles into a FastCGI route (CompiledRoute.fastcgi). */
function phpRule(): FastCgiPathRule {
  const cgi = compileCgiRoute('fastcgi', php, undefined);
  return { splitPathInfo: cgi.splitPathInfo, index: cgi.index };
}
const files: RouteConfig = { location: '/', root: '/srv/site', index: ['index.html'] };

describe('variables of fastcgi.conf', () => {

  const t = (source: string, vars: RequestVars): string => compileTemplate(source)(vars);

  it('splits $fastcgi_script_name and $fastcgi_path_info on a FastCGI route, with the index for a "/"', () => {
    const v = requestVars('/index.php/a/b', php);
    expect(t('$document_root$fastcgi_script_name', v)).to.equal('/var/www/index.php');
    expect(t('$fastcgi_path_info', v)).to.equal('/a/b');
    expect(t('$fastcgi_script_name', requestVars('/sub/', php))).to.equal('/sub/index.php');
  });

  it('gives $uri as $fastcgi_script_name and no path info on other routes', () => {
    const v = requestVars('/index.php/a/b', files);
    expect(t('$fastcgi_script_name|$fastcgi_path_info|', v)).to.equal('/index.php/a/b||');
    expect(t('$request_filename', v)).to.equal('/srv/site/index.php/a/b');
    expect(t('[$document_root]', requestVars('/x', undefined))).to.equal('[]');
  });

  it('reads the request: method, protocol, server address, content type and length, query, https', () => {
    const v = requestVars('/upload.php', php, { 'content-type': 'text/plain', 'content-length': '12' });
    expect(t('$request_method $server_protocol $server_addr:$server_port', v)).to.equal('POST HTTP/2.0 127.0.0.1:8443');
    expect(t('$content_type;$content_length;$query_string;$https;$request_scheme', v)).to.equal('text/plain;12;x=1;on;https');
    expect(t('[$content_type][$content_length]', requestVars('/', php))).to.equal('[][]');
  });

  it('are accepted by the config checker, in headers of a FastCGI route', () => {
    const text = lines(
      'listen: { https: 8443 }',
      'sites:',
      '  - hosts: [a.test]',
      '    routes:',
      '      - location: "~ \\\\.php$"',
      '        proxy: fastcgi://127.0.0.1:9000',
      '        root: /var/www',
      '        headers:',
      '          request: { set: { X-Script: "$document_root$fastcgi_script_name", X-Info: "$fastcgi_path_info $request_filename" } }',
      '          response: { set: { X-Via: "$request_method $server_protocol $server_addr $content_type $content_length $https" } }',
    );
    expect(() => parseConfig(text, FILE)).to.not.throw();
  });

  it('hints the right name for a misspelt one, at its position', () => {
    const text = lines(
      'listen: { https: 8443 }',
      'sites:',
      '  - hosts: [a.test]',
      '    routes:',
      '      - location: /',
      '        return: 204',
      '        headers: { response: { set: { X-S: $fastcgi_scrip_name } } }',
    );
    expectError(text, 7, 44, 'unknown variable "$fastcgi_scrip_name" (did you mean "$fastcgi_script_name"?)');
  });
});

describe('$arg_NAME (nginx ngx_http_arg)', () => {
  const arg = (name: string, args: string): string => {
    const ctx = { args } as unknown as RequestContext;
    return compileTemplate(`$arg_${name}`)(new RequestVars(ctx));
  };

  it('is the raw value as sent: not percent-decoded, "+" kept (review F8)', () => {
    expect(arg('room', 'room=a%0d%0aSet-Cookie:%20session=attacker')).to.equal('a%0d%0aSet-Cookie:%20session=attacker');
    expect(arg('x', 'x=a+b')).to.equal('a+b');
    expect(arg('x', 'x=%zz%')).to.equal('%zz%');
    expect(arg('x', 'x=a=b;c')).to.equal('a=b;c');
  });

  it('takes the first NAME= at the start of the args or after "&", matching NAME case-insensitively', () => {
    expect(arg('x', 'x=1&x=2')).to.equal('1');
    expect(arg('x', 'X=up')).to.equal('up');
    expect(arg('Room', 'rOOm=7')).to.equal('7');
    expect(arg('x', 'x&x=2')).to.equal('2');
    expect(arg('x', 'ax=1&x=2')).to.equal('2');
    expect(arg('x', 'a=x=1&x=3')).to.equal('3');
    expect(arg('x', 'a=1&&x=3')).to.equal('3');
    expect(arg('x_y', 'x_y=1')).to.equal('1');
  });

  it('is empty when the name is missing or has no value', () => {
    expect(arg('x', '')).to.equal('');
    expect(arg('x', 'y=1')).to.equal('');
    expect(arg('x', 'x=')).to.equal('');
    expect(arg('x', 'x=&x=2')).to.equal('');
    expect(arg('x', 'x')).to.equal('');
  });
});
