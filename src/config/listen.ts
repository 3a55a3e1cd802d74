// Listen addresses: `443`, `"127.0.0.1:443"`, `"[::1]:443"`, `"[::]:443"`, `"*:443"` (nginx's
// spelling of "every interface").
import ipaddr from 'ipaddr.js';
import type { ListenAddress } from './types.js';

function port(text: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new Error(`listen address "${whole}" has an invalid port "${text}"`);
  const n = Number(text);
  // Port 0 (an ephemeral port) is allowed: tests and `gatehouse proxy` on a spare port use it.
  if (n > 65535) throw new Error(`listen port ${n} is out of range (0-65535)`);
  return n;
}

/**
 * Host names other than `localhost` are refused: a name that resolves to several addresses would
 * bind only one of them in Node, which is rarely what was meant. Throws with a config-ready message.
 */
export function parseListenAddress(value: string | number): ListenAddress {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
      throw new Error(`listen port ${value} is out of range (0-65535)`);
    }
    return { port: value };
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return { port: port(text, text) };
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (v6) {
    const host = v6[1] ?? '';
    if (!ipaddr.IPv6.isValid(host)) throw new Error(`listen address "${text}" has an invalid IPv6 address "${host}"`);
    if (v6[2] === undefined) throw new Error(`listen address "${text}" has no port (write "[${host}]:443")`);
    return { host, port: port(v6[2], text) };
  }
  const colon = text.lastIndexOf(':');
  if (colon === -1) throw new Error(`listen address "${text}" has no port (write "${text}:443", or just a port)`);
  const host = text.slice(0, colon);
  if (host.includes(':')) {
    throw new Error(`listen address "${text}": put an IPv6 address in brackets, like "[::1]:443"`);
  }
  const p = port(text.slice(colon + 1), text);
  if (host === '*') return { port: p };
  if (host === 'localhost' || ipaddr.IPv4.isValidFourPartDecimal(host)) return { host, port: p };
  throw new Error(`listen address "${text}": the host must be an IP address, "localhost" or "*"`);
}

const ANY = new Set([undefined, '0.0.0.0', '::']);

/** True when binding both would fail with EADDRINUSE (same port, and the hosts overlap). */
export function listenConflict(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port !== b.port || a.port === 0) return false;
  return a.host === b.host || ANY.has(a.host) || ANY.has(b.host);
}

export function formatListen(a: ListenAddress): string {
  if (a.host === undefined) return String(a.port);
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Loopback only, so admin endpoints (metrics, status) are not exposed to other machines. */
export function isLoopback(a: ListenAddress): boolean {
  if (a.host === 'localhost') return true;
  if (a.host === undefined || !ipaddr.isValid(a.host)) return false;
  return ipaddr.process(a.host).range() === 'loopback';
}
