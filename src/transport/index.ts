// Which transport serves which URL scheme. One place, so a new protocol is one line here.
import type { UpstreamConfig } from '../config/types.js';
import { Http1Transport } from './http1.js';
import type { Transport } from './types.js';

export type TransportOptions = Pick<UpstreamConfig, 'timeouts' | 'keepalive' | 'tls'>;

export function createTransport(scheme: string, address: string, options: TransportOptions): Transport {
  switch (scheme) {
    case 'http':
    case 'https':
      return new Http1Transport(new URL(`${scheme}://${address}`), options);
    default:
      throw new Error(`upstream scheme "${scheme}" is not supported yet`);
  }
}
