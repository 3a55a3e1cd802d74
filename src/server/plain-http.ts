// The plain HTTP listener (README "What reaches the backend"): ACME HTTP-01 answers, 308 to HTTPS for TLS sites, and
// normal serving for `tls: off` sites or `redirect: off`.
import type { Exchange } from '../http/exchange.js';
import type { Snapshot } from './types.js';
import type { CompiledSite } from '../router/types.js';
import type { RequestContext } from '../request/context.js';
import { refusedRequest, routeRequest, startRequest } from './dispatch.js';
import { sendRedirect, sendStatus } from '../http/respond.js';

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/**
 * Answers an HTTP-01 challenge (the ACME service's, handed over by app.ts). Returns (or resolves to)
 * false when the token is unknown: the answers live in the storage, so looking one up may take a read.
 */
export type ChallengeResponder = (ex: Exchange, token: string) => boolean | Promise<boolean>;

function pathOf(target: string): string {
  if (target.startsWith('/')) return target;
  // absolute-form (RFC 9112 §3.2.2): keep only path and query for the redirect.
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(target);
  return m?.[1] || '/';
}

export function handlePlainExchange(snap: Snapshot, ex: Exchange, challengeResponder: ChallengeResponder): void {
  const ctx = startRequest(snap, ex);
  if (ex.rawTarget.startsWith(CHALLENGE_PREFIX)) {
    const answered = challengeResponder(ex, ex.rawTarget.slice(CHALLENGE_PREFIX.length));
    if (answered === true) return;
    if (answered !== false) {
      answered.then(
        (ok) => ok || plainDefault(snap, ctx),
        () => plainDefault(snap, ctx),
      );
      return;
    }
  }
  plainDefault(snap, ctx);
}

/** A name of the site that can stand in a URL: not a wildcard or a regex. */
function plainName(site: CompiledSite): string | undefined {
  return site.config.hosts.find((h) => !h.startsWith('*') && !h.startsWith('~') && !h.startsWith('.') && !h.endsWith('.*'));
}

/** issue 18: a site bound to ports is sent to its own first https port; any other to the first https listener. */
function redirectPort(snap: Snapshot, site: CompiledSite): number | undefined {
  const bound = site.config.listen;
  if (bound === undefined) return snap.httpsPort;
  return snap.config.listen.https.find((l) => bound.includes(l.port))?.port;
}

function plainDefault(snap: Snapshot, ctx: RequestContext): void {
  const { ex, host, site } = ctx;
  const httpsPort = redirectPort(snap, site);
  if (site.config.tls.kind === 'off' || site.config.redirect === 'off' || httpsPort === undefined) {
    routeRequest(snap, ctx);
    return;
  }
  if (refusedRequest(ctx)) {
    sendStatus(ctx, 400);
    return;
  }
  // The redirect names only a host some site serves: a name no site has (a scanner's, a typo, an
  // IP address) goes to the default site's own name, or gets 400 when it has none to give.
  const name = host !== '' && snap.table.forPort(ex.conn.localPort).findHost(host) !== undefined ? host : plainName(site);
  if (name === undefined) {
    sendStatus(ctx, 400);
    return;
  }
  const authority = name.includes(':') ? `[${name}]` : name;
  const port = httpsPort === 443 ? '' : `:${httpsPort}`;
  // 308 keeps the method and body (RFC 9110 §15.4.9), unlike nginx's usual 301.
  sendRedirect({ ex }, 308, `https://${authority}${port}${pathOf(ex.rawTarget)}`);
}
