// RFC 9110 §7.6.1: connection-specific fields are not forwarded; HTTP/2 forbids them outright
// (RFC 9113 §8.2.2), so Node throws if one reaches stream.respond().
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

const NO_TOKENS: readonly string[] = Object.freeze([]);

/** Names listed in a Connection header (lower-case), which are hop-by-hop too. */
export function connectionTokens(value: string | string[] | undefined): readonly string[] {
  // Nearly every upstream response says `Connection: keep-alive`: no split for it.
  if (value === undefined || value === 'keep-alive' || value === 'close') return NO_TOKENS;
  const text = Array.isArray(value) ? value.join(',') : value;
  return text
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '' && t !== 'close' && t !== 'keep-alive');
}
