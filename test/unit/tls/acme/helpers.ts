// Shared pieces for the ACME unit tests: an in-memory Storage (no fsync, so 1,000 certificates load in
// a second), leaf certificates from a throwaway CA, and a recording logger.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createLeaf, createRootCa, type PemPair } from '../../../../src/tls/ca-certs.js';
import type { Logger } from '../../../../src/log/types.js';
import { StorageNotFoundError, type Storage, type Unlock } from '../../../../src/storage/types.js';

export class MemoryStorage implements Storage {
  readonly description = 'memory';
  readonly values = new Map<string, Buffer>();
  private readonly locks = new Map<string, Promise<void>>();
  writes = 0;

  async load(key: string): Promise<Buffer> {
    const v = this.values.get(key);
    if (!v) throw new StorageNotFoundError(key);
    return v;
  }
  async store(key: string, value: Uint8Array | string): Promise<void> {
    this.writes++;
    this.values.set(key, Buffer.from(value));
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
  async exists(key: string): Promise<boolean> {
    return this.values.has(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.values.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async lock(name: string, signal?: AbortSignal): Promise<Unlock> {
    for (;;) {
      const held = this.locks.get(name);
      if (!held) break;
      if (!signal) await held;
      else {
        signal.throwIfAborted();
        await new Promise<void>((resolve, reject) => {
          const abort = (): void => reject(signal.reason as Error);
          signal.addEventListener('abort', abort, { once: true });
          void held.then(() => {
            signal.removeEventListener('abort', abort);
            resolve();
          });
        });
      }
    }
    let release!: () => void;
    this.locks.set(name, new Promise<void>((r) => (release = r)));
    return async () => {
      this.locks.delete(name);
      release();
    };
  }
  async close(): Promise<void> {}
}

let root: PemPair | undefined;

/** A leaf for `names` valid from `notBefore` to `notAfter`, from a throwaway CA (fast: EC keys, forge signs). */
export function leaf(names: string[], notBefore: Date, notAfter: Date): PemPair & { serial: string; fingerprint256: string } {
  root ??= createRootCa(new Date(Date.now() - 86_400_000), new Date(Date.now() + 3650 * 86_400_000));
  const pair = createLeaf(root, names, notBefore, notAfter);
  const x = new X509Certificate(pair.certPem);
  return { ...pair, serial: x.serialNumber, fingerprint256: x.fingerprint256 };
}

export function ecKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export interface Recorded {
  level: string;
  message: string;
  meta?: Record<string, unknown>;
}

export function recordingLogger(): Logger & { lines: Recorded[] } {
  const lines: Recorded[] = [];
  const rec = (level: string) => (message: string, meta?: Record<string, unknown>) => {
    lines.push({ level, message, ...(meta ? { meta } : {}) });
  };
  return { lines, error: rec('error'), warn: rec('warn'), info: rec('info'), debug: rec('debug') };
}
