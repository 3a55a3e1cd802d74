// issue 19: a site's `tls.clientAuth` (README "Client certificates (mTLS)"), nginx's ssl_verify_client,
// ssl_client_certificate and ssl_verify_depth. The CA bundle is read here, so that a missing or
// unreadable file is an error at its line in `check`, and a reload (SIGHUP) reads it again.
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { Ctx } from './context.js';
import type { Path } from './source.js';
import type { RawClientAuth } from './schema.js';
import type { ClientAuthConfig } from './types.js';

/** nginx's default ssl_verify_depth. */
const DEFAULT_DEPTH = 1;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function clientAuthConfig(ctx: Ctx, at: Path, raw: RawClientAuth): ClientAuthConfig | undefined {
  const mode = raw.mode ?? 'require';
  const out: ClientAuthConfig = { mode, depth: raw.depth ?? DEFAULT_DEPTH };
  if (raw.ca === undefined) {
    // nginx: "no ssl_client_certificate for ssl_verify_client" (ngx_http_ssl_merge_srv_conf).
    if (mode !== 'optional_no_ca') ctx.error(at, `tls.clientAuth with mode ${mode} needs ca: the PEM file of the CAs a client certificate must come from`);
    return out;
  }
  if (!ctx.clean([...at, 'ca'])) return undefined;
  const file = ctx.resolve(raw.ca);
  const pem = ctx.attempt([...at, 'ca'], () => readCaBundle(file));
  if (pem === undefined) return undefined;
  out.ca = file;
  out.caPem = pem;
  return out;
}

/** The bundle's text when it holds at least one certificate and nothing unparsable; throws why not. */
function readCaBundle(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`tls.clientAuth.ca ${file} cannot be read (${code})`, { cause: err });
  }
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new Error(`tls.clientAuth.ca ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new Error(`tls.clientAuth.ca ${file}: certificate ${i + 1} cannot be parsed (${(err as Error).message})`, { cause: err });
    }
  });
  return blocks.join('\n');
}

/** Two handshakes asked under the same settings (also across a reload that kept them). */
export function sameClientAuth(a: ClientAuthConfig, b: { readonly mode: string; readonly depth: number; readonly caPem?: string | undefined }): boolean {
  return a === b || (a.mode === b.mode && a.depth === b.depth && a.caPem === b.caPem);
}
