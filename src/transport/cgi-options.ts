// What the proxy handler hands the CGI-style transports in `UpstreamRequest.cgi`
// (handler/cgi-request.ts builds it). The transport picks the parameter list of its protocol
// (fastcgi.conf, uwsgi_params, scgi_params) and fills in CONTENT_LENGTH once it knows the body's
// length, which for a chunked upload is only after buffering it.
import type { BodyOptions } from './cgi-body.js';
import type { CgiRequestInfo } from './cgi/params.js';

export interface CgiUpstreamOptions {
  /** Everything but `contentLength`, which the transport sets. */
  info: CgiRequestInfo;
  /** The route's `root`: DOCUMENT_ROOT, and the front of SCRIPT_FILENAME for FastCGI. */
  root?: string;
  /** nginx's `fastcgi_index`: appended to a FastCGI script name that ends with "/". */
  index?: string;
  /** nginx's `fastcgi_split_path_info ^(.+?\.php)(/.*)$` (and PATH_INFO). */
  splitPathInfo?: boolean;
  /** For SERVER_SOFTWARE. */
  version: string;
  /** The body length the client declared (Content-Length); undefined means unknown: buffer it first. */
  declaredLength?: number;
  /** How the body is read whole (always for an unknown length; for all with `whole`). */
  buffer?: BodyOptions;
  /** The text of each FCGI_STDERR record (nginx logs it as "FastCGI sent in stderr"). */
  onStderr?(text: string): void;
}

export function cgiOptions(value: unknown): CgiUpstreamOptions {
  const opts = value as CgiUpstreamOptions | undefined;
  if (!opts || typeof opts !== 'object' || !opts.info) {
    throw new Error('a FastCGI/uwsgi/SCGI upstream request needs its CGI parameters (UpstreamRequest.cgi)');
  }
  return opts;
}
