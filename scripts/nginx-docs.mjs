// npm run docs:nginx — writes docs/nginx.md's directive section from the adapter's table (after a
// build). test/unit/config/nginx/table-doc.test.ts fails when the file and the table disagree.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { withDirectives } = await import(path.join(repo, 'dist/config/nginx/adapt/table-doc.js'));
const file = path.join(repo, 'docs/nginx.md');
const next = withDirectives(fs.readFileSync(file, 'utf8'));
if (next === undefined) {
  process.stderr.write(`${file}: the directives:begin / directives:end markers are missing\n`);
  process.exit(1);
}
fs.writeFileSync(`${file}.tmp`, next);
fs.renameSync(`${file}.tmp`, file);
process.stdout.write(`wrote ${path.relative(repo, file)}\n`);
