// issue 19: client certificate authentication (README "Client certificates (mTLS)"), nginx's
// ssl_verify_client. The handshake of a site with `tls.clientAuth` gets a context of its own: the
// site's certificate plus its client CA, and a session id context derived from the verification
// settings, so that a session (or ticket) verified for one site never resumes on a site that trusts
// other CAs (OpenSSL refuses a session whose sid_ctx differs and does a full handshake; nginx gets
// the same from ngx_ssl_session_id_context). The handshake never fails for a missing or bad
// certificate (rejectUnauthorized is off): the request gets nginx's readable 400 instead.
import { createHash, X509Certificate } from 'node:crypto';
import type { ClientCertificateInfo } from '../http/client-cert.js';
import type { DetailedPeerCertificate, SecureContext, TLSSocket } from 'node:tls';
import type { ClientAuthConfig } from '../config/types.js';
import type { CertEntry } from './types.js';

const contexts = new WeakMap<CertEntry, WeakMap<ClientAuthConfig, SecureContext>>();

/** The context for `entry` on a site with `auth`; undefined when the entry cannot make one. */
export function clientAuthContext(entry: CertEntry, auth: ClientAuthConfig): SecureContext | undefined {
  let byAuth = contexts.get(entry);
  const known = byAuth?.get(auth);
  if (known) return known;
  if (!entry.contextWith) return undefined;
  const sessionIdContext = createHash('sha256').update(`${auth.mode}\0${auth.depth}\0${auth.caPem ?? ''}`).digest('hex').slice(0, 32);
  // Without `ca` Node would trust its bundled public roots; optional_no_ca without a CA trusts none
  // (nginx: an empty store), which an empty CA list gives.
  const context = entry.contextWith({ ca: auth.caPem ?? [], sessionIdContext });
  if (!byAuth) contexts.set(entry, (byAuth = new WeakMap()));
  byAuth.set(auth, context);
  return context;
}

/** What the handshake of one connection found: the settings it was asked under, and the verdict. */
export interface ClientCertState extends ClientCertificateInfo {
  readonly auth: ClientAuthConfig;
}

/** X509_verify_cert_error_string (OpenSSL 3.0, crypto/x509/x509_txt.c) for Node's error codes. */
const OPENSSL_REASONS: Readonly<Record<string, string>> = {
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  UNABLE_TO_GET_CRL: 'unable to get certificate CRL',
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: "unable to decrypt certificate's signature",
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'unable to decode issuer public key',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_HAS_EXPIRED: 'certificate has expired',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: "format error in certificate's notBefore field",
  ERROR_IN_CERT_NOT_AFTER_FIELD: "format error in certificate's notAfter field",
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  CERT_CHAIN_TOO_LONG: 'certificate chain too long',
  CERT_REVOKED: 'certificate revoked',
  INVALID_CA: 'invalid CA certificate',
  PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
  INVALID_PURPOSE: 'unsupported certificate purpose',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
};

/**
 * The errors optional_no_ca lets through: the issuer is unknown, nothing else is wrong
 * (nginx's ngx_ssl_verify_error_optional).
 */
const OPTIONAL_NO_CA_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/**
 * Read once, at secureConnection, on sockets whose handshake asked for a certificate. One
 * getPeerCertificate(true) call gives both the certificate and its chain: on the server side a
 * getPeerX509Certificate() call first leaves the detailed one without its issuers (Node 20.20, seen).
 */
export function clientCertState(socket: TLSSocket, auth: ClientAuthConfig): ClientCertState {
  const detailed = socket.getPeerCertificate(true);
  if (!detailed.raw) return { auth, verify: 'NONE', verdict: auth.mode === 'require' ? 'no-cert' : 'ok', cert: undefined };
  const cert = new X509Certificate(detailed.raw);
  let error = socket.authorized ? undefined : String(socket.authorizationError ?? 'CERT_REJECTED');
  // Past the depth OpenSSL stops building the chain, reports CERT_CHAIN_TOO_LONG, and, as nginx's
  // verify callback goes on, ends without an anchor: what nginx gets (and logs) is error 20.
  if (error === undefined && chainLength(detailed) > auth.depth + 2) error = 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY';
  if (error === undefined) return { auth, verify: 'SUCCESS', verdict: 'ok', cert };
  // nginx (ngx_http_process_request): any verify error is the 400 "SSL certificate error" page, in
  // every mode, except an unknown issuer with optional_no_ca.
  const tolerated = auth.mode === 'optional_no_ca' && OPTIONAL_NO_CA_ERRORS.has(error);
  return { auth, verify: `FAILED:${OPENSSL_REASONS[error] ?? error}`, verdict: tolerated ? 'ok' : 'cert-error', cert };
}

/**
 * Certificates from the client's up to the trust anchor. OpenSSL's verify depth (nginx's
 * ssl_verify_depth, SSL_CTX_set_verify_depth(3)) allows depth + 2 of them: the client's, `depth`
 * CAs, the anchor. Node cannot set the depth on a context, so the verified chain is counted here.
 */
function chainLength(leaf: DetailedPeerCertificate): number {
  let cert = leaf;
  let n = 1;
  while (cert.issuerCertificate && cert.issuerCertificate.fingerprint256 !== cert.fingerprint256 && n < 102) {
    cert = cert.issuerCertificate;
    n++;
  }
  // Node attaches the anchor from the CA file only when its lookup finds it; verification passed,
  // so there is one (a self-signed root: Node does not allow partial chains).
  return cert.issuerCertificate?.fingerprint256 === cert.fingerprint256 ? n : n + 1;
}
