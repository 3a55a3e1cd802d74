// What the proxy handler hands the CGI-style transports in `UpstreamRequest.cgi`
// (handler/cgi-request.ts builds it). The transport picks the parameter list of its protocol
// (fastcgi.conf, uwsgi_params, scgi_params) and fills in CONTENT_LENGTH once it knows the body's
// length, which for a chunked upload is only after buffering it.
import type { UpstreamConfig } from '../../config/types.js';
import type { CgiParams, CgiRequestInfo } from './params.js';

/** What every CGI-style transport (FastCGI, uwsgi, SCGI) is built with. */
export interface CgiTransportOptions {
  timeouts: UpstreamConfig['timeouts'];
  keepalive: number;
}

/** How a request body is held before it is sent (cgi/body.ts): memory first, then a temporary file. */
export interface BodyOptions {
  memoryLimit?: number;
  /** Where the temporary file goes; os.tmpdir() by default ($TMPDIR). */
  tmpDir?: string;
  /** Read a body of declared length whole too (nginx's *_request_buffering on). */
  whole?: boolean;
  /** The most one body may hold in its temporary file (413 past it). */
  fileLimit?: number;
  /** The most all temporary body files of the process may hold together (507 past it). */
  totalLimit?: number;
}

export interface CgiUpstreamOptions {
  /** Everything but `contentLength`, which the transport sets. */
  info: CgiRequestInfo;
  /** The route's `root`: DOCUMENT_ROOT, and the front of SCRIPT_FILENAME for FastCGI. */
  root?: string;
  /** FastCGI: SCRIPT_FILENAME under an `alias` (FastCgiParamOptions.scriptFilename). */
  scriptFilename?: string;
  /** nginx's `fastcgi_index`: appended to a FastCGI script name that ends with "/". */
  index?: string;
  /** nginx's `fastcgi_split_path_info`: true for ^(.+?\.php)(/.*)$, or the route's regex (and PATH_INFO). */
  splitPathInfo?: boolean | RegExp;
  /** The route's `params`, evaluated: added to the stock list, replacing a stock one of the same name. */
  params?: CgiParams;
  /** For SERVER_SOFTWARE. */
  version: string;
  /** The body length the client declared (Content-Length); undefined means unknown: buffer it first. */
  declaredLength?: number;
  /** How the body is read whole (always for an unknown length; for all with `whole`). */
  buffer?: BodyOptions;
  /** The text of each FCGI_STDERR record (nginx logs it as "FastCGI sent in stderr"). */
  onStderr?(text: string): void;
}

export function cgiOptions(opts: CgiUpstreamOptions | undefined): CgiUpstreamOptions {
  if (!opts || typeof opts !== 'object' || !opts.info) {
    throw new Error('a FastCGI/uwsgi/SCGI upstream request needs its CGI parameters (UpstreamRequest.cgi)');
  }
  return opts;
}
