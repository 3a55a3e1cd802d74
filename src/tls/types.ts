// Contracts of the tls room: which certificate a handshake gets, and what it covers.
import type { SecureContext } from 'node:tls';

export interface CertEntry {
  /** DNS names / IPs in the certificate (SANs), lower-case. */
  names: string[];
  context: SecureContext;
  source: 'acme' | 'internal' | 'manual';
  notAfter: Date;
  /** RFC 6125: exact match, or a wildcard covering exactly one label; IPs match exactly. */
  covers(host: string): boolean;
}

export interface CertificateSelector {
  /**
   * The certificate for a ClientHello's server name, per SPEC §4: exact name, then a one-label
   * wildcard, then the default site's certificate. `undefined` servername (no SNI, or an IP) gets
   * the default. Returns undefined only when no certificate exists at all.
   */
  select(servername: string | undefined): CertEntry | undefined;
}
