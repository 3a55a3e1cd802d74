// issue 19: DNS-01 through Cloudflare's API v4 with an API token (Bearer; "Zone.DNS: Edit" permission).
// Endpoints: GET /zones?name= (the zone, when no zoneId is configured), POST /zones/{id}/dns_records,
// GET /zones/{id}/dns_records?type=TXT&name=, DELETE /zones/{id}/dns_records/{record}. Every answer is
// the envelope { success, errors: [{ code, message }], messages, result }. What the API says goes into
// errors bounded in size and without control characters; the token never does.
import type { DnsProvider } from './provider.js';

export interface CloudflareOptions {
  apiToken: string;
  /** The zone's id; looked up by name (walking up from the record's name) when not given. */
  zoneId?: string;
  /** API base, `https://api.cloudflare.com/client/v4`. */
  endpoint: string;
  /** Seconds; Cloudflare takes 1 ("automatic") or 60 and above (30 on Enterprise). */
  ttl: number;
  /** Per API request. */
  timeoutMs: number;
}

interface Envelope<T> {
  success?: boolean;
  errors?: Array<{ code?: number; message?: string }>;
  result?: T;
}

interface DnsRecord {
  id: string;
  name?: string;
  content?: string;
}

/** Larger answers are not the API's (a proxy's page, a loop): refused rather than buffered. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_ERRORS_SHOWN = 3;
const MAX_ERROR_CHARS = 200;
/** `_acme-challenge.a.b.example.co.uk` has few labels; more walking means a wrong name. */
const MAX_ZONE_LOOKUPS = 10;
/** Cloudflare: "An identical record already exists." A retried present finds its own record. */
const IDENTICAL_RECORD = 81058;

export class CloudflareApiError extends Error {
  readonly code = 'ECLOUDFLARE';
  constructor(
    message: string,
    readonly status: number,
    readonly apiCodes: number[],
  ) {
    super(message);
  }
}

export class CloudflareDnsProvider implements DnsProvider {
  private readonly zones = new Map<string, string>();

  constructor(private readonly o: CloudflareOptions) {}

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const name = recordName(fqdn);
    const zone = await this.zoneFor(name, signal);
    try {
      await this.call('POST', `/zones/${encodeURIComponent(zone)}/dns_records`, signal, { type: 'TXT', name, content: value, ttl: this.o.ttl });
    } catch (err) {
      if (!(err instanceof CloudflareApiError && err.apiCodes.includes(IDENTICAL_RECORD))) throw err;
    }
  }

  async cleanup(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const name = recordName(fqdn);
    const zone = await this.zoneFor(name, signal);
    // Listed by type and name and matched here: the dashboard stores TXT content quoted ("value"), which
    // an exact `content=` filter would miss, and the record may have been made by another process.
    const query = new URLSearchParams({ type: 'TXT', name, per_page: '100' });
    const records = await this.call<DnsRecord[]>('GET', `/zones/${encodeURIComponent(zone)}/dns_records?${query}`, signal);
    const ours = (Array.isArray(records) ? records : []).filter((r) => typeof r?.id === 'string' && (r.content === value || r.content === `"${value}"`));
    for (const r of ours) {
      try {
        await this.call('DELETE', `/zones/${encodeURIComponent(zone)}/dns_records/${encodeURIComponent(r.id)}`, signal);
      } catch (err) {
        if (!(err instanceof CloudflareApiError && err.status === 404)) throw err; // already gone
      }
    }
  }

  /** The configured zone, or the longest suffix of `name` that is a zone of this account. */
  private async zoneFor(name: string, signal?: AbortSignal): Promise<string> {
    if (this.o.zoneId) return this.o.zoneId;
    const labels = name.split('.');
    for (let i = 0; i < Math.min(labels.length - 1, MAX_ZONE_LOOKUPS); i++) {
      const candidate = labels.slice(i).join('.');
      const cached = this.zones.get(candidate);
      if (cached) return cached;
      const found = await this.call<Array<{ id?: string; name?: string }>>('GET', `/zones?${new URLSearchParams({ name: candidate })}`, signal);
      const zone = Array.isArray(found) ? found.find((z) => typeof z?.id === 'string' && z.name?.toLowerCase() === candidate) : undefined;
      if (zone?.id) {
        this.zones.set(candidate, zone.id);
        return zone.id;
      }
    }
    throw new CloudflareApiError(`Cloudflare: no zone of this API token holds ${name}; set acme.dns.zoneId or give the token Zone.Zone read`, 0, []);
  }

  private async call<T = unknown>(method: string, path: string, signal: AbortSignal | undefined, body?: unknown): Promise<T> {
    const timeout = AbortSignal.timeout(this.o.timeoutMs);
    const what = `Cloudflare API ${method} ${path.replace(/\?.*$/, '')}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.o.endpoint}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.o.apiToken}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        redirect: 'error', // the token must not follow a redirect to another host
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await boundedText(response);
    } catch (err) {
      if (timeout.aborted) throw new CloudflareApiError(`${what}: no answer within ${this.o.timeoutMs} ms`, 0, []);
      if (signal?.aborted) throw err;
      throw new CloudflareApiError(`${what}: ${this.clean(causeOf(err))}`, 0, []);
    }
    let parsed: Envelope<T>;
    try {
      parsed = JSON.parse(text) as Envelope<T>;
    } catch {
      throw new CloudflareApiError(`${what} answered ${response.status} without a JSON body`, response.status, []);
    }
    if (response.ok && parsed?.success === true) return parsed.result as T;
    const errors = Array.isArray(parsed?.errors) ? parsed.errors : [];
    const codes = errors.map((e) => (typeof e?.code === 'number' ? e.code : 0));
    const said = errors
      .slice(0, MAX_ERRORS_SHOWN)
      .map((e) => `[${typeof e?.code === 'number' ? e.code : '?'}] ${this.clean(String(e?.message ?? ''))}`)
      .join('; ');
    const more = errors.length > MAX_ERRORS_SHOWN ? ` (+${errors.length - MAX_ERRORS_SHOWN} more)` : '';
    throw new CloudflareApiError(`${what} answered ${response.status}: ${said || 'no error given'}${more}`, response.status, codes);
  }

  /** The API's words made safe for a log line: bounded, no control characters, never the token. */
  private clean(s: string): string {
    // eslint-disable-next-line no-control-regex
    return s.split(this.o.apiToken).join('[token]').replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, MAX_ERROR_CHARS);
  }
}

/** Absolute name without the trailing dot, lower-case: Cloudflare's `name` form. */
function recordName(fqdn: string): string {
  return fqdn.replace(/\.$/, '').toLowerCase();
}

function causeOf(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

async function boundedText(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw new Error(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_RESPONSE_BYTES) throw new Error(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
