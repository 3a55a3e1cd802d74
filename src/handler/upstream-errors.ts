// The one place upstream failures become statuses (README "What reaches the backend"): refused/reset/invalid → 502,
// timeouts → 504, nothing available → 503; a request body gatehouse will not hold → 413 or 507;
// gatehouse's own failure → 500 (nginx's NGX_HTTP_INTERNAL_SERVER_ERROR for its own errors).
import { BodyRefused } from '../transport/cgi/body.js';
import { UpstreamError } from '../transport/types.js';

export function statusForUpstreamError(err: Error): 500 | 502 | 503 | 504 | 413 | 507 {
  if (!(err instanceof UpstreamError)) return 502;
  if (err instanceof BodyRefused) return err.status;
  switch (err.code) {
    case 'ETIMEOUT':
    case 'ECONNECTTIMEOUT':
      return 504;
    case 'EUNAVAILABLE':
      return 503;
    case 'EINTERNAL':
      return 500;
    default:
      return 502;
  }
}
