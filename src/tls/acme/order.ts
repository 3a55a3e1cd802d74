// One ACME order (RFC 8555 §7.4) with one challenge type, over acme-client's low-level calls: new order,
// answer each pending authorization, poll the challenge, finalize with our CSR, download the chain.
// Written out rather than acme-client's auto() to send `replaces` (RFC 9773) and `profile`, to keep the
// CA's error per challenge, and to skip acme-client's self-check (it resolves names with the system
// resolver, which is wrong behind split DNS and against test CAs).
import acme from 'acme-client';
import { isIP } from 'node:net';
import { AcmeOrderError, hintFor, type ChallengeType } from './errors.js';
import type { ChallengeStore } from './challenges.js';
import { solveDns01 } from './dns/solve.js';
import type { DnsSolver } from './dns/index.js';

type Authorization = acme.Authorization;
type Challenge = Authorization['challenges'][number];

export interface OrderParams {
  client: acme.Client;
  names: readonly string[];
  type: ChallengeType;
  /** PEM private key of the new certificate. */
  keyPem: string;
  challenges: ChallengeStore;
  /** ARI CertID of the certificate this order replaces (RFC 9773 §5). */
  replaces?: string;
  profile?: string;
  /** issue 19: where dns-01 writes its TXT records and how it waits for them. */
  dns?: DnsSolver;
  signal?: AbortSignal;
  warn?: (message: string, meta: Record<string, unknown>) => void;
}

/** Runs the order; resolves with the PEM chain (leaf first). Challenge failures are AcmeOrderErrors. */
export async function runOrder(p: OrderParams): Promise<string> {
  const identifiers = p.names.map((value) => ({ type: isIP(value) ? 'ip' : 'dns', value }));
  const request: Record<string, unknown> = { identifiers };
  if (p.replaces) request.replaces = p.replaces;
  if (p.profile) request.profile = p.profile;
  let order: acme.Order;
  try {
    order = await p.client.createOrder(request as unknown as Parameters<acme.Client['createOrder']>[0]);
  } catch (err) {
    // RFC 9773 §5: a CA may refuse `replaces` (already replaced, or not the right certificate); the order
    // is still wanted, only without the ARI link.
    if (!p.replaces || !/replace/i.test((err as Error).message)) throw err;
    delete request.replaces;
    order = await p.client.createOrder(request as unknown as Parameters<acme.Client['createOrder']>[0]);
  }
  const authzs = await p.client.getAuthorizations(order);
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const pending = authzs.filter((a) => a.status !== 'valid');
    const challenges = pending.map((authz) => ({ authz, challenge: challengeOf(p, authz) }));
    if (p.type === 'dns-01') {
      if (!p.dns) throw new AcmeOrderError('dns-01', 'acme.dns is not configured', 'set acme.dns (a provider that writes the TXT records)');
      await solveDns01({ client: p.client, dns: p.dns, challenges, cleanups, ...(p.signal ? { signal: p.signal } : {}), ...(p.warn ? { warn: p.warn } : {}) });
    }
    const results = await Promise.allSettled(challenges.map(({ authz, challenge }) => solve(p, authz, challenge, cleanups)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    await Promise.all(cleanups.map((c) => c().catch(() => undefined)));
  }
  const commonName = p.names[0] !== undefined && p.names[0].length <= 64 ? p.names[0] : undefined;
  const [, csr] = await acme.crypto.createCsr({ altNames: [...p.names], ...(commonName ? { commonName } : {}) }, p.keyPem);
  const finalized = await p.client.finalizeOrder(order, csr);
  return p.client.getCertificate(finalized);
}

/**
 * The authorization's challenge of the order's type. Authorizations already valid (the CA reuses those it
 * validated recently) were left out by the caller: they offer no work.
 */
function challengeOf(p: OrderParams, authz: Authorization): Challenge {
  const name = authz.identifier.value;
  const challenge = authz.challenges.find((c) => c.type === p.type);
  if (!challenge) {
    const offered = authz.challenges.map((c) => c.type).join(', ') || 'none';
    const wildcard = authz.wildcard === true || name.startsWith('*.');
    throw new AcmeOrderError(
      p.type,
      `the CA offers no ${p.type} challenge for ${wildcard ? `*.${name.replace(/^\*\./, '')}` : name} (it offers: ${offered})`,
      wildcard
        ? 'a wildcard certificate needs the DNS-01 challenge (RFC 8555 §7.1.3): add dns-01 to acme.challenges and set acme.dns'
        : 'enable another challenge type in acme.challenges',
    );
  }
  return challenge;
}

async function solve(p: OrderParams, authz: Authorization, challenge: Challenge, cleanups: Array<() => Promise<void>>): Promise<void> {
  const name = authz.identifier.value;
  // dns-01 records were all written (and seen) before any challenge is answered: solveDns01.
  if (p.type !== 'dns-01') {
    const keyAuth = await p.client.getChallengeKeyAuthorization(challenge);
    if (p.type === 'http-01') {
      await p.challenges.presentHttp(name, challenge.token, keyAuth);
      cleanups.push(() => p.challenges.removeHttp(challenge.token));
    } else {
      await p.challenges.presentAlpn(name, keyAuth);
      cleanups.push(() => p.challenges.removeAlpn(name));
    }
  }
  await p.client.completeChallenge(challenge);
  try {
    await p.client.waitForValidStatus(challenge as Challenge & { url: string });
  } catch (err) {
    throw await challengeFailure(p, authz, err);
  }
}

/** The CA's own problem document for the failed challenge (type and detail), fetched again. */
async function challengeFailure(p: OrderParams, authz: Authorization, err: unknown): Promise<AcmeOrderError> {
  const name = authz.identifier.value;
  let type: string | undefined;
  let detail = (err as Error).message;
  try {
    const [fresh] = await p.client.getAuthorizations({ authorizations: [authz.url] } as acme.Order);
    const problem = fresh?.challenges.find((c) => c.type === p.type)?.error as { type?: string; detail?: string } | undefined;
    if (problem) {
      type = problem.type;
      if (problem.detail) detail = problem.detail;
    }
  } catch {
    // keep acme-client's message
  }
  if (/pending or processing/.test(detail)) detail = `the CA did not finish validating ${name} in time`;
  return new AcmeOrderError(p.type, detail, hintFor(type, p.type, [name], detail), type);
}
