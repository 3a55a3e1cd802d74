// The TLS directives gatehouse reads from nginx: the certificate pair (inherited http → server) and
// the protocol, cipher and curve policy (issue 19: the site's `tls` policy keys), which Node serves as
// far as it can (TLS 1.2 and 1.3); anything the site would lose by that is a warning, never silent.
import type { NginxArg, NginxDirective } from '../ast.js';
import type { RawSite, RawTlsPolicy, RawTlsProtocol } from '../../schema.js';
import type { Path } from '../../source.js';
import { AdaptCtx } from './context.js';
import { readClientAuth, type ClientAuthLevel } from './client-auth.js';
import { knownCipher } from '../../tls-policy.js';

export interface TlsLevel {
  cert?: NginxArg;
  key?: NginxArg;
  /** This level wrote its own pair (a child level starts with both false). */
  ownCert?: boolean;
  ownKey?: boolean;
  protocols?: NginxDirective;
  ciphers?: NginxDirective;
  curves?: NginxDirective;
  preferServerCiphers?: NginxDirective;
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
    case 'ssl_ecdh_curve':
      ctx.args(d, 1);
      tls.curves = d;
      return true;
    case 'ssl_prefer_server_ciphers':
      ctx.args(d, 1);
      tls.preferServerCiphers = d;
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

/**
 * The server's ssl_protocols, ssl_ciphers, ssl_ecdh_curve and ssl_prefer_server_ciphers as the
 * site's policy keys (config/tls-policy.ts checks each name, and its errors point at these lines).
 * nginx's own defaults (`HIGH:!aNULL:!MD5`, `auto`) are left out: gatehouse's are stricter.
 */
export function tlsPolicy(ctx: AdaptCtx, tls: TlsLevel, at: Path): RawTlsPolicy {
  const policy: RawTlsPolicy = {};
  if (tls.protocols) {
    const asked = tls.protocols.args.map((a) => a.text);
    const dropped = asked.filter((p) => !SERVED.has(p));
    const kept = asked.filter((p) => SERVED.has(p)) as RawTlsProtocol[];
    if (dropped.length > 0) ctx.warnOnce(tls.protocols.pos, `ssl_protocols ${dropped.join(' ')}: gatehouse serves TLSv1.2 and TLSv1.3 only; older clients cannot connect`);
    // Both versions is gatehouse's default: nothing to write.
    if (kept.length === 1) {
      policy.protocols = kept;
      ctx.from([...at, 'protocols'], tls.protocols.pos);
    }
  }
  const ciphers = tls.ciphers?.args[0];
  if (ciphers && !/^(HIGH:!aNULL:!MD5|DEFAULT)$/.test(ciphers.text)) {
    // OpenSSL's list separators are ':' (also ',' and ' '). SSL_CTX_set_cipher_list skips names it does
    // not know (old lists name 3DES and RC4 suites OpenSSL 3 has dropped) and fails only when nothing is
    // left: so does the adapter, with a warning; a list with nothing left stays as written, and
    // config/tls-policy.ts reports it.
    const names = ciphers.text.split(/[:, ]+/).filter((c) => c !== '');
    const known = names.filter(knownCipher);
    const unknown = names.filter((c) => !knownCipher(c));
    const kept = known.some((c) => !/^[!+@-]/.test(c)) ? known : names;
    if (kept !== names && unknown.length > 0) {
      ctx.warnOnce(ciphers.pos, `ssl_ciphers: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} unknown to, or disabled in, Node's OpenSSL ${process.versions.openssl} and left out, as OpenSSL does when nginx reads the list`);
    }
    policy.ciphers = kept;
    ctx.from([...at, 'ciphers'], ciphers.pos);
  }
  const curves = tls.curves?.args[0];
  if (curves && curves.text !== 'auto') {
    policy.curves = curves.text.split(':').filter((c) => c !== '');
    ctx.from([...at, 'curves'], curves.pos);
  }
  const prefer = tls.preferServerCiphers?.args[0];
  if (prefer) {
    if (prefer.text !== 'on' && prefer.text !== 'off') ctx.error(prefer.pos, `invalid value "${prefer.text}" in "ssl_prefer_server_ciphers" directive, it must be "on" or "off"`);
    else policy.preferServerCiphers = prefer.text === 'on';
  }
  return policy;
}

/** The site's `tls` with the policy keys beside its certificate source (the object form). */
export function withPolicy(value: RawSite['tls'], policy: RawTlsPolicy): RawSite['tls'] {
  if (Object.keys(policy).length === 0 || value === 'off') return value;
  if (value === undefined) return policy;
  if (typeof value === 'string') return { issuer: value, ...policy };
  return { ...value, ...policy };
}
