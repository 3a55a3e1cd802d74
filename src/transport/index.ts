// Which transport serves which URL scheme. One place, so a new protocol is one line here.
import type { UpstreamConfig } from '../config/types.js';
import { Http1Transport } from './http1.js';
import type { Transport } from './types.js';

export type TransportOptions = Pick<UpstreamConfig, 'timeouts' | 'keepalive' | 'tls'>;

/**
 * `address` is `host:port` (IPv6 in brackets), or an absolute socket path for the `+unix` forms
 * of the CGI-style schemes (`fastcgi`, `uwsgi`, `scgi`).
 */
export function createTransport(scheme: string, address: string, options: TransportOptions): Transport {
  switch (scheme) {
    case 'http':
    case 'https':
      return new Http1Transport(new URL(`${scheme}://${address}`), options);
    // fastcgi / uwsgi / scgi: src/transport/cgi-transports (issue #4)
    // h2 / h2c: src/transport/http2 (issue #4)
    default:
      throw new Error(`upstream scheme "${scheme}" is not supported yet`);
  }
}
