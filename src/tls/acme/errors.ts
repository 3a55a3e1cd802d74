// Errors a user can act on: which challenge failed, what the CA said (its own words, RFC 8555 §6.7
// problem documents), and the likely fix.
import { AcmeTransportError } from './http.js';

export type ChallengeType = 'http-01' | 'tls-alpn-01' | 'dns-01';

export interface Problem {
  /** `urn:ietf:params:acme:error:connection` etc., when the CA gave one. */
  type?: string;
  detail: string;
}

export interface FailureReport {
  /** The challenge that failed last, or null when the failure was not a challenge's (CA down, rate limit). */
  challenge: ChallengeType | null;
  /** The CA's own words where it gave any, else ours. */
  detail: string;
  /** What the user can probably do about it. */
  hint: string;
  problemType?: string;
  /** The CA asked us to wait this long (429/503 Retry-After). */
  retryAfterMs?: number;
  /** Every challenge type tried (and with several CAs, every CA), in order, when more than one failed. */
  attempts?: FailedAttempt[];
  /** The CA (`directoryLabel`) the failure is from, when the report comes from an issuer. */
  ca?: string;
}

export interface FailedAttempt {
  challenge: ChallengeType | null;
  detail: string;
  /** With several CAs (acme.issuers): which one. */
  ca?: string;
}

export class AcmeOrderError extends Error implements FailureReport {
  readonly code = 'EACME_ORDER';
  constructor(
    readonly challenge: ChallengeType | null,
    readonly detail: string,
    readonly hint: string,
    readonly problemType?: string,
    readonly retryAfterMs?: number,
    readonly attempts?: FailedAttempt[],
    readonly ca?: string,
  ) {
    super(challenge ? `${challenge}: ${detail}` : detail);
  }
}

/** Words of a CA that could not reach us at all, whatever problem type it filed them under. */
const UNREACHABLE = /connection refused|failed to connect|connect: |timeout|timed out|no route to host|network is unreachable|connection reset/i;

const PREFIX = 'urn:ietf:params:acme:error:';

export function shortType(type: string | undefined): string | undefined {
  return type?.startsWith(PREFIX) ? type.slice(PREFIX.length) : type;
}

/** The likely fix for a problem seen while validating `names` with `challenge`. */
export function hintFor(type: string | undefined, challenge: ChallengeType | null, names: readonly string[], detail = ''): string {
  const list = names.join(', ');
  const port = challenge === 'http-01' ? 'port 80 (HTTP-01)' : challenge === 'tls-alpn-01' ? 'port 443 (TLS-ALPN-01)' : 'ports 80 and 443';
  if (challenge === 'dns-01') return dnsHint(shortType(type), names, detail);
  const kind = challenge && UNREACHABLE.test(detail) ? 'connection' : shortType(type);
  switch (kind) {
    case 'connection':
      return `the CA could not connect to ${list} on ${port}: check that DNS for the name points to this server and that no firewall blocks the port`;
    case 'dns':
      return `the CA could not resolve ${list}: check its A/AAAA records at your DNS provider`;
    case 'unauthorized':
    case 'incorrectResponse':
      return challenge === 'tls-alpn-01'
        ? `the CA reached a server that did not present the challenge certificate: DNS for ${list} may point elsewhere, or something in front of gatehouse terminates TLS on port 443`
        : `the CA reached a server that gave the wrong answer: DNS for ${list} may point to another server, or a proxy/CDN in front of gatehouse does not pass /.well-known/acme-challenge/ through`;
    case 'tls':
      return `the TLS handshake for the challenge failed: port 443 must reach gatehouse directly (no TLS-terminating proxy in front)`;
    case 'caa':
      return `a CAA record for ${list} does not allow this CA to issue: add the CA to the record or remove it`;
    case 'rateLimited':
      return 'the CA\'s rate limit was reached: gatehouse retries later on its own; use letsencrypt-staging while testing';
    case 'rejectedIdentifier':
      return `the CA will not issue for ${list}: it must be a public DNS name the CA accepts (use tls: internal for local names)`;
    case 'externalAccountRequired':
      return 'this CA requires an external account binding: set acme.eab { kid, hmac } from your CA account';
    case 'badCSR':
    case 'badPublicKey':
      return 'the CA rejected the key or request: try another acme.key type';
    case 'accountDoesNotExist':
    case 'unauthorizedAccount':
      return 'the ACME account is not known to this CA: gatehouse registers a new one on the next attempt';
    case 'serverInternal':
      return 'the CA had an internal error: gatehouse retries later on its own';
    default:
      return challenge
        ? `check that DNS for ${list} points to this server and that ${port} reaches gatehouse`
        : 'gatehouse retries later on its own';
  }
}

/** issue 19: DNS-01 fails in the DNS, never on our ports (RFC 8555 §8.4). */
function dnsHint(kind: string | undefined, names: readonly string[], detail: string): string {
  const records = names.map((n) => `_acme-challenge.${n.replace(/^\*\./, '')}`).filter((n, i, all) => all.indexOf(n) === i).join(', ');
  if (kind === 'unauthorized' || kind === 'incorrectResponse' || /TXT/i.test(detail)) {
    return `the CA did not find the TXT value at ${records}: check that acme.dns writes to the zone the public DNS serves ` +
      '(split DNS, a CNAME delegation), or raise acme.dns.propagationTimeout when the provider is slow to publish';
  }
  if (kind === 'dns') return `the CA could not look up ${records}: check the zone's NS records and that its servers answer`;
  if (kind === 'caa') return hintFor(type(kind), null, names);
  return `check acme.dns (provider, credentials) and that ${records} can be written and resolved`;
}

function type(kind: string): string {
  return `${PREFIX}${kind}`;
}

/** A report for any error thrown while ordering. */
export function report(err: unknown, names: readonly string[], retryAfterMs?: number): FailureReport {
  if (err instanceof AcmeOrderError) return err;
  if (err instanceof AcmeTransportError) {
    const trust = err.message.includes('acme.trust');
    return {
      challenge: null,
      detail: err.message,
      hint: trust
        ? 'set acme.trust to the CA file that signed the ACME server\'s HTTPS certificate'
        : 'check the network and the acme.directory URL; gatehouse retries later on its own',
      retryAfterMs,
    };
  }
  const message = (err as Error)?.message ?? String(err);
  // acme-client flattens problem documents to their detail; a few types can still be told apart.
  const type = /rate ?limit/i.test(message)
    ? `${PREFIX}rateLimited`
    : /externalAccount(Required|Binding)|external account/i.test(message)
      ? `${PREFIX}externalAccountRequired`
      : undefined;
  return { challenge: null, detail: message, hint: hintFor(type, null, names), problemType: type, retryAfterMs };
}
