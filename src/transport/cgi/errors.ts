// One error type for the CGI-family codecs (FastCGI, uwsgi, SCGI and the response-head parsers).
// The codecs are pure: they never touch a socket, so the transport that uses them wraps this in an
// UpstreamError('EPROTO', …, { cause }) and the one error mapper turns it into a 502.

export type CgiErrorCode =
  /** A FastCGI record stream that breaks the FastCGI 1.0 spec (§3.3): version, type, truncation. */
  | 'EFCGIPROTO'
  /** A response head (RFC 3875 §6 or an HTTP/1.x status line) that is malformed or too large. */
  | 'ECGIHEAD'
  /** A uwsgi var block over the protocol's u16 datasize (uwsgi protocol docs, packet header). */
  | 'EUWSGIVARS'
  /** SCGI headers that the netstring format cannot carry (a NUL byte, an empty or duplicate name). */
  | 'ESCGIVARS';

export class CgiProtocolError extends Error {
  override readonly name = 'CgiProtocolError';

  constructor(
    readonly code: CgiErrorCode,
    message: string,
  ) {
    super(message);
  }
}
