// The one place upstream failures become statuses (SPEC §3): refused/reset/invalid → 502,
// timeouts → 504, nothing available → 503.
import { UpstreamError } from '../transport/types.js';

export function statusForUpstreamError(err: Error): 502 | 503 | 504 | 413 {
  if (!(err instanceof UpstreamError)) return 502;
  switch (err.code) {
    case 'ETIMEOUT':
    case 'ECONNECTTIMEOUT':
      return 504;
    case 'EUNAVAILABLE':
      return 503;
    default:
      return 502;
  }
}
