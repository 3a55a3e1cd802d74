// The TLS settings gatehouse uses as a client of an https:// or h2:// upstream, from the upstream's
// `tls` (README "TLS policy", upstream tls rows): trust, client certificate (nginx
// proxy_ssl_certificate/_key) and protocol versions (proxy_ssl_protocols). The files are read when
// the upstream's transports are made, i.e. at start and at each reload, like the `ca` bundle.
import fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { UpstreamTlsConfig } from '../config/types.js';

export type ClientTlsFiles = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'minVersion' | 'maxVersion'>;

export function clientTlsFiles(tls: UpstreamTlsConfig | undefined): ClientTlsFiles {
  if (!tls) return {};
  return {
    ...(tls.ca ? { ca: fs.readFileSync(tls.ca) } : {}),
    ...(tls.cert && tls.key ? { cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) } : {}),
    ...(tls.protocols ? { minVersion: tls.protocols.min, maxVersion: tls.protocols.max } : {}),
  };
}
