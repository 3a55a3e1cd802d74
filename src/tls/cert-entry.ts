// Turns a PEM certificate chain and its private key into a CertEntry that handshakes can use. The one
// place certificates are checked before serving: a pair that fails here never replaces a working one.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { CertEntry } from './types.js';
import { namesCover, normalizeName, parseSubjectAltName } from './names.js';
import { policyContextOptions, TLS_CONTEXT_OPTIONS } from './tls-options.js';
import type { TlsPolicy } from '../config/types.js';

/** A CertEntry with what status pages, `gatehouse certs` and renewal need to know about it. */
export interface LoadedCertEntry extends CertEntry {
  /** Upper-case hex, as `X509Certificate.serialNumber`. */
  serial: string;
  notBefore: Date;
  issuer: string;
  /** SHA-256 fingerprint of the leaf, to tell a changed certificate from a rewritten identical one. */
  fingerprint256: string;
  /** The chain as served (leaf first). */
  certPem: string;
}

export interface CertPair {
  /** Leaf first, then intermediates. */
  certPem: string | Buffer;
  keyPem: string | Buffer;
  source: CertEntry['source'];
}

export class CertLoadError extends Error {
  readonly code = 'ECERT_LOAD';
}

export function createCertEntry(pair: CertPair): LoadedCertEntry {
  const certPem = pair.certPem.toString();
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certPem);
  } catch (err) {
    throw new CertLoadError(`cannot parse the certificate: ${(err as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(pair.keyPem);
  } catch (err) {
    throw new CertLoadError(`cannot parse the private key: ${(err as Error).message}`);
  }
  if (!leaf.checkPrivateKey(key)) throw new CertLoadError('the private key does not match the certificate');

  let names = parseSubjectAltName(leaf.subjectAltName);
  if (names.length === 0) {
    // RFC 6125 §6.4.4: the CN is a reference only when there is no SAN at all (old self-made certs).
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(leaf.subject)?.[1];
    if (cn) names = [normalizeName(cn)];
  }

  let context;
  try {
    context = createSecureContext({ ...TLS_CONTEXT_OPTIONS, cert: certPem, key: pair.keyPem });
  } catch (err) {
    throw new CertLoadError(`cannot use the certificate: ${(err as Error).message}`);
  }

  // issue 19: sites with their own TLS policy share this certificate through one context per policy.
  const byPolicy = new Map<string, SecureContext>();
  const contextFor = (policy: TlsPolicy): SecureContext => {
    const key = JSON.stringify(policy);
    let made = byPolicy.get(key);
    if (!made) {
      made = createSecureContext({ ...policyContextOptions(policy), cert: certPem, key: pair.keyPem });
      byPolicy.set(key, made);
    }
    return made;
  };

  return {
    names,
    context,
    contextFor,
    source: pair.source,
    notAfter: new Date(leaf.validTo),
    notBefore: new Date(leaf.validFrom),
    serial: leaf.serialNumber,
    issuer: leaf.issuer.replace(/\n/g, ', '),
    fingerprint256: leaf.fingerprint256,
    certPem,
    covers: (host: string) => namesCover(names, host),
    // issue 19: mTLS — the same certificate with a site's client CA; the key stays in this closure.
    contextWith: (extra: SecureContextOptions): SecureContext => createSecureContext({ ...TLS_CONTEXT_OPTIONS, cert: certPem, key: pair.keyPem, ...extra }),
  };
}
