// `gatehouse certs [-c FILE] [--json]`: the certificates in the storage and the state of every managed
// name (README "Commands"). Reads only; safe to run beside a running proxy.
import { openStorage } from '../storage/index.js';
import { inventory, toJsonRow, type InventoryRow } from '../tls/acme/inventory.js';
import { EXIT_OK, parseCommandArgs } from './usage.js';
import { loadConfigOrExit } from './config-arg.js';

export async function runCerts(args: string[]): Promise<number> {
  const opts = parseCommandArgs(args, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } });
  const loaded = await loadConfigOrExit(opts.config);
  if (typeof loaded === 'number') return loaded;
  const storage = openStorage(loaded.storage);
  try {
    const rows = await inventory(loaded, storage);
    if (opts.json) process.stdout.write(`${JSON.stringify(rows.map(toJsonRow), null, 2)}\n`);
    else process.stdout.write(formatTable(rows, storage.description));
    return EXIT_OK;
  } finally {
    await storage.close();
  }
}

function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, '') : '-';
}

export function formatTable(rows: InventoryRow[], where: string): string {
  if (rows.length === 0) return `no certificates in ${where} and no managed names in the config\n`;
  const head = ['NAMES', 'SOURCE', 'STATUS', 'EXPIRES (UTC)', 'DAYS', 'NEXT ATTEMPT (UTC)', 'CA', 'ISSUER'];
  const cells = rows.map((r) => [
    r.names.join(', '),
    r.source,
    r.status,
    when(r.notAfter),
    r.daysLeft === null ? '-' : String(r.daysLeft),
    when(r.nextAttempt),
    r.ca ?? '-',
    r.issuer ?? '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [`storage: ${where}`, line(head)];
  rows.forEach((r, i) => {
    out.push(line(cells[i]!));
    if (r.lastError) {
      const at = (ca: string | undefined): string => (ca ? `${ca}, ` : '');
      out.push(`    last error (${at(r.lastError.ca)}${r.lastError.challenge ?? 'order'}, ${when(r.lastError.at)} UTC): ${r.lastError.detail}`);
      // With several CAs every CA's failure is listed; with one, every other challenge's.
      for (const a of r.attempts ?? []) {
        if (a.challenge === r.lastError.challenge && a.ca === r.lastError.ca) continue;
        out.push(`    also tried ${a.ca ? `${a.ca} ` : ''}${a.challenge ?? 'order'}: ${a.detail}`);
      }
      if (r.hint) out.push(`    likely fix: ${r.hint}`);
    }
  });
  return `${out.join('\n')}\n`;
}
