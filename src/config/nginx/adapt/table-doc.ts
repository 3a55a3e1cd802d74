// The directive table (table.ts) as the Markdown section of docs/nginx.md "Every directive", which
// `npm run docs:nginx` writes and a unit test compares with the file, so the documentation cannot
// drift from what the adapter does.
import { DIRECTIVES, type DirectiveClass } from './table.js';

export const DIRECTIVES_BEGIN = '<!-- directives:begin (generated from src/config/nginx/adapt/table.ts by npm run docs:nginx; do not edit) -->';
export const DIRECTIVES_END = '<!-- directives:end -->';

const HEADINGS: Record<DirectiveClass, { title: string; column: string }> = {
  translated: { title: 'Translated', column: 'becomes' },
  ignored: { title: 'Accepted without effect', column: 'why nothing is lost (**differs**: always a warning, as gatehouse behaves visibly differently)' },
  refused: { title: 'Refused', column: 'what to do instead' },
};

/** Pipes and line breaks would end a table cell early. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function directivesMarkdown(): string {
  const names = Object.keys(DIRECTIVES).sort();
  const out: string[] = [];
  for (const cls of ['translated', 'ignored', 'refused'] as const) {
    const rows = names.filter((n) => DIRECTIVES[n]!.class === cls);
    out.push(`### ${HEADINGS[cls].title} (${rows.length})`, '', `| directive | ${HEADINGS[cls].column} |`, '|---|---|');
    for (const n of rows) {
      const info = DIRECTIVES[n]!;
      out.push(`| \`${n}\` | ${info.differs ? '**differs**: ' : ''}${cell(info.note)} |`);
    }
    out.push('');
  }
  out.push('A directive not listed here is refused as unknown, as `nginx -t` refuses one it does not know.');
  return out.join('\n');
}

/** `doc` with the text between the markers replaced; undefined when the markers are missing. */
export function withDirectives(doc: string): string | undefined {
  const begin = doc.indexOf(DIRECTIVES_BEGIN);
  const end = doc.indexOf(DIRECTIVES_END);
  if (begin < 0 || end < begin) return undefined;
  return `${doc.slice(0, begin + DIRECTIVES_BEGIN.length)}\n\n${directivesMarkdown()}\n\n${doc.slice(end)}`;
}
