// nginx's absolute_redirect (on by default) with port_in_redirect on and server_name_in_redirect
// off, as ngx_http_header_filter writes a Location that starts with "/": the connection's scheme,
// the Host header's name (else the local address), and the local port unless it is the scheme's
// default. Used under `defaults: nginx`; native configs keep relative Locations (RFC 9110 §10.2.2).
import type { Exchange } from './exchange.js';

/** `host`: the request's Host name without port, lower-case; '' when it sent none. */
export function absoluteLocation(ex: Exchange, host: string, location: string): string {
  const { secure, localPort, localAddress } = ex.conn;
  const name = host !== '' ? host : localAddress.includes(':') ? `[${localAddress}]` : localAddress;
  const port = localPort === (secure ? 443 : 80) ? '' : `:${localPort}`;
  return `${secure ? 'https' : 'http'}://${name}${port}${location}`;
}
