// The TLS directives gatehouse reads from nginx: the certificate pair (inherited http → server) and
// the protocol and cipher policy, which Node serves as far as it can (TLS 1.2 and 1.3 with Node's
// cipher list); anything the site would lose by that is a warning, never silent.
import type { NginxArg, NginxDirective } from '../ast.js';
import { AdaptCtx } from './context.js';
import { readClientAuth, type ClientAuthLevel } from './client-auth.js';

export interface TlsLevel {
  cert?: NginxArg;
  key?: NginxArg;
  /** This level wrote its own pair (a child level starts with both false). */
  ownCert?: boolean;
  ownKey?: boolean;
  protocols?: NginxDirective;
  ciphers?: NginxDirective;
  /** issue 19: mTLS (client-auth.ts). */
  clientAuth?: ClientAuthLevel;
}

/** Reads one ssl_* directive into `tls`; false when it is not one of these (the table decides). */
export function siteTls(ctx: AdaptCtx, tls: TlsLevel, d: NginxDirective): boolean {
  switch (d.name) {
    case 'ssl_certificate':
      // nginx 1.11+ allows an RSA and an ECDSA pair side by side; gatehouse serves one.
      if (tls.ownCert) {
        ctx.warn(d.pos, 'a second ssl_certificate (RSA beside ECDSA): gatehouse serves the first pair only');
        return true;
      }
      tls.cert = ctx.args(d, 1)[0]!;
      tls.ownCert = true;
      return true;
    case 'ssl_certificate_key':
      if (tls.ownKey) return true;
      tls.key = ctx.args(d, 1)[0]!;
      tls.ownKey = true;
      return true;
    case 'ssl_protocols':
      ctx.args(d, 1, 8);
      tls.protocols = d;
      return true;
    case 'ssl_ciphers':
      ctx.args(d, 1);
      tls.ciphers = d;
      return true;
    default: {
      const clientAuth = readClientAuth(ctx, tls.clientAuth, d);
      if (!clientAuth) return false;
      tls.clientAuth = clientAuth;
      return true;
    }
  }
}

const SERVED = new Set(['TLSv1.2', 'TLSv1.3']);

export function checkTlsPolicy(ctx: AdaptCtx, tls: TlsLevel): void {
  if (tls.protocols) {
    const asked = tls.protocols.args.map((a) => a.text);
    const dropped = asked.filter((p) => !SERVED.has(p));
    if (dropped.length > 0) ctx.warnOnce(tls.protocols.pos, `ssl_protocols ${dropped.join(' ')}: gatehouse serves TLSv1.2 and TLSv1.3 only; older clients cannot connect`);
    if (!asked.includes('TLSv1.3')) ctx.warnOnce(tls.protocols.pos, 'ssl_protocols without TLSv1.3: gatehouse offers TLSv1.3 as well');
  }
  if (tls.ciphers && !/^(HIGH:!aNULL:!MD5|DEFAULT)$/.test(tls.ciphers.args[0]!.text)) {
    ctx.warnOnce(tls.ciphers.pos, 'ssl_ciphers: gatehouse uses Node\'s TLS 1.2 cipher list (ECDHE with AES-GCM and ChaCha20 first), not this one');
  }
}
