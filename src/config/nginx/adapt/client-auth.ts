// issue 19: mTLS from nginx — ssl_verify_client, ssl_client_certificate and ssl_verify_depth (inherited
// http → server like the certificate pair) become the site's `tls.clientAuth` (README "Client
// certificates (mTLS)"). nginx refuses ssl_verify_client on/optional without ssl_client_certificate
// ("no ssl_client_certificate for ssl_verify_client"); so does gatehouse's own config, at the same line.
import type { NginxArg, NginxDirective } from '../ast.js';
import type { RawClientAuth, RawSite, RawSiteTls } from '../../schema.js';
import type { Path } from '../../source.js';
import { AdaptCtx } from './context.js';

export interface ClientAuthLevel {
  verify?: NginxDirective;
  certificate?: NginxArg;
  depth?: NginxDirective;
  trusted?: NginxDirective;
}

const MODES: Record<string, RawClientAuth['mode'] | 'off'> = { on: 'require', optional: 'optional', optional_no_ca: 'optional_no_ca', off: 'off' };

/** Reads one of the directives into a new level object (levels are shared by inheritance, never mutated). */
export function readClientAuth(ctx: AdaptCtx, level: ClientAuthLevel | undefined, d: NginxDirective): ClientAuthLevel | undefined {
  switch (d.name) {
    case 'ssl_verify_client': {
      const mode = ctx.args(d, 1)[0]!;
      if (MODES[mode.text] === undefined) ctx.error(mode.pos, `invalid value "${mode.text}" in "ssl_verify_client": on, off, optional or optional_no_ca`);
      return { ...level, verify: d };
    }
    case 'ssl_client_certificate':
      return { ...level, certificate: ctx.args(d, 1)[0]! };
    case 'ssl_verify_depth': {
      const n = ctx.args(d, 1)[0]!;
      if (!/^\d+$/.test(n.text) || Number(n.text) > 100) ctx.error(n.pos, `invalid value "${n.text}" in "ssl_verify_depth": a number from 0 to 100`);
      return { ...level, depth: d };
    }
    case 'ssl_trusted_certificate':
      ctx.args(d, 1);
      return { ...level, trusted: d };
    default:
      return undefined;
  }
}

/** The site's `tls` with clientAuth added when the level verifies; `source` is what the certificate part became. */
export function withClientAuth(ctx: AdaptCtx, at: Path, level: ClientAuthLevel | undefined, source: RawSite['tls'] | undefined): RawSite['tls'] | undefined {
  const verify = level?.verify;
  const mode = verify ? MODES[verify.args[0]!.text] : undefined;
  if (!verify || !mode || mode === 'off') return source;
  if (level.trusted) ctx.warnOnce(level.trusted.pos, 'ssl_trusted_certificate: gatehouse verifies client certificates against ssl_client_certificate\'s CAs only; put these CAs in that file too if clients are issued by them');
  const clientAuth: RawClientAuth = {};
  const base: Path = [...at, 'tls', 'clientAuth'];
  ctx.from(base, verify.pos);
  if (level.certificate) {
    clientAuth.ca = ctx.confPath(level.certificate.text);
    ctx.from([...base, 'ca'], level.certificate.pos);
  }
  if (mode !== 'require') clientAuth.mode = mode;
  if (level.depth && /^\d+$/.test(level.depth.args[0]!.text)) {
    const depth = Number(level.depth.args[0]!.text);
    if (depth !== 1) {
      clientAuth.depth = depth;
      ctx.from([...base, 'depth'], level.depth.pos);
    }
  }
  const object: RawSiteTls = source === undefined ? {} : typeof source === 'string' ? (source === 'off' ? {} : { issuer: source }) : { ...source };
  return { ...object, clientAuth };
}
