// issue 19: TLS policy — `tls: { protocols, ciphers, curves, preferServerCiphers }` at the top level (every
// site's default) and in a site's `tls` (its own keys win), and `protocols` of an upstream's `tls`.
// Every name is checked against the OpenSSL Node was built with, by building a secure context with it:
// a name this OpenSSL does not know is an error at its list item, never a handshake failure later.
import { createSecureContext } from 'node:tls';
import type { Ctx } from './context.js';
import type { RawTlsPolicy, RawTlsProtocol } from './schema.js';
import type { Path } from './source.js';
import type { TlsPolicy, TlsProtocolRange } from './types.js';

const SERVED = ['TLSv1.2', 'TLSv1.3'] as const;

/** The policy written at `at`, checked; undefined when nothing is written there. */
export function tlsPolicyConfig(ctx: Ctx, at: Path, raw: RawTlsPolicy | undefined): TlsPolicy | undefined {
  if (raw === undefined || !ctx.shaped(at)) return undefined;
  const policy: TlsPolicy = {};
  if (raw.protocols !== undefined) {
    const range = protocolRange(ctx, [...at, 'protocols'], raw.protocols);
    if (range) policy.protocols = range;
  }
  if (raw.ciphers !== undefined && ctx.shaped([...at, 'ciphers'])) {
    const ciphers = cipherList(ctx, [...at, 'ciphers'], raw.ciphers);
    if (ciphers) policy.ciphers = ciphers;
    if (policy.protocols?.min === 'TLSv1.3') ctx.warn([...at, 'ciphers'], 'ciphers only choose among TLS 1.2 suites, and protocols allow TLSv1.3 only: this list has no effect');
  }
  if (raw.curves !== undefined && ctx.shaped([...at, 'curves'])) {
    const curves = curveList(ctx, [...at, 'curves'], raw.curves);
    if (curves) policy.curves = curves;
  }
  if (raw.preferServerCiphers !== undefined && ctx.clean([...at, 'preferServerCiphers'])) policy.preferServerCiphers = raw.preferServerCiphers;
  return Object.keys(policy).length > 0 ? policy : undefined;
}

/** A site's policy: each key the site writes replaces the top-level one, the others are inherited. */
export function mergeTlsPolicy(top: TlsPolicy | undefined, own: TlsPolicy | undefined): TlsPolicy | undefined {
  if (!top) return own;
  if (!own) return top;
  return { ...top, ...own };
}

/**
 * `protocols: [TLSv1.2, TLSv1.3]` → Node's minVersion/maxVersion. TLS 1.0 and 1.1 are refused: in
 * OpenSSL 3 at its default security level (1) no signature algorithm is left for them (SHA-1 is
 * below the level), so the handshake fails with "no suitable signature algorithm" whatever is set.
 */
export function protocolRange(ctx: Ctx, at: Path, raw: RawTlsProtocol[]): TlsProtocolRange | undefined {
  if (!ctx.shaped(at)) return undefined;
  let ok = true;
  raw.forEach((p, i) => {
    if (!ctx.clean([...at, i])) {
      ok = false;
    } else if (p === 'TLSv1' || p === 'TLSv1.1') {
      ctx.error([...at, i], `${p} cannot be served: Node's OpenSSL ${process.versions.openssl} refuses it at its default security level (no signature algorithm allowed for it); use TLSv1.2 and TLSv1.3`);
      ok = false;
    }
  });
  if (!ok) return undefined;
  const picked = SERVED.filter((p) => raw.includes(p));
  const min = picked[0];
  const max = picked[picked.length - 1];
  return min && max ? { min, max } : undefined;
}

function cipherList(ctx: Ctx, at: Path, raw: string[]): string[] | undefined {
  let ok = true;
  raw.forEach((name, i) => {
    if (!ctx.clean([...at, i])) {
      ok = false;
      return;
    }
    if (/^TLS_/i.test(name)) {
      ctx.error([...at, i], `${name} is a TLS 1.3 suite; ciphers lists TLS 1.2 suites only (all TLS 1.3 suites are forward secret and AEAD, and Node's defaults are kept for them)`);
      ok = false;
    } else if (!/^[!+@-]/.test(name) && !acceptsCiphers(name)) {
      // Operators (!aNULL, -RSA, +SHA, @STRENGTH) modify the list and match nothing on their own.
      ctx.error([...at, i], `cipher "${name}" is unknown to, or disabled in, Node's OpenSSL ${process.versions.openssl} (see \`openssl ciphers -v\`)`);
      ok = false;
    }
  });
  if (!ok) return undefined;
  if (!acceptsCiphers(raw.join(':'))) {
    ctx.error(at, 'this cipher list leaves no TLS 1.2 suite');
    return undefined;
  }
  return raw;
}

function curveList(ctx: Ctx, at: Path, raw: string[]): string[] | undefined {
  let ok = true;
  raw.forEach((name, i) => {
    if (!ctx.clean([...at, i])) {
      ok = false;
    } else if (!builds(() => createSecureContext({ ecdhCurve: name, ca: NO_ROOTS }))) {
      ctx.error([...at, i], `curve "${name}" is unknown to Node's OpenSSL ${process.versions.openssl} (names like X25519, P-256, P-384, P-521, X448)`);
      ok = false;
    }
  });
  return ok ? raw : undefined;
}

/**
 * A TLS 1.2 cipher name Node's OpenSSL has (an operator such as `!aNULL` or `@STRENGTH` counts: it
 * matches nothing on its own). The nginx adapter drops the others, as OpenSSL's own list parsing does.
 */
export function knownCipher(name: string): boolean {
  return /^[!+@-]/.test(name) || (!/^TLS_/i.test(name) && acceptsCiphers(name));
}

// A context made only to see whether OpenSSL takes a name needs no trust store: without `ca` Node builds
// its root store for the first context of the process, about 20 ms of a `check` (docs/performance.md).
const NO_ROOTS: string[] = [];

function acceptsCiphers(list: string): boolean {
  return builds(() => createSecureContext({ ciphers: list, ca: NO_ROOTS }));
}

function builds(make: () => unknown): boolean {
  try {
    make();
    return true;
  } catch {
    return false;
  }
}
