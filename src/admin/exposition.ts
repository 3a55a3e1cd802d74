// Everything this process exposes: the preformatted families (per-request counters, certificate
// gauges) and the prom-client registry, as Prometheus text or as JSON for merging across workers.
import { certificateFamilies } from './collectors.js';
import { duration, registry, requests } from '../observe/metrics.js';
import type { MetricJson } from '../observe/preformatted.js';

export async function metricsText(): Promise<string> {
  const own = [requests, duration, ...certificateFamilies()].map((f) => f.text()).join('\n');
  return `${own}\n${await registry.metrics()}`;
}

export async function metricsJson(): Promise<MetricJson[]> {
  const own = [requests, duration, ...certificateFamilies()].map((f) => f.json());
  return [...own, ...((await registry.getMetricsAsJSON()) as unknown as MetricJson[])];
}
