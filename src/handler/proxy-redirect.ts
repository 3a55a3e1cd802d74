// issue 17: nginx's proxy_redirect (ngx_http_proxy_rewrite_redirect): the Location and Refresh
// fields of an upstream's response rewritten, so that a backend that names itself
// (`http://127.0.0.1:8080/x`) sends the client to gatehouse instead. `default` (nginx's default
// too) replaces the proxy URL with the location: `proxy: http://b:8080/app/` in `location: /x/`
// makes `http://b:8080/app/y` into `/x/y`; without a URI part, `http://b:8080/` becomes `/`.
// A prefix rule replaces the prefix (case-sensitive, as nginx's ngx_rstrncmp); a `~` (`~*`
// case-insensitive) rule that matches replaces the whole value, with $1..$9 from the match.
// The first rule that matches wins. nginx then makes a relative result absolute with its own
// host and port (absolute_redirect); gatehouse sends it relative, as its own redirects are
// (RFC 9110 §10.2.2 allows it).
import type { ProxyRedirectRule } from '../config/types.js';
import { setValue } from '../http/header-ops.js';
import { compileTemplate, type Template } from '../http/variables.js';
import type { VarSource } from '../http/vars-types.js';

export type CompiledRedirect = { kind: 'prefix'; from: string; to: Template } | { kind: 'regex'; from: RegExp; to: string };

/** What `default` means for a route: its proxy URL as written and its location. */
export interface RedirectDefaults {
  /** `http://host:port` or `http://host:port/uri`; undefined where nginx refuses `default` (a URI with variables). */
  proxyUrl: string | undefined;
  hasUri: boolean;
  /** The location's path (prefix and exact locations). */
  location: string;
}

export function compileProxyRedirect(rules: readonly ProxyRedirectRule[], d: RedirectDefaults): CompiledRedirect[] {
  const out: CompiledRedirect[] = [];
  for (const rule of rules) {
    if (rule === 'default') {
      if (d.proxyUrl === undefined) continue;
      out.push(d.hasUri ? { kind: 'prefix', from: d.proxyUrl, to: compileTemplate(d.location) } : { kind: 'prefix', from: `${d.proxyUrl}/`, to: compileTemplate('/') });
      continue;
    }
    const re = /^~(\*?)\s*(.*)$/s.exec(rule.from);
    if (re) out.push({ kind: 'regex', from: new RegExp(re[2] as string, re[1] ? 'i' : ''), to: rule.to });
    else out.push({ kind: 'prefix', from: rule.from, to: compileTemplate(rule.to) });
  }
  return out;
}

function rewrite(value: string, rules: readonly CompiledRedirect[], vars: VarSource): string | undefined {
  for (const r of rules) {
    if (r.kind === 'prefix') {
      if (value.startsWith(r.from)) return setValue(r.to, vars) + value.slice(r.from.length);
      continue;
    }
    const m = r.from.exec(value);
    if (m) return r.to.replace(/\$(\d)/g, (_, n: string) => m[Number(n)] ?? '');
  }
  return undefined;
}

/** The Location value to send, rewritten by the first rule that matches, else unchanged. */
export function rewriteLocation(value: string, rules: readonly CompiledRedirect[], vars: VarSource): string {
  return rewrite(value, rules, vars) ?? value;
}

/** `Refresh: 5; url=http://b/x`: the part after `url=` (any case) is rewritten as a Location. */
export function rewriteRefresh(value: string, rules: readonly CompiledRedirect[], vars: VarSource): string {
  const at = value.toLowerCase().indexOf('url=');
  if (at === -1) return value;
  const prefix = at + 4;
  const out = rewrite(value.slice(prefix), rules, vars);
  return out === undefined ? value : value.slice(0, prefix) + out;
}
