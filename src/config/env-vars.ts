// issue 17: logs. `${VAR}` and `${VAR:-default}` in the values of the config file, from the
// environment of the gatehouse process, at load and at every reload. Only UPPER-case names are
// environment variables: nginx's `${scheme}` in a template stays an nginx variable. `$${VAR}` is
// the literal text `${VAR}`. Keys are never substituted. A value taken from the environment is
// never shown in a message: the variable's name is (see redactSecrets).
import { parse, visit } from 'yaml';
import type { Source } from './source.js';
import type { ConfigIssue } from './types.js';

const REF = /\$(\$?)\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;

/** A value that came from the environment, to be kept out of messages. */
export interface Secret {
  name: string;
  value: string;
}

/**
 * Substitutes every reference in the document's scalar values in place. A plain (unquoted) value
 * that becomes a number or a boolean is read as one (`maxFails: ${FAILS}`); quoted, it stays text.
 */
export function substituteEnv(source: Source, env: NodeJS.ProcessEnv): { issues: ConfigIssue[]; secrets: Secret[] } {
  const issues: ConfigIssue[] = [];
  const secrets: Secret[] = [];
  const text = source.text;
  visit(source.doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const raw = node.range ? text.slice(node.range[0], node.range[1]) : '';
      const seen = new Map<string, number>();
      let changed = false;
      const value = node.value.replace(REF, (whole, literal: string, name: string, fallback: string | undefined) => {
        if (literal) return whole.slice(1);
        changed = true;
        const set = env[name];
        if (set !== undefined && (set !== '' || fallback === undefined)) {
          if (set !== '') secrets.push({ name, value: set });
          return set;
        }
        if (fallback !== undefined) return fallback;
        // The column of this `${NAME` in the file, when the value is written as it reads.
        const nth = (seen.get(name) ?? 0) + 1;
        seen.set(name, nth);
        let at = -1;
        for (let i = 0; i < nth; i++) at = raw.indexOf(`\${${name}`, at + 1);
        const offset = (node.range?.[0] ?? 0) + Math.max(at, 0);
        issues.push({
          pos: source.at(offset),
          message: `environment variable ${name} is not set (write \${${name}:-default} for a default, or $\${${name}} for the text itself)`,
          severity: 'error',
        });
        return '';
      });
      if (!changed && value === node.value) return;
      node.value = value;
      if (node.type === 'PLAIN' && changed) {
        const typed: unknown = parse(value);
        if (typeof typed === 'number' || typeof typed === 'boolean') node.value = typed;
      }
    },
  });
  return { issues, secrets };
}

/** Every message with the environment's values replaced by `${NAME}`. */
export function redactSecrets(issues: ConfigIssue[], secrets: readonly Secret[]): ConfigIssue[] {
  // Longest first, so a value that contains another is replaced whole.
  const sorted = [...secrets].filter((s) => s.value.length >= 3).sort((a, b) => b.value.length - a.value.length);
  if (sorted.length === 0) return issues;
  return issues.map((issue) => {
    let message = issue.message;
    for (const s of sorted) message = message.split(s.value).join(`\${${s.name}}`);
    return message === issue.message ? issue : { ...issue, message };
  });
}

