// Request methods by what a repeat of them means.

/** RFC 9110 §9.2.2: a repeat has the same effect as one request, so a failed one may be retried. */
export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
