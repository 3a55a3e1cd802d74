// Failures of gatehouse's own code inside a transport, told apart from the server's: an assertion
// of the HTTP client library (undici's `assert(currentParser === null)` once failed this way), a
// TypeError or RangeError from a bug. None of these comes from the network, so none may count
// against the server's health (a client able to trigger one would mark healthy servers down for
// everybody) or send the request to another server.
import { UpstreamError } from './types.js';

/** EINTERNAL for a programming error, else undefined (the transport maps the error itself). */
export function internalError(err: Error): UpstreamError | undefined {
  if ((err as { code?: unknown }).code === 'ERR_ASSERTION' || err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) {
    return new UpstreamError('EINTERNAL', `internal error: ${err.message}`, { cause: err });
  }
  return undefined;
}
