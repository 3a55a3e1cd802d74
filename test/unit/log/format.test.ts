// log_format templates: nginx's predefined combined, what a variable that is not found writes under
// each escaping, and the log line of a whole request through AccessLog (file written, off, formats).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { VarSource } from '../../../src/http/vars-types.js';
import { AccessLog } from '../../../src/log/access-log.js';
import { COMBINED, compileLogFormat } from '../../../src/log/format.js';

function source(extra: Partial<VarSource> = {}, headers: Record<string, string> = {}): VarSource {
  return {
    host: 'a.test',
    remoteAddr: '192.0.2.7',
    remotePort: 50000,
    scheme: 'http',
    serverPort: 80,
    serverName: 'a.test',
    requestUri: '/x?a=',
    uri: '/x',
    args: 'a=',
    proxyHost: '',
    proxyAddXForwardedFor: '192.0.2.7',
    header: (name) => headers[name],
    method: 'GET',
    request: 'GET /x?a= HTTP/1.1',
    status: '200',
    bodyBytesSent: '12',
    ...extra,
  };
}

describe('log formats (nginx log_format)', () => {
  it("combined is nginx's predefined format", () => {
    expect(COMBINED).to.equal('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"');
    const line = compileLogFormat(COMBINED)(source({}, { 'user-agent': 'curl/8 "x"' }));
    expect(line).to.match(/^192\.0\.2\.7 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET \/x\?a= HTTP\/1\.1" 200 12 "-" "curl\/8 \\x22x\\x22"$/);
  });

  it('writes a variable that is not found as - (default), nothing (json, none); found and empty as nothing', () => {
    const f = '$http_referer|$http_empty|$arg_a|$arg_b|$remote_user|$upstream_addr|$is_args|$cookie_c';
    const v = source({}, { empty: '', cookie: 'c=' });
    expect(compileLogFormat(f)(v)).to.equal('-|||-|-|-|?|');
    expect(compileLogFormat(f, 'json')(v)).to.equal('||||||?|');
    expect(compileLogFormat(f, 'none')(v)).to.equal('||||||?|');
  });

  it('refuses an unknown variable as nginx does', () => {
    expect(() => compileLogFormat('$remote_adr')).to.throw('unknown variable "$remote_adr"');
  });

  it('copies literal text, ${name} and $1 forms as nginx templates have them', () => {
    expect(compileLogFormat('${request_method}x $status')(source())).to.equal('GETx 200');
  });

  describe('AccessLog', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-alog-'));
    const file = (name: string): string => path.join(dir, name);
    const read = (name: string): string => fs.readFileSync(file(name), 'latin1');

    it('writes each line to the file the setting names, in its format, bytes as sent; off writes nothing', () => {
      const log = new AccessLog(
        { access: { file: file('main.log') }, format: 'short', formats: { short: { format: '$request_method $http_user_agent', escape: 'none' }, st: { format: '$status', escape: 'default' } } },
        [{ accessLog: { file: file('site.log'), format: 'st' }, routes: [] } as never],
      );
      expect(log.enabled).to.equal(true);
      log.log(source({}, { 'user-agent': 'a\xe9' }));
      log.log(source(), { file: file('site.log'), format: 'st' });
      log.log(source(), 'off');
      log.log(source(), { format: 'combined' });
      log.close();
      const main = read('main.log').split('\n');
      expect(main[0]).to.equal('GET a\xe9');
      expect(main[1]).to.match(/^192\.0\.2\.7 - - \[/);
      expect(main).to.have.length(3);
      expect(read('site.log')).to.equal('200\n');
    });

    it('reopens its files at their paths (SIGUSR1, after logrotate moved them)', () => {
      const log = new AccessLog({ access: { file: file('rot.log') }, format: 'combined' });
      log.log(source());
      log.flush();
      fs.renameSync(file('rot.log'), file('rot.log.1'));
      log.reopen();
      log.log(source());
      log.close();
      expect(read('rot.log.1').split('\n')).to.have.length(2);
      expect(read('rot.log').split('\n')).to.have.length(2);
    });

    it('opens the file a nested route names, also with log.access off', () => {
      const nested = { location: '/a/x', accessLog: { file: file('nested.log') }, routes: [] };
      const log = new AccessLog({ access: 'off', format: 'combined' }, [{ routes: [{ location: '/a/', routes: [nested] }] } as never]);
      expect(log.enabled).to.equal(true);
      log.log(source(), { file: file('nested.log') });
      log.log(source());
      log.close();
      expect(read('nested.log').split('\n')).to.have.length(2);
    });

    it('is disabled when log.access is off and no site names a file', () => {
      expect(new AccessLog({ access: 'off', format: 'combined' }).enabled).to.equal(false);
    });
  });
});
