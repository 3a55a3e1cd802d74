// Security defaults of an internet-facing listener, end to end against the built gatehouse (security
// review F13): no client-initiated TLS renegotiation.
import { expect } from 'chai';
import { startGatehouse, type Gatehouse } from '../helpers/gatehouse.js';
import { startPeer } from '../helpers/process.js';

describe('security defaults (integration)', function () {
  this.timeout(60_000);
  let gh: Gatehouse;

  before(async () => {
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      sites: [{ hosts: ['s.test'], routes: [{ location: '/', return: '200 hello' }] }],
    }));
  });
  after(async () => {
    await gh?.stop();
  });

  it('refuses a client-initiated TLS 1.2 renegotiation (openssl s_client "R"), as nginx does', async () => {
    const client = startPeer('openssl', ['s_client', '-tls1_2', '-connect', `127.0.0.1:${gh.httpsPort}`, '-servername', 's.test', '-CAfile', gh.caFile], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // s_client exits on its own when the server refuses; a write after that is an EPIPE, not a failure.
    client.proc.stdin!.on('error', () => undefined);
    try {
      await client.waitForOutput(/Verify return code: 0 \(ok\)[\s\S]*---\n/);
      client.proc.stdin!.write('R\n');
      await client.waitForOutput(/RENEGOTIATING/);
      // Sent once a renegotiation would be over: answered only if the server went along with it.
      await new Promise((r) => setTimeout(r, 500));
      if (client.proc.exitCode === null) client.proc.stdin!.write('GET / HTTP/1.1\r\nHost: s.test\r\nConnection: close\r\n\r\n');
      const ended = await Promise.race([client.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
      const out = client.output();
      expect(out, 'the request after "R" was answered: the renegotiation succeeded').to.not.include('HTTP/1.1 200');
      expect(out).to.match(/no renegotiation/i);
      expect(ended, 's_client still connected').to.equal(true);
    } finally {
      await client.stop('SIGTERM', 2000);
    }
  });
});
