// TSIG (RFC 8945) by hand over node:crypto, because dns-packet carries TSIG only as opaque bytes: sign a
// request (§4.2, §4.3.3), verify the server's answer, whose MAC is chained on the request's MAC (§5.3), and
// turn the TSIG error codes (§5.2: BADSIG, BADKEY, BADTIME) into errors that name the key, never its secret.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalName, lastRecordOffset, readName } from './wire.js';

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512';

export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  /** base64, as tsig-keygen prints it. */
  secret: string;
}

/** §5.2.3: the time window both sides accept; 300 s is the recommended value. */
export const FUDGE_SECONDS = 300;
const TYPE_TSIG = 250;
const CLASS_ANY = 255;
const HASH: Record<TsigAlgorithm, string> = { 'hmac-sha256': 'sha256', 'hmac-sha512': 'sha512' };
const MAC_LENGTH: Record<TsigAlgorithm, number> = { 'hmac-sha256': 32, 'hmac-sha512': 64 };

/** §3 (IANA "TSIG Error values"), and what the user can do about each. */
const TSIG_ERRORS: Record<number, { name: string; hint: string }> = {
  16: { name: 'BADSIG', hint: 'the MAC did not verify: the secret (or algorithm) differs from the server\'s key' },
  17: { name: 'BADKEY', hint: 'the server has no key of that name and algorithm' },
  18: { name: 'BADTIME', hint: 'the clocks differ by more than 300 s: synchronise this host\'s clock (NTP)' },
  22: { name: 'BADTRUNC', hint: 'the server truncated the MAC below what it accepts' },
};

export class TsigError extends Error {
  readonly code = 'ETSIG';
  constructor(
    message: string,
    /** The RFC 8945 error name (BADSIG…) when the server sent one, else null (our own verification failed). */
    readonly tsigError: string | null,
  ) {
    super(message);
  }
}

export interface SignedRequest {
  wire: Buffer;
  /** Needed to verify the answer (§5.3: the response MAC covers the request MAC). */
  mac: Buffer;
}

function secretBytes(key: TsigKey): Buffer {
  const bytes = Buffer.from(key.secret, 'base64');
  if (bytes.length === 0) throw new TsigError(`TSIG key "${key.name}": the secret is not base64`, null);
  return bytes;
}

function uint48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt16BE(Math.floor(seconds / 0x1_0000_0000), 0);
  b.writeUInt32BE(seconds % 0x1_0000_0000, 2);
  return b;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** §4.3.3 "TSIG variables": what the MAC covers besides the message. */
function variables(key: TsigKey, timeSigned: number, error: number, other: Buffer): Buffer {
  const ttl = Buffer.alloc(4);
  return Buffer.concat([
    canonicalName(key.name), u16(CLASS_ANY), ttl, canonicalName(key.algorithm),
    uint48(timeSigned), u16(FUDGE_SECONDS), u16(error), u16(other.length), other,
  ]);
}

/**
 * Appends a TSIG RR to `message` (whose ARCOUNT does not count it yet) and returns both. `requestMac` is
 * for signing an answer (§5.3: its MAC covers the request's MAC first); the tests play a server with it.
 */
export function signRequest(message: Buffer, key: TsigKey, nowMs = Date.now(), requestMac?: Buffer): SignedRequest {
  const timeSigned = Math.floor(nowMs / 1000);
  const hmac = createHmac(HASH[key.algorithm], secretBytes(key));
  if (requestMac) hmac.update(u16(requestMac.length)).update(requestMac);
  const mac = hmac
    .update(message)
    .update(variables(key, timeSigned, 0, Buffer.alloc(0)))
    .digest();
  const rdata = Buffer.concat([
    canonicalName(key.algorithm), uint48(timeSigned), u16(FUDGE_SECONDS), u16(mac.length), mac,
    message.subarray(0, 2) /* original id */, u16(0) /* error */, u16(0) /* other len */,
  ]);
  const rr = Buffer.concat([canonicalName(key.name), u16(TYPE_TSIG), u16(CLASS_ANY), Buffer.alloc(4), u16(rdata.length), rdata]);
  const wire = Buffer.concat([message, rr]);
  wire.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { wire, mac };
}

interface ParsedTsig {
  offset: number;
  keyName: string;
  algorithm: string;
  timeSigned: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

function parseTsig(msg: Buffer): ParsedTsig | null {
  const offset = lastRecordOffset(msg);
  if (offset < 0) return null;
  const owner = readName(msg, offset);
  if (msg.readUInt16BE(owner.end) !== TYPE_TSIG) return null;
  const rdataStart = owner.end + 10;
  const rdataEnd = rdataStart + msg.readUInt16BE(owner.end + 8);
  const alg = readName(msg, rdataStart);
  let at = alg.end;
  const need = (n: number) => {
    if (at + n > rdataEnd) throw new TsigError('the answer\'s TSIG record is truncated', null);
  };
  need(10);
  const timeSigned = msg.readUInt16BE(at) * 0x1_0000_0000 + msg.readUInt32BE(at + 2);
  const macSize = msg.readUInt16BE(at + 8);
  at += 10;
  need(macSize + 6);
  const mac = msg.subarray(at, at + macSize);
  at += macSize;
  const originalId = msg.readUInt16BE(at);
  const error = msg.readUInt16BE(at + 2);
  const otherLen = msg.readUInt16BE(at + 4);
  at += 6;
  need(otherLen);
  return { offset, keyName: owner.name, algorithm: alg.name, timeSigned, mac, originalId, error, other: msg.subarray(at, at + otherLen) };
}

/**
 * Checks the answer to a request signed with `key`. Throws a TsigError naming the key when the server
 * reported a TSIG error, when an answer that claims success is unsigned or its MAC or time does not verify.
 * An unsigned failure answer (REFUSED before the key was looked at, §5.3 allows it) passes: the caller
 * reports its RCODE, and trusting a forged failure costs nothing.
 */
export function verifyResponse(msg: Buffer, key: TsigKey, requestMac: Buffer, nowMs = Date.now()): void {
  let tsig: ParsedTsig | null;
  try {
    tsig = parseTsig(msg);
  } catch (err) {
    throw new TsigError(`the answer signed for TSIG key "${key.name}" is malformed: ${(err as Error).message}`, null);
  }
  const rcode = msg.readUInt16BE(2) & 0xf;
  if (tsig === null) {
    if (rcode === 0) throw new TsigError(`the server's answer is not signed with TSIG key "${key.name}": not trusted`, null);
    return;
  }
  const known = TSIG_ERRORS[tsig.error];
  if (tsig.error !== 0) {
    const name = known?.name ?? `TSIG error ${tsig.error}`;
    throw new TsigError(`the server rejected TSIG key "${key.name}" (${key.algorithm}): ${name}${known ? ` (${known.hint})` : ''}`, name);
  }
  if (tsig.keyName.toLowerCase() !== key.name.replace(/\.$/, '').toLowerCase() || tsig.algorithm.toLowerCase() !== key.algorithm) {
    throw new TsigError(`the answer is signed with another key (${tsig.keyName}, ${tsig.algorithm}) than "${key.name}"`, null);
  }
  // §5.3.1: the MAC covers the request MAC, then the answer as it was before the TSIG RR was added
  // (ARCOUNT one less, the original id), then the TSIG variables.
  const unsigned = Buffer.from(msg.subarray(0, tsig.offset));
  unsigned.writeUInt16BE(tsig.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const expected = createHmac(HASH[key.algorithm], secretBytes(key))
    .update(u16(requestMac.length))
    .update(requestMac)
    .update(unsigned)
    .update(variables(key, tsig.timeSigned, tsig.error, tsig.other))
    .digest();
  // §5.2.2.1 allows truncated MACs; we send full ones and accept only full ones back.
  if (tsig.mac.length !== MAC_LENGTH[key.algorithm] || !timingSafeEqual(tsig.mac, expected)) {
    throw new TsigError(`the answer's TSIG MAC for key "${key.name}" does not verify: forged or corrupted answer`, null);
  }
  if (Math.abs(Math.floor(nowMs / 1000) - tsig.timeSigned) > FUDGE_SECONDS) {
    throw new TsigError(`the answer signed with TSIG key "${key.name}" is outside the ${FUDGE_SECONDS} s time window (BADTIME): check this host's clock`, 'BADTIME');
  }
}
