// The full example of README "Configuration reference" is a valid config, and reads as the README describes it.
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';

// Copied from README "Configuration reference" (comments included: they are part of what users paste).
const SPEC_EXAMPLE = `listen:
  http: 80                      # a port, "host:port", "[::]:port", or a list; omit to turn off
  https: 443
admin: 127.0.0.1:2019           # optional; see section 6
drainTimeout: 30s
storage: ./certs                # default; or redis://127.0.0.1:6379/0 to share across instances (section 5)
trustedProxies: [10.0.0.0/8]    # whose incoming X-Forwarded-For is kept; default none
log:
  access: stdout                # stdout | stderr | FILE | off
  format: combined              # combined | json
  error: stderr
  level: info
acme:
  email: ops@example.com
  directory: letsencrypt        # letsencrypt | letsencrypt-staging | URL of any ACME directory
  trust: ./test-ca.pem          # extra CA for the directory's own HTTPS (private or test CAs)
  challenges: [http-01, tls-alpn-01]
  key: ecdsa-p256               # ecdsa-p256 | ecdsa-p384 | rsa-2048 | rsa-4096
  renewBefore: 30d              # default: a third of the lifetime left, or the CA's ARI window if it offers one
  eab: { kid: KID, hmac: KEY }  # external account binding, optional
  profile: tlsserver            # optional ACME profile (classic | tlsserver | shortlived), where the CA offers profiles
  onDemand: { ask: http://127.0.0.1:5555/check }   # optional: issue at first handshake if ask says 200
upstreams:
  app:
    servers:
      - http://127.0.0.1:8001
      - { url: http://127.0.0.1:8002, weight: 2 }
      - { url: http://127.0.0.1:8003, backup: true }
    balance: round-robin        # round-robin | least-conn | ip-hash | random-two
    maxFails: 1                 # passive health: failures within failTimeout mark a server down for failTimeout
    failTimeout: 10s
    health: { path: /healthz, interval: 5s, timeout: 2s, status: 200 }   # active checks, optional
    retries: 1                  # another server after a connect failure, or any failure before a byte was sent on an idempotent request
    timeouts: { connect: 5s, read: 60s, send: 60s }
    keepalive: 32               # idle connections kept per server
    tls: { ca: ./backend-ca.pem, servername: app.internal, insecure: false }   # for https:// and h2:// servers
sites:
  - hosts: [example.com, www.example.com, "*.example.com"]
    default: true               # the site for unknown Host/SNI; else the first site
    tls: acme                   # acme | internal | off | { cert: FILE, key: FILE }
    redirect: https             # on the http listener; default when tls is on; "off" serves both
    hsts: 365d                  # optional
    compress: [br, gzip]        # default; "off" to turn off
    routes:
      - location: /app                      # nginx location syntax and matching order:
        proxy: http://127.0.0.1:8080        #   "= /x", "^~ /x", "~ regex", "~* regex", "/prefix", "@name"
      - location: /blog
        proxy: http://node1.example:8000/wordpress/   # nginx proxy_pass URI semantics
      - location: "~ \\\\.php$"
        proxy: fastcgi://127.0.0.1:9000     # or fastcgi+unix:/run/php/php-fpm.sock
        root: /var/www/html
        index: index.php                    # a name or a list
      - location: /py/
        proxy: uwsgi://127.0.0.1:3031       # also scgi://, h2c:// (cleartext HTTP/2), https://, h2:// (HTTP/2 over TLS)
      - location: /api/
        proxy: app                          # an upstream by name; http://app/v2/ names it with a URI part
        headers:
          request:  { set: { X-Real-IP: $remote_addr }, remove: [Cookie] }
          response: { set: { Cache-Control: no-store } }
        cache: 10m                          # cache what HTTP allows (RFC 9111), this long at most; never Set-Cookie
        maxBody: 10m                        # default: no limit (the nginx adapter sets nginx's 1m)
        rateLimit: { rate: 10r/s, burst: 20 }   # per client address; over it: 429 with Retry-After
        timeout: 30s                        # per route, overrides the upstream's read timeout
      - location: /
        root: ./public
        index: [index.html]                 # the default
        tryFiles: [$uri, $uri/, /index.html]  # last item may be =CODE, a URI or @name (a route "location: @name")
      - location: = /old
        return: 301 https://$host/new
`;

describe('config: the README "Configuration reference" example', () => {
  it('parses without errors, and warns only that its PHP route sends scripts that may not exist', () => {
    const { config, warnings } = parseConfig(SPEC_EXAMPLE, '/etc/gatehouse/gatehouse.yaml');
    // The example's FastCGI route has a root and no tryFiles (security review F11): the warning is
    // right, and goes away when README "Configuration reference" adds `tryFiles: [$uri, =404]` to it.
    expect(warnings.map((w) => `${w.pos.line}:${w.pos.col}`)).to.deep.equal(['49:9']);
    expect(warnings[0]?.message).to.contain('FastCGI route "~ \\.php$" has a root but no script check');
    expect(config.listen).to.deep.equal({ http: [{ port: 80 }], https: [{ port: 443 }] });
    expect(config.admin).to.deep.equal({ host: '127.0.0.1', port: 2019 });
    expect(config.trustedProxies).to.deep.equal(['10.0.0.0/8']);
    expect(config.acme?.directory).to.equal('https://acme-v02.api.letsencrypt.org/directory');
    expect(config.acme?.trust).to.equal('/etc/gatehouse/test-ca.pem');
    expect(config.upstreams.app?.servers).to.deep.equal([
      { url: 'http://127.0.0.1:8001', weight: 1, backup: false },
      { url: 'http://127.0.0.1:8002', weight: 2, backup: false },
      { url: 'http://127.0.0.1:8003', weight: 1, backup: true },
    ]);
    const site = config.sites[0];
    expect(site?.hosts).to.deep.equal(['example.com', 'www.example.com', '*.example.com']);
    expect(site?.default).to.equal(true);
    expect(site?.hstsMs).to.equal(365 * 86_400_000);
    expect(site?.routes.map((r) => r.location)).to.deep.equal(['/app', '/blog', '~ \\.php$', '/py/', '/api/', '/', '= /old']);
    expect(site?.routes[2]?.index).to.deep.equal(['index.php']);
    expect(site?.routes[6]?.return).to.deep.equal({ status: 301, text: 'https://$host/new' });
  });
});
