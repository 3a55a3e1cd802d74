// The system errors every socket-based transport meets, mapped once to UpstreamError codes:
// refusals and unreachable hosts are "nothing was sent" (ECONNECT, retryable on another server),
// resets and broken pipes are ERESET. Transport-specific codes are mapped by each transport first.
import { UpstreamError } from './types.js';

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const RESETS = new Set(['ECONNRESET', 'EPIPE']);

/** The UpstreamError for a system errno, or undefined when `code` is not one of them. */
export function systemSocketError(err: Error, code: string): UpstreamError | undefined {
  if (CONNECT_FAILURES.has(code)) return new UpstreamError('ECONNECT', `cannot connect to upstream: ${code}`, { cause: err });
  if (RESETS.has(code)) return new UpstreamError('ERESET', `upstream closed the connection: ${code}`, { cause: err });
  return undefined;
}
