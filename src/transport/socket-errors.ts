// The system errors every socket-based transport meets, mapped once to UpstreamError codes:
// refusals and unreachable hosts are "nothing was sent" (ECONNECT, retryable on another server),
// resets and broken pipes are ERESET. Transport-specific codes are mapped by each transport first.
import { UpstreamError } from './types.js';

// ENOENT and EACCES come only from connect(2) on a unix socket path: nothing was sent, as nginx's
// "connect() to unix:/path failed (2: No such file or directory)", and the next server is tried.
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT', 'EACCES']);
const RESETS = new Set(['ECONNRESET', 'EPIPE']);
/** What a unix socket's connect errors mean, for the error log. */
const SOCKET_HINTS: Record<string, string> = {
  ENOENT: ' (no socket file at that path: is the backend running?)',
  EACCES: ' (no permission to connect to the socket file)',
};

/** The UpstreamError for a system errno, or undefined when `code` is not one of them. */
export function systemSocketError(err: Error, code: string): UpstreamError | undefined {
  if (CONNECT_FAILURES.has(code)) return new UpstreamError('ECONNECT', `cannot connect to upstream: ${code}${SOCKET_HINTS[code] ?? ''}`, { cause: err });
  if (RESETS.has(code)) return new UpstreamError('ERESET', `upstream closed the connection: ${code}`, { cause: err });
  return undefined;
}
