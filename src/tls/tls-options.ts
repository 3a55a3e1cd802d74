// The TLS settings every server-side context shares (README "Automatic HTTPS (ACME)": TLS 1.2 and 1.3 only; TLS 1.2 with ECDHE and
// AEAD ciphers only). The listener's `tls.createServer` must use the same ones as the per-certificate
// contexts: OpenSSL keeps the protocol versions and cipher list of the context a connection started with
// and only swaps the certificate when SNICallback picks another context, so both places must agree.
import { constants } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import type { TlsPolicy } from '../config/types.js';

/**
 * TLS 1.2 suites: forward secret (ECDHE) and AEAD only, ECDSA before RSA and AES-128 first as Mozilla's
 * "intermediate" profile orders them. TLS 1.3 suites are not listed, so Node keeps its defaults for them
 * (all TLS 1.3 suites are ECDHE/AEAD).
 */
export const TLS12_CIPHERS: readonly string[] = Object.freeze([
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
]);

export const TLS_CONTEXT_OPTIONS: Readonly<SecureContextOptions> = Object.freeze({
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: TLS12_CIPHERS.join(':'),
  honorCipherOrder: true,
  ecdhCurve: 'X25519:P-256:P-384',
  // No renegotiation at all (TLS 1.2; TLS 1.3 has none): nginx turns it off since CVE-2009-3555 and a
  // client-started one costs the server a full handshake each time. Node alone allows 3 per 10 minutes.
  secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
});

/**
 * issue 19: the options of a site's policy (README "TLS policy"): each member written replaces the
 * default, the rest stay. The listener reads the ClientHello before any TLS state exists and starts
 * the handshake with the chosen site's context (listener/listeners.ts), so a site's protocols, ciphers
 * and groups all apply to its SNI name, not only its certificate.
 */
export function policyContextOptions(policy: TlsPolicy | undefined): SecureContextOptions {
  if (!policy) return TLS_CONTEXT_OPTIONS;
  return {
    ...TLS_CONTEXT_OPTIONS,
    ...(policy.protocols ? { minVersion: policy.protocols.min, maxVersion: policy.protocols.max } : {}),
    ...(policy.ciphers ? { ciphers: policy.ciphers.join(':') } : {}),
    ...(policy.curves ? { ecdhCurve: policy.curves.join(':') } : {}),
    ...(policy.preferServerCiphers !== undefined ? { honorCipherOrder: policy.preferServerCiphers } : {}),
  };
}
