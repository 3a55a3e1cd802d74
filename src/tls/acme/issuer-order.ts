// Which CA an order attempt asks first (README "Several CAs: acme.issuers"). As Caddy does with Let's
// Encrypt then ZeroSSL: config order, except that a renewal starts with the CA that signed the current
// certificate — it worked last time, and an ARI `replaces` (RFC 9773 §5) means something only there.

/** `issuers` with the one keyed `lastSuccess` first, the others in their (config) order. */
export function issuerOrder<T extends { readonly key: string }>(issuers: readonly T[], lastSuccess: string | undefined): T[] {
  const preferred = lastSuccess === undefined ? undefined : issuers.find((i) => i.key === lastSuccess);
  return preferred ? [preferred, ...issuers.filter((i) => i !== preferred)] : [...issuers];
}
