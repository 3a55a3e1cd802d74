// `set $public /var/www/app/public;` at server level and `alias $public/;` in a prefix location
// (Discourse's shipped config): nginx evaluates the alias per request, gatehouse's prefix alias must
// be a fixed folder. A variable that the server sets once, at its own level, to a value without
// variables has that value in every request (the server's rewrite phase runs before any location),
// so its uses in alias can be replaced by the value.
import type { NginxDirective } from '../ast.js';

/** Variables with one constant value for every request of this server. */
export function serverConstants(server: NginxDirective): Map<string, string> {
  const counts = new Map<string, number>();
  const walk = (list: NginxDirective[]): void => {
    for (const d of list) {
      if (d.name === 'set' && d.args[0]) counts.set(d.args[0].text, (counts.get(d.args[0].text) ?? 0) + 1);
      if (d.block) walk(d.block);
    }
  };
  walk(server.block ?? []);
  const out = new Map<string, string>();
  for (const d of server.block ?? []) {
    if (d.name !== 'set' || d.args.length !== 2) continue;
    const [name, value] = [d.args[0]!.text, d.args[1]!.text];
    if (counts.get(name) === 1 && /^\$[A-Za-z0-9_]+$/.test(name) && !value.includes('$')) out.set(name.slice(1), value);
  }
  return out;
}

/** `text` with `$name` and `${name}` of the constants replaced by their values. */
export function withConstants(text: string, constants: ReadonlyMap<string, string>): string {
  if (constants.size === 0 || !text.includes('$')) return text;
  return text.replace(/\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (whole, braced: string | undefined, bare: string | undefined) => constants.get(braced ?? bare!) ?? whole);
}
