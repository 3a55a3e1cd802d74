// Gauges filled at scrape time from state other rooms own: upstream server stats (UpstreamPool.stats())
// and certificate expiry. They are reset on each scrape, so servers and names that left the config
// leave the output too.
import { Gauge } from 'prom-client';
import type { Snapshot } from '../server/types.js';
import type { UpstreamServerStats } from '../upstream/stats.js';
import type { CertRow } from '../tls/acme/inventory.js';
import { tempBodyBytes } from '../transport/cgi/body.js';
import { registry } from '../observe/metrics.js';
import { PreformattedGauge, type GaugeCell } from '../observe/preformatted.js';

export interface ScrapeSources {
  snapshot(): Snapshot;
  certificates(): CertRow[];
  /** Failed renewal attempts counted so far for the certificate with this first name. */
  renewalFailures(primary: string): number;
}

let sources: ScrapeSources | undefined;

export function setScrapeSources(s: ScrapeSources | undefined): void {
  sources = s;
}

export function upstreamStats(snap: Snapshot): UpstreamServerStats[] {
  return [...snap.pools.values()].flatMap((p) => p.stats());
}

// Across pm2 workers (cluster.ts) each process has its own passive health view and in-flight count:
// in-flight sums, a server is up only if every worker sees it up, latency is the workers' mean.
const serverUp = new Gauge({
  name: 'gatehouse_upstream_server_up',
  help: '1 while the upstream server is in rotation, 0 while passive or active health checks hold it down.',
  labelNames: ['upstream', 'server'] as const,
  registers: [registry],
  aggregator: 'min',
  collect() {
    fillUpstreams();
  },
});

// Spilled request bodies against bodyBuffer.tempTotal (README "Security defaults"): summed over workers.
new Gauge({
  name: 'gatehouse_request_body_temp_bytes',
  help: 'Bytes of request bodies held in temporary files now (bodyBuffer.tempTotal is the limit per process).',
  registers: [registry],
  aggregator: 'sum',
  collect() {
    this.set(tempBodyBytes());
  },
});

const serverActive = new Gauge({
  name: 'gatehouse_upstream_server_in_flight',
  help: 'Requests in flight to the upstream server now.',
  labelNames: ['upstream', 'server'] as const,
  registers: [registry],
});

const serverFails = new Gauge({
  name: 'gatehouse_upstream_server_fails',
  help: 'Failures counted in the current failTimeout window (maxFails marks the server down).',
  labelNames: ['upstream', 'server'] as const,
  registers: [registry],
  aggregator: 'max',
});

const serverLatency = new Gauge({
  name: 'gatehouse_upstream_server_latency_seconds',
  help: 'Smoothed time to the response head from the upstream server (absent before its first response).',
  labelNames: ['upstream', 'server'] as const,
  registers: [registry],
  aggregator: 'average',
});

// Certificate gauges are preformatted (preformatted.ts): one label set per name, rebuilt only when
// the certificate list is re-read, values recomputed per scrape.
const certExpiry = new PreformattedGauge(
  'gatehouse_certificate_expiry_seconds',
  'Seconds until the certificate serving this name expires (negative once expired).',
  'min',
);

const certNotAfter = new PreformattedGauge(
  'gatehouse_certificate_not_after_timestamp_seconds',
  'Expiry time (Unix seconds) of the certificate serving this name.',
  'min',
);

const renewalFailures = new PreformattedGauge(
  'gatehouse_certificate_renewal_failures_total',
  'Failed attempts to obtain or renew the ACME certificate serving this name, by any process sharing the storage (the proxy, other instances, gatehouse renew).',
  'max',
  'counter',
);

const lastErrorAge = new PreformattedGauge(
  'gatehouse_certificate_renewal_last_error_age_seconds',
  'Seconds since the last failed attempt for this name\'s ACME certificate; absent once an attempt succeeded.',
  'min',
);

let certRows: CertRow[] | undefined;
let certCells: Array<{ notAfter: number; expiry: GaugeCell; notAfterCell: GaugeCell }> = [];
let errorCells: Array<{ at: number; cell: GaugeCell }> = [];

function fillCertificates(): void {
  const rows = sources?.certificates() ?? [];
  if (rows !== certRows) {
    certRows = rows;
    const named = rows.flatMap((row) =>
      row.notAfter === null ? [] : row.names.map((name) => ({ labels: { name, source: row.source }, notAfter: Date.parse(row.notAfter!) })),
    );
    const expiry = certExpiry.replace(named.map((n) => n.labels));
    const notAfter = certNotAfter.replace(named.map((n) => n.labels));
    certCells = named.map((n, i) => ({ notAfter: n.notAfter, expiry: expiry[i]!, notAfterCell: notAfter[i]! }));
    const acme = rows.filter((row) => row.source === 'acme');
    const counted = acme.flatMap((row) => row.names.map((name) => ({ labels: { name }, total: sources?.renewalFailures(row.names[0]!) ?? 0 })));
    renewalFailures.replace(counted.map((c) => c.labels)).forEach((cell, i) => (cell.value = counted[i]!.total));
    const failing = acme.flatMap((row) => (row.lastError ? row.names.map((name) => ({ labels: { name }, at: Date.parse(row.lastError!.at) })) : []));
    errorCells = lastErrorAge.replace(failing.map((f) => f.labels)).map((cell, i) => ({ at: failing[i]!.at, cell }));
  }
  const now = Date.now();
  for (const c of certCells) {
    c.expiry.value = Math.round((c.notAfter - now) / 1000);
    c.notAfterCell.value = c.notAfter / 1000;
  }
  for (const e of errorCells) e.cell.value = Math.max(0, Math.round((now - e.at) / 1000));
}

/** The certificate families, as text and as JSON (for merging across workers). */
export function certificateFamilies(): PreformattedGauge[] {
  fillCertificates();
  return [certExpiry, certNotAfter, renewalFailures, lastErrorAge];
}

function fillUpstreams(): void {
  for (const g of [serverUp, serverActive, serverFails, serverLatency]) g.reset();
  if (!sources) return;
  for (const s of upstreamStats(sources.snapshot())) {
    const labels = { upstream: s.upstream, server: s.url };
    serverUp.set(labels, s.up ? 1 : 0);
    serverActive.set(labels, s.active);
    serverFails.set(labels, s.fails);
    if (s.latencyMs !== undefined) serverLatency.set(labels, s.latencyMs / 1000);
  }
}

