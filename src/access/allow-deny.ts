// nginx's ngx_http_access_module: allow/deny rules, first match wins, no match lets the request
// through (NGX_DECLINED). As in nginx, the rules are kept per address family, `all` in each, so the
// order between an IPv4 and an IPv6 rule does not matter. The address is $remote_addr: the
// connection's peer (dual-stack ::ffff:a.b.c.d already reported as a.b.c.d, listener/connection-info.ts),
// not X-Forwarded-For, which nginx uses only once the realip module rewrote $remote_addr.
import ipaddr from 'ipaddr.js';
import type { AccessRule } from '../config/types.js';
import type { Logger } from '../log/types.js';
import type { RequestContext } from '../request/context.js';
import { DECLINED, FORBIDDEN, PASS, type AccessCheck, type Verdict } from './verdict.js';

interface CompiledRule {
  readonly allow: boolean;
  /** undefined: `all` (or `unix:` in the unix list). */
  readonly net: readonly [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined;
}

export interface AllowDeny {
  /** 'allow', 'deny', or undefined when no rule matched. */
  match(address: string): 'allow' | 'deny' | undefined;
}

export function compileRules(rules: readonly AccessRule[]): AllowDeny {
  const v4: CompiledRule[] = [];
  const v6: CompiledRule[] = [];
  const unix: CompiledRule[] = [];
  for (const rule of rules) {
    const allow = rule.action === 'allow';
    if (rule.source === 'all') {
      for (const list of [v4, v6, unix]) list.push({ allow, net: undefined });
    } else if (rule.source === 'unix:') {
      unix.push({ allow, net: undefined });
    } else {
      const net = rule.source.includes('/') ? ipaddr.parseCIDR(rule.source) : single(rule.source);
      (net[0].kind() === 'ipv4' ? v4 : v6).push({ allow, net });
    }
  }
  return {
    match(address) {
      let list = unix;
      let ip: ipaddr.IPv4 | ipaddr.IPv6 | undefined;
      if (ipaddr.isValid(address)) {
        ip = ipaddr.parse(address);
        list = ip.kind() === 'ipv4' ? v4 : v6;
      }
      for (const r of list) {
        if (!r.net || (ip && ip.match(r.net as [ipaddr.IPv4 | ipaddr.IPv6, number]))) return r.allow ? 'allow' : 'deny';
      }
      return undefined;
    },
  };
}

function single(address: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  const ip = ipaddr.parse(address);
  return [ip, ip.kind() === 'ipv4' ? 32 : 128];
}

/** The access-phase check: 403 on a deny rule (logged as nginx does, at error level, under satisfy all). */
export function allowDenyCheck(rules: readonly AccessRule[], logger: Logger, satisfyAll: boolean): AccessCheck {
  const compiled = compileRules(rules);
  return (ctx: RequestContext): Verdict => {
    const hit = compiled.match(ctx.ex.conn.remoteAddress);
    if (hit === undefined) return DECLINED;
    if (hit === 'allow') return PASS;
    if (satisfyAll) logger.error('access forbidden by rule', { client: ctx.ex.conn.remoteAddress, uri: ctx.ex.rawTarget, host: ctx.host });
    return FORBIDDEN;
  };
}
