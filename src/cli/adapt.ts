// `gatehouse adapt FILE.conf [-o gatehouse.yaml]`: an nginx configuration as gatehouse YAML, each site
// and route commented with the nginx block it came from; warnings on stderr. The YAML is checked by
// the same pipeline `run` uses before it is printed, so an adapted file always loads. With --acme,
// certbot-managed sites become `tls: acme` and their current certificates are imported into the
// storage, so the switch needs no new order (docs/nginx.md "From nginx + certbot"); --acme-directory
// names the CA gatehouse renews them from (Let's Encrypt by default, as certbot).
import fs from 'node:fs';
import path from 'node:path';
import { DIRECTORIES, httpUrl } from '../config/acme.js';
import { adaptedYaml, readNginx } from '../config/nginx/adapt/reader.js';
import { ConfigError, formatIssue } from '../config/types.js';
import { NGINX_FLAGS, nginxOptions } from './nginx-flags.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './usage.js';
import { parseArgs } from 'node:util';

export async function runAdapt(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { output: { type: 'string', short: 'o' }, acme: { type: 'boolean' }, 'acme-directory': { type: 'string' }, storage: { type: 'string' }, ...NGINX_FLAGS },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: opts, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError('adapt takes one nginx configuration file: gatehouse adapt FILE.conf [-o gatehouse.yaml]');
  const file = path.resolve(positionals[0]!);
  const out = opts.output !== undefined ? path.resolve(opts.output) : undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    process.stderr.write(`${file}:1:1: cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return EXIT_USAGE;
  }
  const storage = opts.storage !== undefined ? path.resolve(opts.storage) : out ? path.join(path.dirname(out), 'certs') : undefined;
  if (opts.acme && storage === undefined) throw new UsageError('adapt --acme imports certificates into the storage: give -o FILE (the storage is certs/ beside it) or --storage DIR');
  let acmeDirectory: string | undefined;
  if (opts['acme-directory'] !== undefined) {
    if (!opts.acme) throw new UsageError('--acme-directory goes with --acme');
    const d = opts['acme-directory'].trim();
    try {
      acmeDirectory = DIRECTORIES[d] ?? httpUrl(d, '--acme-directory (letsencrypt, letsencrypt-staging or a URL)');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const options = { ...nginxOptions(opts), ...(opts.acme ? { acme: true } : {}), ...(opts.acme && storage ? { storage } : {}), ...(acmeDirectory ? { acmeDirectory } : {}) };
  let loaded;
  try {
    loaded = readNginx(text, file, options);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    const errors = err.issues.filter((i) => i.severity === 'error').length;
    process.stderr.write(`gatehouse: ${file} cannot be adapted (${errors} error${errors === 1 ? '' : 's'})\n`);
    return EXIT_USAGE;
  }
  for (const w of loaded.warnings) process.stderr.write(`${formatIssue(w)}\n`);
  if (opts.acme && loaded.adapted.certbot.length > 0) {
    const { importCertbotLineages } = await import('./adapt-acme.js');
    const ok = await importCertbotLineages(loaded.config, loaded.adapted.certbot);
    if (!ok) return EXIT_FAILED;
  }
  const yaml = adaptedYaml(loaded.adapted, file);
  if (out === undefined) {
    process.stdout.write(yaml);
    return EXIT_OK;
  }
  // Atomic: a reader (or a crash) never sees half a file.
  const tmp = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, yaml, { mode: 0o644 });
  fs.renameSync(tmp, out);
  process.stderr.write(`gatehouse: wrote ${out}\n`);
  return EXIT_OK;
}
