// Reads the PROXY protocol header off a freshly accepted socket, before TLS or the HTTP parser sees
// it (README "Behind a load balancer"). Only for listeners with `proxyProtocol`: others never come here.
// The wait is bounded by the connection guard started at accept (client_header_timeout, as nginx's
// post_accept_timeout bounds its proxy_protocol read) and by MAX_HEADER_BYTES.
import type { Socket } from 'node:net';
import type { TrustCheck } from '../http/trust.js';
import type { Logger } from '../log/types.js';
import { MAX_HEADER_BYTES, parseProxyHeader } from './proxy-protocol.js';
import { normaliseAddress, setProxiedPeer } from './connection-info.js';

/**
 * Calls `then` once the header is consumed, with the socket paused and the bytes after the header
 * (often the ClientHello or the request, in the same segment) put back unread. A peer outside
 * `trusted`, a missing or broken header: the connection is closed and logged, naming the peer.
 */
export function readProxyHeader(raw: Socket, trusted: TrustCheck, logger: Logger, then: () => void): void {
  const peer = normaliseAddress(raw.remoteAddress ?? '');
  // Only a trusted balancer may speak for a client; anyone else connecting here is refused before
  // a byte is read (their header, if any, would be a forged address).
  if (!trusted(peer)) {
    logger.warn(`PROXY protocol: refused connection from ${peer}: not in the listener's trusted list`);
    raw.destroy();
    return;
  }
  let buf: Buffer | undefined;
  const onData = (chunk: Buffer): void => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    const parsed = parseProxyHeader(buf);
    if (parsed.kind === 'incomplete') {
      // parseProxyHeader refuses past its limits itself; this only bounds what it is given.
      if (buf.length <= MAX_HEADER_BYTES) return;
      logger.warn(`PROXY protocol: broken header from ${peer}: no header within ${MAX_HEADER_BYTES} bytes`);
      raw.destroy();
      return;
    }
    raw.off('data', onData);
    raw.off('end', onEnd);
    if (parsed.kind === 'invalid') {
      // nginx: "broken header" and close, no response (ngx_http_wait_request_handler).
      logger.warn(`PROXY protocol: broken header from ${peer}: ${parsed.reason}`);
      raw.destroy();
      return;
    }
    raw.pause();
    if (parsed.source) setProxiedPeer(raw, parsed.source);
    if (buf.length > parsed.length) raw.unshift(buf.subarray(parsed.length));
    then();
  };
  const onEnd = (): void => {
    raw.destroy();
  };
  raw.on('data', onData);
  raw.once('end', onEnd);
}
