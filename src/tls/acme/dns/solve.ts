// issue 19: the DNS side of an order's dns-01 challenges (RFC 8555 §8.4). Every record is written before
// any is waited for, and every one is seen by the zone's servers before the CA is told about any: a
// wildcard and its base name share `_acme-challenge.NAME` with two TXT values, and the CA may look up
// that name for either authorization while the other's value is still on its way.
import type acme from 'acme-client';
import { AcmeOrderError } from '../errors.js';
import type { DnsSolver } from './index.js';
import { challengeName } from './provider.js';

type Authorization = acme.Authorization;
type Challenge = Authorization['challenges'][number];

export interface Dns01Params {
  client: acme.Client;
  dns: DnsSolver;
  challenges: ReadonlyArray<{ authz: Authorization; challenge: Challenge }>;
  /** Filled with one removal per record written; the order runs them whatever happens (also on abort). */
  cleanups: Array<() => Promise<void>>;
  signal?: AbortSignal;
  /** A record that could not be removed is left in the zone: said once, with its name (never a credential). */
  warn?: (message: string, meta: Record<string, unknown>) => void;
}

/** Writes every TXT record and waits until each is visible; the caller then answers the challenges. */
export async function solveDns01(p: Dns01Params): Promise<void> {
  const records: Array<{ name: string; fqdn: string; value: string }> = [];
  for (const { authz, challenge } of p.challenges) {
    const name = authz.identifier.value;
    // acme-client returns base64url(SHA-256(keyAuthorization)) for dns-01 (test/unit/tls/acme/dns01.test.ts pins it).
    const value = await p.client.getChallengeKeyAuthorization(challenge);
    const fqdn = await step(name, 'finding where the TXT record goes', () => p.dns.propagation.target(challengeName(name), p.signal));
    // Registered before writing: a write that timed out may still have happened. Removal has its own
    // deadline (the provider's), not the order's signal, so an aborted order still cleans up.
    let writeFailed = false;
    p.cleanups.push(() =>
      p.dns.provider.cleanup(fqdn, value).catch((err: unknown) => {
        // After a failed write (bad credentials, say) the removal usually fails the same way, and there is
        // most likely nothing to remove: not worth a "remove it by hand".
        const message = writeFailed
          ? 'DNS-01: the TXT record could not be written, and the removal in case the write went through failed too'
          : 'DNS-01: could not remove a challenge TXT record; remove it by hand';
        p.warn?.(message, { record: fqdn, error: (err as Error)?.message ?? String(err) });
      }),
    );
    records.push({ name, fqdn, value });
    await step(name, `writing TXT ${fqdn}`, () => p.dns.provider.present(fqdn, value, p.signal)).catch((err: unknown) => {
      writeFailed = true;
      throw err;
    });
  }
  await Promise.all(records.map((r) => step(r.name, `waiting for TXT ${r.fqdn} on the zone's servers`, () => p.dns.propagation.wait(r.fqdn, r.value, p.signal))));
}

async function step<T>(name: string, doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err;
    const detail = `${doing} for ${name}: ${(err as Error)?.message ?? String(err)}`;
    throw new AcmeOrderError('dns-01', detail, hintFor(doing));
  }
}

function hintFor(doing: string): string {
  if (doing.startsWith('waiting')) {
    return 'the record was written but the zone\'s authoritative servers did not answer it in time: check acme.dns (zone, nameservers) or raise acme.dns.propagationTimeout';
  }
  return 'check acme.dns: the provider\'s credentials (an API token or TSIG key allowed to edit the zone) and its address';
}
