// `gatehouse proxy --from NAME[:PORT] --to ADDRESS`: a config built from two flags, validated by
// the same loader as a file (so defaults and checks are the same).
import { parseConfig } from '../config/index.js';
import { ConfigError, formatIssue } from '../config/types.js';
import { serve } from './run.js';
import { EXIT_USAGE, UsageError, parseCommandArgs } from './usage.js';

export function proxyConfigText(from: string, to: string, storage: string | undefined): string {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(from);
  if (!m) throw new UsageError(`--from "${from}" must be NAME or NAME:PORT`);
  const name = (m[1] ?? '').replace(/^\[|\]$/g, '');
  const port = m[2] !== undefined ? Number(m[2]) : 443;
  const target = /^[a-z0-9+]+:\/\//i.test(to) ? to : `http://${/^\d+$/.test(to) ? `127.0.0.1:${to}` : to}`;
  const config: Record<string, unknown> = {
    // Port 80 is only taken alongside 443: that is where ACME HTTP-01 and redirects are expected.
    listen: port === 443 ? { http: 80, https: 443 } : { https: port },
    sites: [{ hosts: [name], routes: [{ location: '/', proxy: target }] }],
  };
  if (storage) config.storage = storage;
  return JSON.stringify(config, null, 2);
}

export async function runProxy(args: string[]): Promise<number | undefined> {
  const opts = parseCommandArgs(args, {
    from: { type: 'string' },
    to: { type: 'string' },
    storage: { type: 'string' },
  });
  if (!opts.from || !opts.to) throw new UsageError('proxy needs --from NAME[:PORT] and --to ADDRESS');
  const text = proxyConfigText(opts.from, opts.to, opts.storage);
  try {
    const { config } = parseConfig(text, `${process.cwd()}/gatehouse-proxy.json`);
    return await serve(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
