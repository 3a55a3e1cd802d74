// certbot's current certificate of one lineage into the storage (import.ts), for `gatehouse adapt --acme`.
// certbot's layout (its --config-dir, /etc/letsencrypt by default): live/NAME/{fullchain,privkey}.pem are
// links into archive/NAME/ (read through them), renewal/NAME.conf names the CA as `server = URL`.
import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { Storage } from '../../storage/types.js';
import { importCertificate, ImportError, type ImportOptions, type ImportResult } from './import.js';

export type CertbotImportOptions = Omit<ImportOptions, 'certPem' | 'keyPem' | 'source'>;

export interface CertbotImport {
  result: ImportResult;
  /** For the user, each a sentence: the lineage was imported anyway. */
  warnings: string[];
}

export async function importCertbotLineage(storage: Storage, liveDir: string, o: CertbotImportOptions): Promise<CertbotImport> {
  const certPem = await readLineageFile(path.join(liveDir, 'fullchain.pem'));
  const keyPem = await readLineageFile(path.join(liveDir, 'privkey.pem'));
  const warnings: string[] = [];
  const renewal = path.join(liveDir, '..', '..', 'renewal', `${path.basename(liveDir)}.conf`);
  const server = await renewalServer(renewal, warnings);
  if (server !== undefined && !sameUrl(server, o.directory)) {
    warnings.push(`${renewal}: certbot renews this certificate from ${server}; gatehouse serves it until it is due, then renews it from ${o.directory} (acme.directory; adapt --acme-directory keeps certbot's CA)`);
  }
  try {
    return { result: await importCertificate(storage, { ...o, certPem, keyPem, source: liveDir }), warnings };
  } catch (err) {
    if (err instanceof ImportError) throw new ImportError(`${liveDir}: ${err.message}`);
    throw err;
  }
}

async function readLineageFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      // certbot writes its keys 0600, owned by root.
      throw new ImportError(`${file}: permission denied: certbot's private keys are readable by root only; run gatehouse adapt --acme as root, or copy the lineage somewhere this user can read`);
    }
    if (code === 'ENOENT') {
      const target = await readlink(file).catch(() => undefined);
      if (target !== undefined) throw new ImportError(`${file}: links to ${target}, which does not exist (certbot's archive/ is incomplete)`);
      const dir = path.dirname(file);
      const dirThere = await lstat(dir).then(() => true, () => false);
      throw new ImportError(dirThere ? `${file}: no such file in certbot's lineage` : `${dir}: no such certbot lineage (run adapt --acme on the machine where certbot keeps its certificates)`);
    }
    throw new ImportError(`${file}: cannot read it (${code ?? (err as Error).message})`);
  }
}

/** `server = URL` of certbot's renewal/NAME.conf (configobj syntax); undefined without the file. */
async function renewalServer(file: string, warnings: string[]): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') warnings.push(`${file}: cannot read it (${code ?? (err as Error).message}): which CA issued the certificate is not checked`);
    return undefined;
  }
  return /^[ \t]*server[ \t]*=[ \t]*(\S+)[ \t]*$/m.exec(text)?.[1];
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}
