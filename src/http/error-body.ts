// The small HTML page gatehouse answers an error or redirect status with when no `errorPages`
// entry applies: the layout of nginx's built-in pages (ngx_http_special_response.c), with nginx's
// titles, so that clients and monitors that match on them see what they saw behind nginx. nginx
// ends each page with an `<hr><center>nginx/VERSION</center>` line (just "nginx" with
// server_tokens off); gatehouse leaves that line out: the page names no product and no version
// (README "Error pages").
import { STATUS_CODES } from 'node:http';

/** nginx's titles where they differ from the RFC reason phrases Node knows. */
const NGINX_TITLES: Readonly<Record<number, string>> = {
  401: 'Authorization Required',
  405: 'Not Allowed',
  408: 'Request Time-out',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  416: 'Requested Range Not Satisfiable',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** The title line of a status: `404 Not Found`. */
export function errorTitle(status: number): string {
  return `${status} ${NGINX_TITLES[status] ?? STATUS_CODES[status] ?? 'Unknown'}`;
}

/** Statuses that carry no body (RFC 9110 §6.4.1, §15.3.5, §15.4.5). */
export function bodiless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

export const ERROR_CONTENT_TYPE = 'text/html';

/** The page for `status`, '' for statuses that carry no body. */
export function errorBody(status: number): string {
  if (bodiless(status)) return '';
  const title = errorTitle(status);
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

/**
 * issue 19: mTLS — nginx's pages for its internal 496 (no certificate) and 495 (a certificate that
 * fails verification), both sent as 400 (ngx_http_error_496_page, ngx_http_error_495_page).
 */
export function clientCertErrorBody(kind: 'no-cert' | 'cert-error'): string {
  const reason = kind === 'no-cert' ? 'No required SSL certificate was sent' : 'The SSL certificate error';
  return `<html>\r\n<head><title>400 ${reason}</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>${reason}</center>\r\n</body>\r\n</html>\r\n`;
}
