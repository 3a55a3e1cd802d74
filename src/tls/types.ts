// Contracts of the tls room: which certificate a handshake gets, and what it covers.
import type { SecureContext, SecureContextOptions } from 'node:tls';
import type { TlsPolicy } from '../config/types.js';

export interface CertEntry {
  /** DNS names / IPs in the certificate (SANs), lower-case. */
  names: string[];
  context: SecureContext;
  source: 'acme' | 'internal' | 'manual';
  notAfter: Date;
  /** RFC 6125: exact match, or a wildcard covering exactly one label; IPs match exactly. */
  covers(host: string): boolean;
  /** issue 19: the same certificate under a site's TLS policy (one context per policy, kept). */
  contextFor?(policy: TlsPolicy): SecureContext;
  /** issue 19: a new context for this certificate with more options (a site's client CA, tls/client-auth.ts). */
  contextWith?(extra: SecureContextOptions): SecureContext;
}

export interface CertificateSelector {
  /**
   * The certificate for a ClientHello's server name, per README "Automatic HTTPS (ACME)": exact name, then a one-label
   * wildcard, then the default site's certificate. `undefined` servername (no SNI, or an IP) gets
   * the default. Returns undefined only when no certificate exists at all. issue 18: `port` is the
   * listener's: only the certificates of sites on that port are candidates, and the default is that
   * port's default site's (nginx picks the server by SNI within the address:port's table).
   */
  select(servername: string | undefined, port?: number): CertEntry | undefined;
}

/**
 * What the TLS listener asks the ACME room during a handshake (README "Automatic HTTPS (ACME)"; docs/architecture.md on ALPN and SNI).
 */
export interface AcmeTlsHooks {
  /** ACME is configured: a client offering `acme-tls/1` is a validator (RFC 8737). */
  readonly enabled: boolean;
  /** The acme-tls/1 challenge certificate for `servername` while a TLS-ALPN-01 challenge is open. */
  challengeContext(servername: string): Promise<SecureContext | undefined>;
  /** The same, synchronously, when it is at hand (this process's own open challenges). */
  challengeContextNow(servername: string): SecureContext | undefined;
  /** Cheap check before onDemand: is on-demand TLS configured? */
  onDemandEnabled(): boolean;
  /** A certificate for a name nothing covers, if acme.onDemand's `ask` allows it; undefined otherwise. */
  onDemand(servername: string): Promise<CertEntry | undefined>;
}
