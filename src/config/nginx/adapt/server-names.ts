// nginx's server_name table is per address:port (ngx_http_server_names): a name a server already
// has on the same port is "conflicting server name ..., ignored", a warning, and the first server
// keeps it. The adapter does the same, so such configs load instead of failing on a duplicate host.
import type { AdaptCtx } from './context.js';
import type { ServerName, TranslatedServer } from './server.js';

/** Takes the names an earlier server has on one of the same ports out of `servers`' hosts, with nginx's warning. */
export function dropConflictingNames(ctx: AdaptCtx, servers: readonly TranslatedServer[]): void {
  const claimed = new Map<number, Set<string>>();
  for (const s of servers) {
    const ports = [...new Set(s.listens.map((l) => l.port))];
    // A server without server_name has nginx's name "", which conflicts like any other.
    const names: ServerName[] = s.names.length > 0 ? s.names : [{ text: '', pos: s.pos }];
    const kept: string[] = [];
    for (const n of names) {
      // ngx_http_core_server_name lower-cases every name but a regex.
      const key = n.text.startsWith('~') ? n.text : n.text.toLowerCase();
      const clash = ports.find((p) => claimed.get(p)?.has(key));
      if (clash !== undefined) {
        const l = s.listens.find((x) => x.port === clash)!;
        ctx.warn(n.pos, `conflicting server name "${n.text}" on ${l.host === undefined ? '0.0.0.0' : l.host.includes(':') ? `[${l.host}]` : l.host}:${clash}, ignored`);
        continue;
      }
      for (const p of ports) {
        const set = claimed.get(p) ?? new Set<string>();
        set.add(key);
        claimed.set(p, set);
      }
      if (n.text !== '') kept.push(n.text);
    }
    // Left with no name, the server is still there: as a port's default, or for nothing (nginx keeps it too).
    s.site.hosts = kept.length > 0 ? kept : ['_'];
  }
}
