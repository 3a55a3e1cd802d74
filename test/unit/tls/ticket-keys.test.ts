import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { Logger } from '../../../src/log/types.js';
import { FileStorage } from '../../../src/storage/file-storage.js';
import type { Storage } from '../../../src/storage/types.js';
import { TICKET_KEY_BYTES, TicketKeys } from '../../../src/tls/ticket-keys.js';

const HOUR = 3600_000;

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, error: () => undefined, warn: (m: string) => warnings.push(m), info: () => undefined, debug: () => undefined };
}

describe('TLS session ticket keys (src/tls/ticket-keys.ts)', () => {
  let dir: string;
  let storage: FileStorage;
  let clock: number;
  const now = () => clock;
  const open: TicketKeys[] = [];
  const keys = (s: Storage = storage, logger: Logger = recordingLogger()) => {
    const k = new TicketKeys(s, logger, { rotateMs: 12 * HOUR, now });
    open.push(k);
    return k;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-ticket-'));
    storage = new FileStorage(dir, { leaseMs: 600, heartbeatMs: 100, pollMs: 20 });
    clock = Date.UTC(2026, 0, 1, 5, 0, 0);
  });
  afterEach(async () => {
    open.splice(0).forEach((k) => k.close());
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('processes starting at once on one storage get the same 48-byte key, stored private', async () => {
    const all = [keys(), keys(), keys(new FileStorage(dir))];
    await Promise.all(all.map((k) => k.start()));
    expect(all[0]!.current).to.have.length(TICKET_KEY_BYTES);
    for (const k of all) expect(k.current.equals(all[0]!.current)).to.equal(true);
    expect((await stat(join(dir, 'tls/ticket-keys.json'))).mode & 0o777).to.equal(0o600);
  });

  it('rotates at the slot boundary to the key every process already has for the next slot', async () => {
    const a = keys();
    await a.start();
    const first = a.current;
    const file = JSON.parse(await readFile(join(dir, 'tls/ticket-keys.json'), 'utf8')) as { keys: Record<string, string> };
    const slot = Math.floor(clock / (12 * HOUR));
    expect(Object.keys(file.keys).map(Number).sort()).to.deep.equal([slot, slot + 1]);

    clock += 12 * HOUR;
    const b = keys();
    await b.start();
    expect(b.current.equals(Buffer.from(file.keys[slot + 1]!, 'base64'))).to.equal(true);
    expect(b.current.equals(first)).to.equal(false);
    const after = JSON.parse(await readFile(join(dir, 'tls/ticket-keys.json'), 'utf8')) as { keys: Record<string, string> };
    expect(Object.keys(after.keys).map(Number).sort(), 'older slots are dropped').to.deep.equal([slot + 1, slot + 2]);
  });

  it('a running process switches by itself at the boundary, in step with the others', async () => {
    const real = (s: Storage) => {
      const k = new TicketKeys(s, recordingLogger(), { rotateMs: 400 });
      open.push(k);
      return k;
    };
    const a = real(storage);
    const b = real(new FileStorage(dir));
    await Promise.all([a.start(), b.start()]);
    const slot = a.slotInUse;
    const before = a.current;
    // The switch runs just past the boundary; allow for a loaded machine, where one process can lag a
    // whole 400 ms slot behind the other for a moment (CI: a one slot ahead of b): wait until both are
    // past the first slot and in the same one.
    const deadline = Date.now() + 3000;
    while ((a.slotInUse <= slot || b.slotInUse !== a.slotInUse) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(a.slotInUse).to.be.greaterThan(slot);
    expect(b.slotInUse).to.equal(a.slotInUse);
    expect(a.current.equals(before)).to.equal(false);
    expect(b.current.equals(a.current)).to.equal(true);
  });

  it('replaces a garbled file instead of failing', async () => {
    await mkdir(join(dir, 'tls'), { recursive: true });
    await writeFile(join(dir, 'tls/ticket-keys.json'), '{"keys": {"1": "c2hvcnQ="}');
    const k = keys();
    await k.start();
    expect(k.current).to.have.length(TICKET_KEY_BYTES);
  });

  it('an unusable storage is a warning, not a start-up failure', async () => {
    const broken: Storage = {
      description: 'broken',
      load: () => Promise.reject(new Error('EACCES: permission denied')),
      store: () => Promise.reject(new Error('EACCES')),
      delete: () => Promise.resolve(),
      exists: () => Promise.resolve(false),
      list: () => Promise.resolve([]),
      lock: () => Promise.reject(new Error('EACCES')),
      close: () => Promise.resolve(),
    };
    const logger = recordingLogger();
    const k = keys(broken, logger);
    await k.start();
    expect(logger.warnings.join('\n')).to.match(/TLS ticket keys unavailable.*EACCES/);
    const context = tls.createSecureContext();
    expect(() => k.apply(context)).to.not.throw();
  });

  it('gives a SecureContext the key once per key (contexts are per certificate)', async () => {
    const k = keys();
    await k.start();
    const context = tls.createSecureContext();
    const native = context.context as { setTicketKeys(b: Buffer): void };
    let calls = 0;
    const original = native.setTicketKeys.bind(native);
    native.setTicketKeys = (b: Buffer) => {
      calls++;
      original(b);
    };
    k.apply(context);
    k.apply(context);
    expect(calls).to.equal(1);
  });
});
