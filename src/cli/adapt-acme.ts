// `adapt --acme`: certbot's current certificates into gatehouse's storage, each under the names its site
// manages (certNamesForSite, as `run` computes them) and the config's ACME directory, so the first `run`
// serves them and orders nothing (docs/nginx.md "From nginx + certbot"). Everything goes to stderr: without
// -o the YAML is on stdout.
import type { Config } from '../config/types.js';
import type { CertbotLineage } from '../config/nginx/adapt/context.js';
import { openStorage } from '../storage/index.js';
import { importCertbotLineage } from '../tls/acme/certbot.js';
import { ImportError, type ImportResult } from '../tls/acme/import.js';
import { keyOf } from '../tls/acme/managed-records.js';
import { certNamesForSite } from '../tls/names.js';

/** How long the storage lock may be waited for (a running proxy ordering the same names holds it). */
const LOCK_WAIT_MS = 30_000;

export async function importCertbotLineages(config: Config, lineages: CertbotLineage[]): Promise<boolean> {
  const acme = config.acme;
  if (!acme) throw new Error('adapt --acme: the adapted config has no acme section');
  const say = (line: string): boolean => process.stderr.write(`${line}\n`);
  const storage = openStorage(config.storage);
  let ok = true;
  const done = new Set<string>();
  try {
    for (const l of lineages) {
      const where = `${l.pos.file}:${l.pos.line}:${l.pos.col}`;
      const names = certNamesForSite({ hosts: l.hosts });
      if (names.length === 0) {
        say(`${where}: ${l.liveDir} is not imported: the server has no name a certificate can hold`);
        ok = false;
        continue;
      }
      // Two server blocks of one site (or one listen each) share a lineage: imported once.
      const key = `${l.liveDir}\n${keyOf(names)}`;
      if (done.has(key)) continue;
      done.add(key);
      try {
        const { result, warnings } = await importCertbotLineage(storage, l.liveDir, {
          names,
          directory: acme.directory,
          ...(acme.renewBeforeMs !== undefined ? { renewBeforeMs: acme.renewBeforeMs } : {}),
          signal: AbortSignal.timeout(LOCK_WAIT_MS),
        });
        for (const w of warnings) say(`${where}: warning: ${w}`);
        say(`gatehouse: ${describe(result, l.liveDir, storage.description)}`);
      } catch (err) {
        ok = false;
        if (err instanceof ImportError) say(`${where}: ${err.message}`);
        else if ((err as Error).name === 'TimeoutError') say(`${where}: ${l.liveDir} is not imported: the storage lock for ${names[0]} was held for ${LOCK_WAIT_MS / 1000} s (a running gatehouse ordering it?); try again`);
        else say(`${where}: ${l.liveDir} is not imported: ${(err as Error).message}`);
      }
    }
  } finally {
    await storage.close();
  }
  return ok;
}

function describe(r: ImportResult, liveDir: string, storage: string): string {
  const cert = `${r.names.join(', ')} (serial ${r.serial}, valid until ${r.notAfter.toISOString()})`;
  switch (r.kind) {
    case 'imported':
      return `imported ${liveDir} into ${storage}: ${cert}${r.replaced ? `, replacing serial ${r.replaced}` : ''}; ${r.due.getTime() <= Date.now() ? 'renewal is due already: the first run orders its successor' : `renewal due ${r.due.toISOString()}`}`;
    case 'unchanged':
      return `${liveDir} is already in ${storage}: ${cert}`;
    case 'kept':
      return `${liveDir} is not imported: ${storage} holds a certificate for ${r.names.join(', ')} valid as long or longer (serial ${r.stored.serial}, until ${r.stored.notAfter.toISOString()}); it stays`;
  }
}
