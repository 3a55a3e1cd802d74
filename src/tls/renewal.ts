// When a certificate is due for renewal (README "Automatic HTTPS (ACME)"): when a third of its lifetime is left, or half of it
// for short-lived certificates (under 10 days), so a failure still leaves days of retries before expiry.
const SHORT_LIVED_MS = 10 * 24 * 3600_000;

export function renewalTime(notBefore: Date, notAfter: Date): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  const left = lifetime < SHORT_LIVED_MS ? lifetime / 2 : lifetime / 3;
  return new Date(notAfter.getTime() - left);
}
