// What nginx-style variables ($host, $remote_addr, ...) are computed from. One of these is built
// lazily per request by the proxy core; templates compiled at config load read from it.
import type { X509Certificate } from 'node:crypto';

export interface VarSource {
  host: string;
  remoteAddr: string;
  remotePort: number;
  scheme: 'http' | 'https';
  serverPort: number;
  serverName: string;
  /** Original request target as the client sent it, with args. */
  requestUri: string;
  /** Normalised path (decoded, merged slashes, dot segments resolved), no args. */
  uri: string;
  /** Query string without `?`, or ''. */
  args: string;
  proxyHost: string;
  /** Incoming X-Forwarded-For (if any) + ", " + remote address. */
  proxyAddXForwardedFor: string;
  /** A request header by lower-case name (multiple values joined with ", "). */
  header(name: string): string | undefined;
  /** Regex captures of the matched location, $1..$9. */
  captures?: string[];
  // The rest are read by fastcgi-style templates (`SCRIPT_FILENAME $document_root$fastcgi_script_name`);
  // optional so that a partial source (tests, a proxy URI without a request) still compiles.
  /** $request_method. */
  method?: string;
  /** $server_addr: the listener's local address. */
  serverAddr?: string;
  /** $server_protocol: HTTP/1.0, HTTP/1.1 or HTTP/2.0. */
  serverProtocol?: string;
  /** $content_type / $content_length: the request headers, '' when absent. */
  contentType?: string;
  contentLength?: string;
  /** $document_root: the route's `root` without a trailing "/", '' without one. */
  documentRoot?: string;
  /** $request_filename: root + $uri. */
  requestFilename?: string;
  /** $fastcgi_script_name / $fastcgi_path_info: $uri split as fastcgi_split_path_info does on a FastCGI route. */
  fastcgiScriptName?: string;
  fastcgiPathInfo?: string;
  // issue 17: rewrite — user variables (`set`, `maps`, forwardAuth `set`), request/vars.ts.
  /** The value `set` gave a user variable in this request; undefined when none did. */
  getUser?(name: string): string | undefined;
  /** Sets one (a named capture of a map regex, like nginx's ngx_http_regex_exec). */
  setUser?(name: string, value: string): void;
  /** A map variable's value, computed by `compute` at most once per request (nginx caches it). */
  cachedMap?(name: string, compute: () => string): string;
  // issue 17: logs. Variables of the access log and of nginx's other modules; optional, as above.
  // Those read after the response ($status, $body_bytes_sent, ...) are what they are when asked.
  /** $realpath_root: $document_root with symlinks resolved, '' when it cannot be. */
  realpathRoot?: string;
  /** A response header as sent (lower-case name), for $sent_http_NAME; undefined before the head or when absent. */
  sentHeader?(name: string): string | undefined;
  /** $upstream_addr, $upstream_status, $upstream_response_time ...; undefined without an upstream. */
  upstreamAddr?: string | undefined;
  upstreamStatus?: string | undefined;
  upstreamResponseTime?: string | undefined;
  upstreamHeaderTime?: string | undefined;
  upstreamConnectTime?: string | undefined;
  upstreamCacheStatus?: string | undefined;
  /** An upstream response header (lower-case name), for $upstream_http_NAME. */
  upstreamHeader?(name: string): string | undefined;
  /** $ssl_protocol, $ssl_cipher, ...: undefined on a plain connection. */
  sslProtocol?: string | undefined;
  sslCipher?: string | undefined;
  sslServerName?: string | undefined;
  sslSessionReused?: string | undefined;
  sslAlpnProtocol?: string | undefined;
  sslClientVerify?: string | undefined;
  /** issue 19: the client certificate of an mTLS connection, for $ssl_client_s_dn and the rest. */
  sslClientCertificate?: X509Certificate | undefined;
  /** $request_id: 32 hex digits, made at the first ask, the same for the whole request. */
  requestId?: string;
  /** $request: the request line, `METHOD TARGET PROTOCOL`. */
  request?: string;
  /** $status: three digits, "000" before the response head, 499 when the client left first. */
  status?: string;
  bodyBytesSent?: string;
  bytesSent?: string;
  requestTime?: string;
  requestLength?: string;
  /** $remote_user: the user of Basic credentials, undefined without them. */
  remoteUser?: string | undefined;
  connection?: string;
  connectionRequests?: string;
  /** $nginx_version: gatehouse's own version (README "Coming from nginx"). */
  version?: string;
}
