// TLS session ticket keys shared by every process using one storage (a pm2 cluster, or machines sharing
// a folder or Redis), so a client resumes on whichever worker it reaches next (RFC 8446 §2.2, RFC 5077).
// Without this each Node process (and each SecureContext) makes its own random key, and a returning
// client lands on another worker, fails to resume and pays a full handshake.
//
// Keys belong to fixed time slots (epoch = floor(now / rotateMs)), so every process switches at the same
// moment without talking to the others. The file holds the key of the current slot and of the next one,
// written under the storage lock: the first process to need a slot creates it, all others read it.
//
// Overlap: Node's SecureContext takes exactly ONE 48-byte key (setTicketKeys; its ticket callback only
// decrypts tickets whose 16-byte key name matches), unlike nginx's ssl_session_ticket_key list or
// Caddy's four STEKs. So a ticket issued just before a rotation no longer decrypts after it and that
// client does one full handshake. Tickets live only sessionTimeout (Node: 300 s) anyway, so with 12 h
// slots about 300 s / 12 h ≈ 0.7 % of resumptions miss, once per client per rotation. Forward secrecy
// is what rotation buys: a key that leaks later cannot decrypt sessions from earlier slots.
import { randomBytes } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import type { Logger } from '../log/types.js';
import { TICKET_KEYS_KEY, TICKET_KEYS_LOCK } from '../storage/keys.js';
import { loadText, type Storage } from '../storage/types.js';

/** 16-byte key name + 16-byte HMAC secret + 16-byte AES key: the layout Node's setTicketKeys expects. */
export const TICKET_KEY_BYTES = 48;
/** Caddy's STEK rotation interval. */
export const DEFAULT_ROTATE_MS = 12 * 3600_000;

interface StoredKeys {
  rotateMs: number;
  keys: Record<string, string>;
}

export interface TicketKeyOptions {
  rotateMs?: number;
  now?: () => number;
}

/** The SecureContext's native handle; Node's public tls.Server#setTicketKeys calls the same method. */
type NativeContext = { setTicketKeys(keys: Buffer): void };

export class TicketKeys {
  private key: Buffer | undefined;
  private epoch = -1;
  /** Which key each context carries: contexts are made per certificate and renewed ones appear any time. */
  private readonly applied = new WeakMap<SecureContext, Buffer>();
  private timer: NodeJS.Timeout | undefined;
  private readonly rotateMs: number;
  private readonly now: () => number;

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    options: TicketKeyOptions = {},
  ) {
    this.rotateMs = options.rotateMs ?? DEFAULT_ROTATE_MS;
    this.now = options.now ?? Date.now;
  }

  /** Loads (or creates) the current slot's key and switches at every slot boundary until close(). */
  async start(): Promise<void> {
    try {
      await this.refresh();
      this.schedule();
    } catch (err) {
      // Serving must not depend on it: Node's per-context random key works, only across workers not.
      this.logger.warn(`TLS ticket keys unavailable, resuming sessions only on this process; retrying in a minute: ${(err as Error).message}`);
      this.retry();
    }
  }

  private retry(): void {
    this.timer = setTimeout(() => void this.start(), 60_000);
    this.timer.unref();
  }

  /** The key in use now (48 bytes). */
  get current(): Buffer {
    if (!this.key) throw new Error('ticket keys not loaded');
    return this.key;
  }

  /** Gives `context` the current key unless it has it already; called before each handshake. */
  apply(context: SecureContext): void {
    const key = this.key;
    if (!key || this.applied.get(context) === key) return;
    (context.context as NativeContext).setTicketKeys(key);
    this.applied.set(context, key);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private slot(): number {
    return Math.floor(this.now() / this.rotateMs);
  }

  private schedule(): void {
    // +50 ms: wake just past the boundary so slot() has moved on; a second slack for clock skew between
    // machines is not needed, since every process reads the same stored key for a slot.
    const wait = (this.slot() + 1) * this.rotateMs - this.now() + 50;
    this.timer = setTimeout(() => {
      this.refresh().then(
        () => this.schedule(),
        (err: unknown) => {
          // Keep the old key (resumption still works among processes that kept it too) and retry soon.
          this.logger.warn(`TLS ticket key rotation failed, keeping the current key: ${(err as Error).message}`);
          this.retry();
        },
      );
    }, wait);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    const epoch = this.slot();
    let stored = await this.read();
    if (!hasSlots(stored, epoch, this.rotateMs)) {
      const unlock = await this.storage.lock(TICKET_KEYS_LOCK);
      try {
        stored = await this.read();
        if (!hasSlots(stored, epoch, this.rotateMs)) {
          stored = nextFile(stored, epoch, this.rotateMs);
          await this.storage.store(TICKET_KEYS_KEY, JSON.stringify(stored, null, 2), { secret: true });
          this.logger.debug(`TLS ticket keys created for slot ${epoch}`);
        }
      } finally {
        await unlock();
      }
    }
    this.key = Buffer.from(stored!.keys[epoch]!, 'base64');
    this.epoch = epoch;
  }

  private async read(): Promise<StoredKeys | undefined> {
    const text = await loadText(this.storage, TICKET_KEYS_KEY);
    if (text === undefined) return undefined;
    try {
      const parsed = JSON.parse(text) as StoredKeys;
      return typeof parsed?.keys === 'object' && parsed.keys !== null ? parsed : undefined;
    } catch {
      // A garbled file (hand-edited) is replaced under the lock like a missing one.
      return undefined;
    }
  }

  /** For tests and logs: the slot whose key is in use. */
  get slotInUse(): number {
    return this.epoch;
  }
}

function validKey(value: string | undefined): boolean {
  return value !== undefined && Buffer.from(value, 'base64').length === TICKET_KEY_BYTES;
}

function hasSlots(stored: StoredKeys | undefined, epoch: number, rotateMs: number): stored is StoredKeys {
  return stored !== undefined && stored.rotateMs === rotateMs && validKey(stored.keys[epoch]) && validKey(stored.keys[epoch + 1]);
}

/** Keeps the current slot's key if it is there, adds the next one, and drops every older slot. */
function nextFile(stored: StoredKeys | undefined, epoch: number, rotateMs: number): StoredKeys {
  const same = stored?.rotateMs === rotateMs ? stored.keys : {};
  const keys: Record<string, string> = {};
  for (const e of [epoch, epoch + 1]) {
    keys[e] = validKey(same[e]) ? same[e]! : randomBytes(TICKET_KEY_BYTES).toString('base64');
  }
  return { rotateMs, keys };
}
