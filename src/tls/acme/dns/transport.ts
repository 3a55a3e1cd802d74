// One DNS exchange with one named server over UDP or TCP. node:dgram/net, not node:dns: node:dns cannot aim
// a single query at a host:port, cannot clear RD, and its resolver caches. The network is hostile, so an
// answer counts only when it comes from the server asked, carries our random id and echoes our question
// (RFC 5452 §9.1); everything is bounded in size (one DNS message, 64 KiB) and time (timeoutMs, signal).
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { readName } from './wire.js';

export interface DnsServer {
  host: string;
  port: number;
}

/** A query's identity in its answer: RFC 1035 §4.1.1 id, plus the question echoed back (RFC 5452 §9.1). */
export interface Expected {
  id: number;
  name: string;
  /** Numeric RR type (dns-packet's names are not needed to compare). */
  type: number;
}

export const MAX_MESSAGE = 65_535;
const HEADER = 12;

export function randomId(): number {
  return randomInt(0, 0x10000);
}

export function describe(server: DnsServer): string {
  return net.isIPv6(server.host) ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/** Names are compared without case (RFC 4343) and without the trailing dot. */
export function sameName(a: string, b: string): boolean {
  return a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
}

/** The RCODE of a raw message (header low 4 bits; TSIG's extended errors live in the TSIG RR itself). */
export function rcodeOf(msg: Buffer): number {
  return msg.readUInt16BE(2) & 0xf;
}

export function truncated(msg: Buffer): boolean {
  return (msg.readUInt16BE(2) & dnsPacket.TRUNCATED_RESPONSE) !== 0;
}

/** True when `msg` is a response to `expected`: QR set, same id, exactly our question. Never throws. */
export function answers(msg: Buffer, expected: Expected): boolean {
  if (msg.length < HEADER) return false;
  if (msg.readUInt16BE(0) !== expected.id || (msg.readUInt16BE(2) & 0x8000) === 0) return false;
  if (msg.readUInt16BE(4) !== 1) return false;
  try {
    const [q] = decodeQuestion(msg);
    return q.type === expected.type && sameName(q.name, expected.name);
  } catch {
    return false;
  }
}

function decodeQuestion(msg: Buffer): [{ name: string; type: number }] {
  const { name, end } = readName(msg, HEADER);
  if (end + 4 > msg.length) throw new Error('short question');
  return [{ name, type: msg.readUInt16BE(end) }];
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/**
 * A configured server may be a host name (`server: ns1.example.com:53`): it is looked up once per exchange
 * through the system (node:dns lookup, /etc/hosts included), so the UDP source check compares addresses.
 */
async function withAddress(server: DnsServer): Promise<DnsServer> {
  if (net.isIP(server.host)) return server;
  try {
    const { address } = await lookup(server.host);
    return { host: address, port: server.port };
  } catch (err) {
    throw new Error(`DNS server ${describe(server)}: cannot resolve ${server.host}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The one settlement of an exchange: the first of an answer, an error, the deadline or an abort; the
 * socket is closed then, and whatever it emits afterwards is ignored.
 */
function settleOnce(
  resolve: (msg: Buffer) => void,
  reject: (err: Error) => void,
  close: () => void,
  timeoutMs: number,
  timeoutMessage: string,
  signal: AbortSignal | undefined,
): (err: Error | null, msg?: Buffer) => void {
  let settled = false;
  const finish = (err: Error | null, msg?: Buffer) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    close();
    if (err) reject(err);
    else resolve(msg!);
  };
  const onAbort = () => finish(abortError(signal!));
  const timer = setTimeout(() => finish(new Error(timeoutMessage)), timeoutMs);
  signal?.addEventListener('abort', onAbort, { once: true });
  return finish;
}

/** Sends `wire` by UDP and resolves with the first datagram from `server` that answers `expected`. */
export async function exchangeUdp(named: DnsServer, wire: Buffer, expected: Expected, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  const server = await withAddress(named);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    // A late send error or datagram must not close the socket twice (that throws).
    const finish = settleOnce(resolve, reject, () => socket.close(), timeoutMs, `no answer from ${describe(server)} within ${timeoutMs} ms`, signal);
    socket.on('error', (err) => finish(new Error(`DNS over UDP to ${describe(server)}: ${err.message}`)));
    socket.on('message', (msg, rinfo) => {
      // Anything else (another source, a stale or forged id) is dropped and we keep listening.
      if (rinfo.address !== server.host || rinfo.port !== server.port) return;
      if (answers(msg, expected)) finish(null, msg);
    });
    socket.send(wire, server.port, server.host, (err) => {
      if (err) finish(new Error(`DNS over UDP to ${describe(server)}: ${err.message}`));
    });
  });
}

/** Sends `wire` over a fresh TCP connection (RFC 7766 §8: two-octet length prefix) and reads one answer. */
export function exchangeTcp(server: DnsServer, wire: Buffer, expected: Expected, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const socket = net.connect({ host: server.host, port: server.port });
    let buffered = Buffer.alloc(0);
    // destroy() emits 'close', which would settle again.
    const finish = settleOnce(resolve, reject, () => socket.destroy(), timeoutMs, `no answer from ${describe(server)} (TCP) within ${timeoutMs} ms`, signal);
    socket.on('error', (err) => finish(new Error(`DNS over TCP to ${describe(server)}: ${err.message}`)));
    socket.on('close', () => finish(new Error(`${describe(server)} closed the TCP connection without an answer`)));
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(wire.length);
      socket.write(Buffer.concat([len, wire]));
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // The length prefix caps one message at 64 KiB; a server may send several (RFC 7766 §6.2.1.1, out of
      // order), so skip those that are not ours, but never hold more than one message plus its prefix.
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        if (buffered.length < 2 + len) break;
        const msg = buffered.subarray(2, 2 + len);
        buffered = buffered.subarray(2 + len);
        if (answers(msg, expected)) return finish(null, Buffer.from(msg));
      }
    });
  });
}

/** A query over UDP, again over TCP when the answer is truncated (RFC 7766 §5). Returns the raw answer. */
export async function exchange(server: DnsServer, wire: Buffer, expected: Expected, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  const udp = await exchangeUdp(server, wire, expected, timeoutMs, signal);
  if (!truncated(udp)) return udp;
  return exchangeTcp(server, wire, expected, timeoutMs, signal);
}

export interface QueryOptions {
  /** Recursion desired: true through a resolver, false when asking an authoritative server itself. */
  recursion: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface QueryResult {
  rcode: number;
  authoritative: boolean;
  packet: dnsPacket.DecodedPacket;
}

/** One question (class IN) to one server; the answer decoded. A malformed answer is an error. */
export async function query(server: DnsServer, name: string, type: dnsPacket.RecordType, options: QueryOptions): Promise<QueryResult> {
  const id = randomId();
  const wire = dnsPacket.encode({
    type: 'query',
    id,
    flags: options.recursion ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type, name, class: 'IN' }],
  });
  const raw = await exchange(server, wire, { id, name, type: typeCode(type) }, options.timeoutMs, options.signal);
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(raw);
  } catch (err) {
    throw new Error(`malformed DNS answer from ${describe(server)} for ${name} ${type}: ${(err as Error).message}`, { cause: err });
  }
  return { rcode: rcodeOf(raw), authoritative: packet.flag_aa, packet };
}

const TYPE_CODES: Partial<Record<dnsPacket.RecordType, number>> = { A: 1, NS: 2, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28 };

export function typeCode(type: dnsPacket.RecordType): number {
  const code = TYPE_CODES[type];
  if (code === undefined) throw new Error(`no numeric code for ${type}`);
  return code;
}

/** RFC 1035 §2.3.4 / RFC 1123 limits, checked before a name goes on the wire (dns-packet does not). */
export function assertDnsName(name: string): string {
  const n = name.replace(/\.$/, '');
  if (n.length === 0 || n.length > 253) throw new Error(`"${name}" is not a DNS name (1 to 253 characters)`);
  for (const label of n.split('.')) {
    if (label.length === 0 || label.length > 63 || !/^[A-Za-z0-9_*-]+$/.test(label)) {
      throw new Error(`"${name}" is not a DNS name (label "${label}")`);
    }
  }
  return n.toLowerCase();
}

export const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED',
  6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE',
};

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE ${rcode}`;
}
