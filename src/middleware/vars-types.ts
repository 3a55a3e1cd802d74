// What nginx-style variables ($host, $remote_addr, ...) are computed from. One of these is built
// lazily per request by the proxy core; templates compiled at config load read from it.
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
}
