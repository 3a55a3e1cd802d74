// The process's metrics (README "Operations") on a private prom-client Registry, and the cheap recorders the
// hot paths call. Label sets are bounded by the config: site = its first host, route = the location
// as written (never the URL), status = the code sent; label children are cached per compiled site
// and route, so a request costs a map lookup and two increments.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Exchange } from '../http/exchange.js';
import { PreformattedCounter, PreformattedHistogram, type CounterCell, type HistogramCell } from './preformatted.js';
import { TrafficRing } from './traffic.js';

/** A compiled site as the recorders see it: its first host names it; the object keys its cached cells. */
export interface SiteLabel {
  readonly config: { readonly hosts: readonly string[] };
}

/** A compiled route as the recorders see it: the location as configured labels it. */
export interface RouteLabel {
  readonly config: { readonly location: string };
}

export const registry = new Registry();
export const traffic = new TrafficRing();

/** Set by the admin listener: a process without one records nothing. */
let recording = false;
export function setRecording(on: boolean): void {
  recording = on;
}

// The per-request families are preformatted (preformatted.ts); the rest are prom-client metrics.
export const requests = new PreformattedCounter(
  'gatehouse_requests_total',
  'Requests answered, by site (its first host), route (the location as configured) and status code.',
);

export const duration = new PreformattedHistogram(
  'gatehouse_request_duration_seconds',
  'Time from the request head to the end of the response, by site.',
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
);

const handshakes = new Counter({
  name: 'gatehouse_tls_handshakes_total',
  help: 'Completed TLS handshakes on the https listeners, by protocol version.',
  labelNames: ['version'] as const,
  registers: [registry],
});

const handshakeFailures = new Counter({
  name: 'gatehouse_tls_handshake_failures_total',
  help: 'TLS handshakes that failed: no_certificate (nothing to serve for the SNI name) or error (the TLS layer refused).',
  labelNames: ['reason'] as const,
  registers: [registry],
});

const connections = new Gauge({
  name: 'gatehouse_open_connections',
  help: 'Client connections open now, by listener kind and protocol.',
  labelNames: ['listener', 'protocol'] as const,
  registers: [registry],
});

/** Requests that never matched a location (404 without a route, 421, 400) count under this route. */
export const NO_ROUTE = 'none';

const byRoute = new WeakMap<object, Map<number, CounterCell>>();
const bySite = new WeakMap<SiteLabel, HistogramCell>();

function siteName(site: SiteLabel): string {
  return site.config.hosts[0] ?? '';
}

function counterFor(site: SiteLabel, route: RouteLabel | undefined, status: number): CounterCell {
  const key: object = route ?? site;
  let statuses = byRoute.get(key);
  if (!statuses) {
    statuses = new Map();
    byRoute.set(key, statuses);
  }
  let child = statuses.get(status);
  if (!child) {
    child = requests.cell({ site: siteName(site), route: route ? route.config.location : NO_ROUTE, status: String(status) });
    statuses.set(status, child);
  }
  return child;
}

function histogramFor(site: SiteLabel): HistogramCell {
  let child = bySite.get(site);
  if (!child) {
    child = duration.cell({ site: siteName(site) });
    bySite.set(site, child);
  }
  return child;
}

/** Called once per request when its exchange closes (the access-log point). */
export function recordRequest(site: SiteLabel, route: RouteLabel | undefined, ex: Exchange): void {
  if (!recording) return;
  // 499 (nginx's code) when the client left before a response head was sent, as in the access log.
  const status = ex.status || 499;
  counterFor(site, route, status).inc();
  histogramFor(site).observe((performance.now() - ex.startedAt) / 1000);
  traffic.count(status);
  if (status >= 500) {
    const q = ex.rawTarget.indexOf('?');
    traffic.error({
      at: new Date().toISOString(),
      site: siteName(site),
      route: route ? route.config.location : NO_ROUTE,
      status,
      method: ex.method,
      path: q === -1 ? ex.rawTarget : ex.rawTarget.slice(0, q),
    });
  }
}

const versionChildren = new Map<string, ReturnType<typeof handshakes.labels>>();

export function recordHandshake(version: string | null): void {
  if (!recording) return;
  const v = version ?? 'unknown';
  let child = versionChildren.get(v);
  if (!child) {
    child = handshakes.labels(v);
    versionChildren.set(v, child);
  }
  child.inc();
}

export function recordHandshakeFailure(reason: 'no_certificate' | 'error'): void {
  if (recording) handshakeFailures.inc({ reason });
}

const connectionChildren = new Map<string, ReturnType<typeof connections.labels>>();

/** Counts a client connection as open until its socket closes. */
export function trackConnection(socket: { once(event: 'close', cb: () => void): unknown }, listener: 'http' | 'https', protocol: 'h2' | 'http/1.1'): void {
  if (!recording) return;
  const key = `${listener} ${protocol}`;
  let child = connectionChildren.get(key);
  if (!child) {
    child = connections.labels(listener, protocol);
    connectionChildren.set(key, child);
  }
  const gauge = child;
  gauge.inc();
  socket.once('close', () => gauge.dec());
}
