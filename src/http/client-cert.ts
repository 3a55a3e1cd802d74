// issue 19: mTLS — what a request knows about its connection's client certificate, and nginx's
// $ssl_client_* variables made from it (ngx_event_openssl.c: ngx_ssl_get_subject_dn and friends).
// Read only when a template names them: a connection that was never asked for a certificate has
// no ClientCertificateInfo at all.
import type { X509Certificate } from 'node:crypto';

export interface ClientCertificateInfo {
  /** The settings the handshake asked under (config ClientAuthConfig), to tell another site's apart. */
  readonly auth: { readonly mode: string; readonly depth: number; readonly caPem?: string | undefined };
  /** $ssl_client_verify: SUCCESS, FAILED:reason, NONE. */
  readonly verify: string;
  /** nginx's answer to a request on this connection (ngx_http_process_request): go on, or which 400. */
  readonly verdict: 'ok' | 'no-cert' | 'cert-error';
  readonly cert: X509Certificate | undefined;
}

/**
 * A distinguished name as OpenSSL's X509_NAME_print_ex with XN_FLAG_RFC2253 prints it (nginx ≥ 1.11.6):
 * every entry in reverse order (also within a multi-valued RDN, joined by "+"), RDNs comma-separated,
 * bytes ≥ 0x80 as \XX.
 * Node prints names one RDN a line, first RDN first, with the RFC 2253 escapes already applied.
 */
export function rfc2253(multiline: string): string {
  if (multiline === '') return '';
  // XN_FLAG_DN_REV reverses the entries one by one, so the values of a multi-valued RDN too.
  const rdns = multiline.split('\n').reverse().map((rdn) => rdn.split(' + ').reverse().join('+'));
  return escapeHighBytes(rdns.join(','));
}

function escapeHighBytes(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += byte < 0x80 ? String.fromCharCode(byte) : `\\${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** $ssl_client_fingerprint: SHA-1 of the DER, lower-case hex without colons. */
export function sha1Fingerprint(cert: X509Certificate): string {
  return cert.fingerprint.replace(/:/g, '').toLowerCase();
}

/** $ssl_client_escaped_cert: the PEM, every byte but A-Z a-z 0-9 - . _ ~ as %XX (NGX_ESCAPE_URI_COMPONENT). */
export function escapedPem(cert: X509Certificate): string {
  return encodeURIComponent(cert.toString()).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** $ssl_client_cert (deprecated in nginx): the PEM without its last newline, every other line after a tab. */
export function tabbedPem(cert: X509Certificate): string {
  return cert.toString().replace(/\n$/, '').replace(/\n/g, '\n\t');
}
