// Which transport serves which URL scheme. One place, so a new protocol is one line here.
import type { UpstreamConfig } from '../config/types.js';
import { FastCgiTransport } from './fastcgi/transport.js';
import { Http1Transport } from './http1/transport.js';
import { ScgiTransport } from './scgi/transport.js';
import { UwsgiTransport } from './uwsgi/transport.js';
import { Http2Transport } from './http2/transport.js';
import type { Transport } from './types.js';

export type TransportOptions = Pick<UpstreamConfig, 'timeouts' | 'keepalive' | 'tls'>;

/**
 * `address` is `host:port` (IPv6 in brackets), or an absolute socket path for the `+unix` forms
 * (`http`, `https`, `fastcgi`, `uwsgi`, `scgi`).
 */
export function createTransport(scheme: string, address: string, options: TransportOptions): Transport {
  switch (scheme) {
    case 'http':
    case 'https':
      return address.startsWith('/')
        ? new Http1Transport(new URL(`${scheme}://localhost`), { ...options, socketPath: address })
        : new Http1Transport(new URL(`${scheme}://${address}`), options);
    case 'fastcgi':
      return new FastCgiTransport(address, options);
    case 'uwsgi':
      return new UwsgiTransport(address, options);
    case 'scgi':
      return new ScgiTransport(address, options);
    case 'h2':
    case 'h2c':
      return new Http2Transport(scheme, address, options);
    default:
      throw new Error(`upstream scheme "${scheme}" is not supported yet`);
  }
}
