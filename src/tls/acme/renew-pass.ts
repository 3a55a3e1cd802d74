// One renewal pass over the managed certificates, for `gatehouse renew` (cron). Same obtain path as the
// proxy (lock, look again, order; state in the storage), plus what a separate process needs: deciding
// what is due without a running loop, giving up on an unreachable CA within 60 s (README "Cron") — and
// recording that as the attempt it was — and listening on the challenge ports itself when no proxy
// holds them.
import { X509Certificate } from 'node:crypto';
import type { Config } from '../../config/types.js';
import type { Logger } from '../../log/types.js';
import type { Storage } from '../../storage/types.js';
import { certNamesForSite, normalizeName } from '../names.js';
import { refreshAri } from './ari.js';
import { AcmeCertStore, type StoredPair } from './cert-store.js';
import { ChallengeStore } from './challenges.js';
import { ariCertId } from './der.js';
import { report } from './errors.js';
import { configureAcmeHttp } from './http.js';
import { IssuerChain, readAcmeTrust } from './issuer-chain.js';
import { directoryLabel } from '../../config/acme.js';
import { readKnobs } from './knobs.js';
import { ObtainError, Obtainer } from './obtain.js';
import { OnDemandGate } from './on-demand.js';
import { startResponders, type Responders } from './responders.js';
import { dueTime } from './schedule.js';

export interface RenewPassOptions {
  config: Config;
  storage: Storage;
  force?: boolean;
  dryRun?: boolean;
  /** Only the certificate holding this name. */
  name?: string;
  logger: Logger;
  /** Lines for the user: what happened. */
  say(line: string): void;
  /** Lines for the user: what failed and what to do. */
  warn(line: string): void;
}

export class UnknownNameError extends Error {}

const CA_DEADLINE_MS = 60_000;
const ORDER_DEADLINE_MS = 5 * 60_000;
/** Recording a failure waits this long at most for a lock another process holds. */
const LOCK_WAIT_MS = 5_000;

interface Job {
  names: string[];
  stored?: StoredPair;
}

/** Resolves true when everything that was due (or forced) succeeded. */
export async function renewPass(o: RenewPassOptions): Promise<boolean> {
  const acme = o.config.acme;
  const sets = (acme ? o.config.sites.filter((s) => s.tls.kind === 'acme').map((s) => certNamesForSite(s)) : []).filter((n) => n.length > 0);
  if (!acme) {
    if (o.name) throw new UnknownNameError(`--name ${o.name}: the config has no acme section`);
    return true;
  }
  configureAcmeHttp(await readAcmeTrust(acme));
  const knobs = readKnobs();
  const available = { http: o.config.listen.http.length > 0, tlsAlpn: o.config.listen.https.length > 0 };
  // Stored answers reach a running proxy; a dry run that holds the ports itself keeps them in memory.
  let challenges = new ChallengeStore(o.storage, true);
  const issuer = (c: ChallengeStore): IssuerChain =>
    new IssuerChain({ acme, dryRun: o.dryRun ?? false, storage: o.storage, challenges: c, logger: o.logger, persist: !o.dryRun, available, pollMinMs: knobs.pollMinMs });
  let acmeIssuer = issuer(challenges);
  const store = new AcmeCertStore(o.storage, acmeIssuer.key);

  // Certificates issued on demand are renewed too, while on-demand is configured and `ask` allows them.
  const known = new Set(sets.map((s) => s[0]));
  const gate = acme.onDemand ? new OnDemandGate(acme.onDemand.ask, o.logger) : undefined;
  for (const primary of gate ? await store.primaries() : []) {
    const pair = await store.load(primary);
    const name = pair?.meta?.onDemand ? pair.meta.names[0] : undefined;
    if (name && !known.has(name) && (!o.name || normalizeName(o.name) === name) && (await gate!.allowed(name, 'renewal'))) sets.push(pair!.meta!.names);
  }
  const wanted = o.name ? sets.filter((s) => s.includes(normalizeName(o.name!))) : sets;
  if (o.name && wanted.length === 0) throw new UnknownNameError(`--name ${o.name}: no tls: acme site or stored on-demand certificate has this name`);

  const now = Date.now();
  const jobs: Job[] = [];
  const maybeAri: Job[] = [];
  for (const names of wanted) {
    const stored = await new Obtainer(acmeIssuer, store, o.logger).stored(names);
    if (o.dryRun || o.force || !stored) {
      jobs.push(stored ? { names, stored } : { names });
      continue;
    }
    const state = await store.loadState(names[0]!);
    const x = new X509Certificate(stored.certPem);
    const certId = ariCertId(Buffer.from(x.raw));
    const ari = state?.ari && state.ari.certId === certId ? Date.parse(state.ari.chosen) : undefined;
    const due = dueTime({ notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo) }, acme.renewBeforeMs, ari);
    // A recorded failure is retried once its back-off is over, due or not (schedule.ts attemptTime).
    const retry = state?.lastError && state.nextAttempt && now >= Date.parse(state.nextAttempt);
    (now >= due || retry ? jobs : maybeAri).push({ names, stored });
  }
  if (jobs.length === 0 && maybeAri.length === 0) return true;

  // One look at the CA first: an unreachable CA fails the run within CA_DEADLINE_MS, not per order.
  try {
    await acmeIssuer.directoryObject(AbortSignal.timeout(CA_DEADLINE_MS));
  } catch (err) {
    if (jobs.length === 0) return true; // nothing was due; the ARI check can wait for the next run
    const r = report(err, jobs[0]!.names);
    o.warn(`gatehouse renew: cannot reach the ACME CA at ${acmeIssuer.labels.join(' nor at ')}: ${r.detail}\n    likely fix: ${r.hint}\n    the current certificates keep serving`);
    if (!o.dryRun) await recordUnreachable(o, new Obtainer(acmeIssuer, store, o.logger), jobs, err);
    return false;
  }
  await checkAri(acmeIssuer, store, maybeAri, jobs);
  if (jobs.length === 0) return true;

  const types = acmeIssuer.challengeTypes();
  let responders: Responders;
  if (o.dryRun) {
    // Try to hold every port; when all are free no proxy is running and nothing needs to be stored.
    const memory = new ChallengeStore(o.storage, false);
    responders = await startResponders(o.config, memory, types);
    if (responders.busy.length === 0) {
      challenges = memory;
      acmeIssuer = issuer(challenges);
    } else {
      await responders.close();
      responders = await startResponders(o.config, challenges, types);
    }
  } else {
    responders = await startResponders(o.config, challenges, types);
  }
  for (const f of responders.failed) o.warn(`gatehouse renew: cannot listen on ${f.address} for challenges: ${f.error}`);

  let ok = true;
  try {
    for (const job of jobs) ok = (await runJob(o, acmeIssuer, store, job)) && ok;
  } finally {
    await responders.close();
  }
  return ok;
}

/**
 * An unreachable CA is an attempt too: recorded for each name as an order failure would be, so `gatehouse
 * certs` shows it and a running proxy retries at the recorded time. A name whose lock another process
 * holds is left to that process, which records its own attempt.
 */
async function recordUnreachable(o: RenewPassOptions, obtainer: Obtainer, jobs: Job[], err: unknown): Promise<void> {
  const signal = AbortSignal.timeout(LOCK_WAIT_MS);
  for (const job of jobs) {
    try {
      const failed = await obtainer.fail(job.names, err, signal);
      o.warn(`    ${job.names.join(', ')}: recorded; next attempt ${failed.state.nextAttempt} (by a running proxy, or the next renew)`);
    } catch (e) {
      o.warn(`    ${job.names.join(', ')}: not recorded: ${(e as Error).message}`);
    }
  }
}

/** Certificates not due by the local rule may still be due by the CA's ARI window (RFC 9773). */
async function checkAri(issuer: IssuerChain, store: AcmeCertStore, candidates: Job[], jobs: Job[]): Promise<void> {
  if (candidates.length === 0) return;
  const base = await issuer.renewalInfoUrl().catch(() => undefined);
  if (!base) return;
  for (const job of candidates) {
    const x = new X509Certificate(job.stored!.certPem);
    const certId = ariCertId(Buffer.from(x.raw));
    if (!certId) continue;
    const state = await store.loadState(job.names[0]!);
    const ari = await refreshAri({ baseUrl: base, certId, previous: state?.ari, now: Date.now() });
    if (!ari) continue;
    if (ari !== state?.ari) await store.saveState(job.names[0]!, { ...(state ?? { names: job.names, failures: 0, lastError: null, nextAttempt: null }), ari }, { announce: false });
    if (Date.now() >= Date.parse(ari.chosen)) jobs.push(job);
  }
}

async function runJob(o: RenewPassOptions, issuer: IssuerChain, store: AcmeCertStore, job: Job): Promise<boolean> {
  const names = job.names.join(', ');
  const signal = AbortSignal.timeout(ORDER_DEADLINE_MS);
  if (o.dryRun) {
    try {
      const issued = await issuer.issue(job.names, { signal });
      o.say(`dry run: ${names}: a certificate was issued by ${issued.directory} (${issued.challenge}, ${issued.ms} ms) and not stored`);
      return true;
    } catch (err) {
      const r = report(err, job.names);
      o.warn(`gatehouse renew --dry-run: ${names}: ${r.challenge ? `${r.challenge} challenge failed: ` : ''}${r.detail}\n    likely fix: ${r.hint}`);
      return false;
    }
  }
  const current = job.stored ? new X509Certificate(job.stored.certPem) : undefined;
  try {
    const r = await new Obtainer(issuer, store, o.logger).obtain(job.names, {
      ...(current ? { replacing: current.fingerprint256 } : {}),
      force: o.force ?? false,
      useAri: true,
      signal,
    });
    if (r.kind === 'issued') {
      const x = new X509Certificate(r.pair.certPem);
      o.say(`${current ? 'renewed' : 'obtained'} ${names}: serial ${x.serialNumber}, expires ${new Date(x.validTo).toISOString()} (${caOf(r.pair.meta.directory, issuer)}${r.pair.meta.challenge}, ${r.ms} ms)`);
    }
    return true;
  } catch (err) {
    const detail = err instanceof ObtainError ? err.lastError : { ...report(err, job.names), at: new Date().toISOString() };
    const serving = current ? `the current certificate keeps serving (expires ${new Date(current.validTo).toISOString()})` : 'there is no certificate yet';
    const next = err instanceof ObtainError && err.state.nextAttempt ? `\n    next attempt ${err.state.nextAttempt} (by a running proxy, or the next renew)` : '';
    o.warn(
      `gatehouse renew: ${names}: ${detail.challenge ? `${detail.challenge} challenge failed: ` : ''}${detail.detail}\n    likely fix: ${detail.hint}\n    ${serving}${next}`,
    );
    return false;
  }
}

/** With several CAs, which one signed (`by zerossl, `); nothing when there is one, as before acme.issuers. */
function caOf(directory: string, issuer: IssuerChain): string {
  return issuer.members.length > 1 ? `by ${directoryLabel(directory)}, ` : '';
}
