// What `gatehouse check` says about the internal CA before a start would act: names the stored root
// does not permit (a successor will sign them, and clients must trust it), a root an older version
// made, a successor waiting to take over. Read-only and from a storage folder only: a check must not
// create anything, nor wait on a Redis server (`run` logs the same facts when it acts).
import { X509Certificate } from 'node:crypto';
import type { Config } from '../config/types.js';
import { FileStorage } from '../storage/file-storage.js';
import { internalCaKeys, internalCaNextKeys } from '../storage/keys.js';
import { day, isLegacy, ROOT_NOTICE_MS, takeoverAt } from './internal-ca-roots.js';
import { permits, readSubtrees, type Subtrees } from './name-constraints.js';
import { certNamesForSite } from './names.js';

/** The leaf lifetime the roots are scheduled around (internal-ca.ts). */
const LEAF_LIFETIME_MS = 30 * 24 * 3600_000;

interface Seen {
  x509: X509Certificate;
  permitted: Subtrees | undefined;
}

export async function internalCaNotes(config: Config, now = Date.now()): Promise<string[]> {
  const names = [...new Set(config.sites.filter((s) => s.tls.kind === 'internal').flatMap(certNamesForSite))];
  if (names.length === 0 || /^rediss?:\/\//i.test(config.storage)) return [];
  const storage = new FileStorage(config.storage);
  const read = async (key: string): Promise<Seen | undefined> => {
    try {
      const pem = (await storage.load(key)).toString();
      return { x509: new X509Certificate(pem), permitted: readSubtrees(pem) };
    } catch {
      return undefined; // missing or unreadable: `run` makes or replaces it, and says so
    }
  };
  const [root, next] = await Promise.all([read(internalCaKeys().cert), read(internalCaNextKeys().cert)]).finally(() => storage.close());
  if (!root) return [];
  const notes: string[] = [];
  const where = `${storage.description}, ${internalCaNextKeys().cert}`;
  const outside = names.filter((n) => !permits(root.permitted, n) && !(next && permits(next.permitted, n)));
  if (outside.length > 0) {
    notes.push(
      `internal CA: the stored root does not permit ${outside.join(', ')} (name constraints); at start a new root that does signs ` +
        `${outside.length === 1 ? 'it' : 'them'}: clients must trust that root (${where}), which replaces the current one 30 days later`,
    );
  }
  if (next) {
    notes.push(`internal CA: a new root takes over on ${day(takeoverAt(next))}: add it to the trust stores that have the current root (${where})`);
  } else if (isLegacy(root)) {
    notes.push(
      `internal CA: the stored root was made by an older gatehouse (valid until ${day(Date.parse(root.x509.validTo))}${root.permitted ? '' : ', no name constraints'}); ` +
        'at start a new root limited to local names is made and takes over 30 days later: clients must trust it by then',
    );
  } else if (outside.length === 0) {
    const successorAt = Date.parse(root.x509.validTo) - LEAF_LIFETIME_MS - ROOT_NOTICE_MS;
    if (now >= successorAt - ROOT_NOTICE_MS) {
      notes.push(`internal CA: the root expires on ${day(Date.parse(root.x509.validTo))}; its successor is made on ${day(Math.max(now, successorAt))} and takes over 30 days later`);
    }
  }
  return notes;
}
