// The ACME room as the proxy's lifecycle sees it: created once per process, applied to every config
// (start and SIGHUP), started once the listeners are up, closed on drain. It answers challenges (HTTP-01
// on the http listener, TLS-ALPN-01 on the https listener) from memory and the storage, whether or not
// this process opened them.
import { X509Certificate } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import type { Config } from '../../config/types.js';
import type { Exchange } from '../../http/exchange.js';
import type { Logger } from '../../log/types.js';
import type { Storage } from '../../storage/types.js';
import type { LoadedCertEntry } from '../cert-entry.js';
import type { AcmeTlsHooks, CertEntry } from '../types.js';
import { ChallengeStore, type ChallengeKeyType } from './challenges.js';
import { configureAcmeHttp } from './http.js';
import { IssuerChain, readAcmeTrust } from './issuer-chain.js';
import { readKnobs } from './knobs.js';
import { AcmeManager } from './manager.js';
import type { CertSink } from './managed-records.js';

/** What the service needs of the CertManager. */
export interface AcmeCertSource extends CertSink {
  acmeNames(): string[][];
  /** The default certificate (what a handshake starts with before SNICallback). */
  select(servername: undefined): CertEntry | undefined;
}

const keyTypes = new WeakMap<LoadedCertEntry, ChallengeKeyType>();

export class AcmeService {
  readonly challenges: ChallengeStore;
  private manager: AcmeManager | undefined;
  private signature: string | undefined;
  private started = false;
  readonly tlsHooks: AcmeTlsHooks;

  constructor(
    private readonly storage: Storage,
    private readonly certs: AcmeCertSource,
    private readonly logger: Logger,
  ) {
    this.challenges = new ChallengeStore(storage, true, () => this.defaultKeyType());
    const enabled = (): boolean => this.manager !== undefined;
    this.tlsHooks = {
      get enabled() {
        return enabled();
      },
      challengeContext: (name: string): Promise<SecureContext | undefined> => this.challenges.alpnContext(name),
      challengeContextNow: (name: string): SecureContext | undefined => this.challenges.alpnContextNow(name),
      onDemandEnabled: () => this.manager?.onDemandEnabled ?? false,
      onDemand: (name: string): Promise<CertEntry | undefined> => this.manager?.onDemand(name) ?? Promise.resolve(undefined),
    };
  }

  /**
   * Applies a config: loads the stored certificates of its `tls: acme` names into the CertManager (no
   * CA is contacted here). Rejects when `acme.trust` cannot be read, leaving the previous state.
   */
  async apply(config: Config): Promise<void> {
    const acme = config.acme;
    const names = this.certs.acmeNames();
    if (!acme || (names.length === 0 && !acme.onDemand)) {
      this.manager?.close();
      this.manager = undefined;
      this.signature = undefined;
      return;
    }
    const trust = await readAcmeTrust(acme);
    const available = { http: config.listen.http.length > 0, tlsAlpn: config.listen.https.length > 0 };
    const signature = JSON.stringify({ ...acme, trust, available });
    configureAcmeHttp(trust);
    if (!this.manager || signature !== this.signature) {
      const knobs = readKnobs();
      const issuer = new IssuerChain({
        acme,
        storage: this.storage,
        challenges: this.challenges,
        logger: this.logger,
        persist: true,
        available,
        pollMinMs: knobs.pollMinMs,
      });
      const next = new AcmeManager({ config: acme, issuer, sink: this.certs, logger: this.logger, knobs });
      await next.setNames(names);
      await next.adoptOnDemand(this.manager?.onDemandNames() ?? []);
      this.manager?.close();
      this.manager = next;
      this.signature = signature;
      if (this.started) next.start();
    } else {
      await this.manager.setNames(names);
      this.manager.check();
    }
  }

  /** Background work begins: ordering what is missing, the renewal loop, watching the storage. */
  start(): void {
    this.started = true;
    this.manager?.start();
  }

  close(): void {
    this.manager?.close();
    this.manager = undefined;
  }

  /** The key type of the listener's default certificate: the acme-tls/1 certificate must match it. */
  private defaultKeyType(): ChallengeKeyType {
    const entry = this.certs.select(undefined) as LoadedCertEntry | undefined;
    if (!entry?.certPem) return 'ec';
    let type = keyTypes.get(entry);
    if (!type) {
      const algo = new X509Certificate(entry.certPem).publicKey.asymmetricKeyType;
      type = algo === 'rsa' || algo === 'rsa-pss' ? 'rsa' : 'ec';
      keyTypes.set(entry, type);
    }
    return type;
  }

  /** HTTP-01 (RFC 8555 §8.3): the key authorization as the body, for the name the challenge is for. */
  /**
   * Answers an HTTP-01 challenge on the plain listener (server/plain-http.ts is handed this, as the
   * TLS listener is handed tlsHooks); false while no ACME is configured or the token is unknown.
   */
  readonly answerHttpChallenge = (ex: Exchange, token: string): boolean | Promise<boolean> => (this.manager ? this.answerHttp(ex, token) : false);

  private async answerHttp(ex: Exchange, token: string): Promise<boolean> {
    if (ex.method !== 'GET' && ex.method !== 'HEAD') return false;
    const keyAuth = await this.challenges.httpAnswer(token, ex.authority);
    if (keyAuth === undefined) return false;
    const body = Buffer.from(keyAuth);
    ex.respond(200, { 'content-type': 'text/plain' }, body);
    return true;
  }
}
