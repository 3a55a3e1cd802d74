// npm run corpus [-- DIR] [--write] — `gatehouse check --allow-missing-includes` over every nginx
// configuration in DIR (default ../shared/corpus/nginx, or $GATEHOUSE_CORPUS), read in place: those
// files are other people's and are never copied into this repository. Prints a table: accepted,
// accepted with warnings, refused (with the first error) or crashed (anything but exit 0/2, a stack
// trace, or no answer in 20 s), and each check's wall time. --write puts it, dated, into
// docs/nginx.md between the corpus markers.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const write = args.includes('--write');
const dir = path.resolve(args.find((a) => !a.startsWith('--')) ?? process.env.GATEHOUSE_CORPUS ?? path.join(repo, '..', 'shared', 'corpus', 'nginx'));
if (!fs.existsSync(dir)) {
  process.stderr.write(`corpus: ${dir} does not exist (give the folder as an argument or in $GATEHOUSE_CORPUS)\n`);
  process.exit(2);
}
// nginx syntax is recognised by content, not by name (Debian's sites-available/default has none);
// the folder's README.md and SOURCES.md are about the files.
const files = fs.readdirSync(dir).filter((f) => !/\.md$/i.test(f) && fs.statSync(path.join(dir, f)).isFile()).sort();

const rows = [];
for (const f of files) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/gatehouse.js'), 'check', '--allow-missing-includes', '-c', path.join(dir, f)], { encoding: 'utf8', timeout: 20_000 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const lines = (r.stderr ?? '').split('\n').filter(Boolean);
  // A missing include is the corpus' own gap (the files come without their snippets), not a finding.
  const warnings = lines.filter((l) => / warning: /.test(l) && !/the include is kept unexpanded/.test(l));
  const errors = lines.filter((l) => /^[^ ]+:\d+:\d+: /.test(l) && !/ warning: /.test(l));
  let verdict;
  let detail = '';
  if (r.error || r.signal || (r.status !== 0 && r.status !== 2) || /\n\s+at /.test(r.stderr ?? '')) {
    verdict = 'crashed';
    detail = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
  } else if (r.status === 2) {
    verdict = 'refused';
    detail = (errors[0] ?? lines[0] ?? '').replace(`${dir}/`, '');
  } else {
    verdict = warnings.length > 0 ? 'accepted with warnings' : 'accepted';
    if (warnings.length > 0) detail = `${warnings.length} warning${warnings.length === 1 ? '' : 's'}`;
  }
  rows.push({ f, verdict, detail, ms });
}

const count = (v) => rows.filter((r) => r.verdict === v).length;
const accepted = count('accepted') + count('accepted with warnings');
const cell = (s) => s.replace(/\|/g, '\\|');
const table = [
  `Corpus run of ${new Date().toISOString().slice(0, 10)}: ${accepted} of ${rows.length} accepted (${count('accepted with warnings')} with warnings), ${count('refused')} refused, ${count('crashed')} crashed.`,
  '',
  '| file | verdict | first refusal, or warnings | check (ms) |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${cell(r.f)} | ${r.verdict} | ${cell(r.detail)} | ${r.ms.toFixed(0)} |`),
].join('\n');
process.stdout.write(`${table}\n`);

if (write) {
  const BEGIN = '<!-- corpus:begin (npm run corpus -- --write) -->';
  const END = '<!-- corpus:end -->';
  const file = path.join(repo, 'docs/nginx.md');
  const doc = fs.readFileSync(file, 'utf8');
  const b = doc.indexOf(BEGIN);
  const e = doc.indexOf(END);
  if (b < 0 || e < b) {
    process.stderr.write(`${file}: the corpus markers are missing\n`);
    process.exit(1);
  }
  fs.writeFileSync(`${file}.tmp`, `${doc.slice(0, b + BEGIN.length)}\n\n${table}\n\n${doc.slice(e)}`);
  fs.renameSync(`${file}.tmp`, file);
}
process.exit(count('crashed') > 0 ? 1 : 0);
