// nginx's ngx_http_auth_basic_module: the Authorization header read as ngx_http_auth_basic_user
// reads it, the user's line from the htpasswd file, the password checked (password-verify.ts)
// through the cache and bound of verify-gate.ts; 401 with `WWW-Authenticate: Basic realm="..."`.
import type { Logger } from '../log/types.js';
import type { RequestContext } from '../request/context.js';
import { HtpasswdFile } from './htpasswd.js';
import { verifyPassword } from './password-verify.js';
import { verifyGate, type VerifyGate } from './verify-gate.js';
import { FORBIDDEN, INTERNAL_ERROR, PASS, type AccessCheck, type Verdict } from './verdict.js';

/** Past the bound of verify-gate.ts: shed, not queued. */
const BUSY: Verdict = { kind: 'fail', status: 503 };

/**
 * Past these the header is refused (401) without a hash: SHA-crypt's cost grows with the password's
 * length on every round, so a 16 KiB password would hold the CPU for half a second. nginx has no
 * such bound; no real password comes near it.
 */
export const MAX_AUTHORIZATION_CHARS = 4096;
export const MAX_PASSWORD_BYTES = 1024;

export interface Credentials {
  /** latin1 string of the user name's bytes (compared byte by byte with the file, as nginx does). */
  user: string;
  password: Buffer;
}

/**
 * ngx_http_auth_basic_user: "Basic" (any case) and a space, more spaces, then base64 as
 * ngx_decode_base64 takes it (standard alphabet, read up to the first "=", a length of 4n+1 is
 * invalid); the user runs to the first ":" and may not be empty. undefined → 401.
 */
export function parseBasic(value: string | undefined): Credentials | undefined {
  if (value === undefined || value.length < 6 || value.length > MAX_AUTHORIZATION_CHARS) return undefined;
  if (value.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  let i = 6;
  while (value.charCodeAt(i) === 0x20) i++;
  const encoded = value.slice(i);
  if (encoded === '') return undefined;
  const eq = encoded.indexOf('=');
  const b64 = eq < 0 ? encoded : encoded.slice(0, eq);
  if (!/^[A-Za-z0-9+/]*$/.test(b64) || b64.length % 4 === 1) return undefined;
  const raw = Buffer.from(b64, 'base64');
  const colon = raw.indexOf(0x3a);
  if (colon <= 0) return undefined;
  return { user: raw.subarray(0, colon).toString('latin1'), password: raw.subarray(colon + 1) };
}

export interface BasicAuthOptions {
  realm: string;
  file: HtpasswdFile;
  logger: Logger;
  gate?: VerifyGate;
}

export function basicAuthCheck(opts: BasicAuthOptions): AccessCheck {
  // nginx sends the realm's bytes as written; a header string carries bytes as latin1 chars.
  const realm = Buffer.from(opts.realm, 'utf8').toString('latin1');
  const challenge: Verdict = { kind: 'refuse', status: 401, headers: { 'www-authenticate': `Basic realm="${realm}"` } };
  const gate = opts.gate ?? verifyGate;
  const { logger, file } = opts;
  return async (ctx: RequestContext): Promise<Verdict> => {
    const header = ctx.ex.headers.authorization;
    const creds = parseBasic(typeof header === 'string' ? header : undefined);
    if (!creds) {
      logger.info('no user/password was provided for basic authentication', { client: ctx.ex.conn.remoteAddress, uri: ctx.ex.rawTarget });
      return challenge;
    }
    const found = await file.lookup(creds.user);
    if (!found.ok) return found.status === 403 ? FORBIDDEN : INTERNAL_ERROR;
    const entry = found.entry;
    const client = ctx.ex.conn.remoteAddress;
    if (creds.password.length > MAX_PASSWORD_BYTES) {
      logger.error('password longer than 1 KiB: refused without checking', { user: creds.user, client });
      return challenge;
    }
    if (!entry) {
      logger.error('user was not found in the htpasswd file', { user: creds.user, file: file.path, client });
      // The same work as for a real user, so that timing does not tell which names exist.
      const first = found.first;
      if (first?.scheme && (await gate.spend(() => verifyPassword(first.scheme!, first.hash, creds.password))) === 'busy') return BUSY;
      return challenge;
    }
    if (!entry.scheme) {
      // Only after the file changed under a running gatehouse: at load such a line is an error.
      logger.error(`${file.path}:${entry.line}: ${entry.problem ?? 'unusable hash'}`, { user: creds.user });
      return INTERNAL_ERROR;
    }
    const key = gate.key([file.path, creds.user, entry.hash, header as string]);
    if (gate.cached(key)) return PASS;
    const good = await gate.check(key, () => verifyPassword(entry.scheme!, entry.hash, creds.password));
    if (good === 'busy') {
      logger.warn('too many password checks at once: answering 503', { client });
      return BUSY;
    }
    if (good) return PASS;
    logger.error('password mismatch', { user: creds.user, client });
    return challenge;
  };
}
