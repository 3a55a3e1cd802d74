// Metrics merged across the processes that share one admin port. Under pm2 cluster mode every
// worker is a Node cluster worker of pm2's own daemon, so prom-client's AggregatorRegistry cannot
// ask the workers over IPC (that needs our own cluster primary). Instead each worker publishes its
// metrics as JSON to `<runtime dir>/<pid>.json` every PUBLISH_MS, and the worker that answers a
// scrape merges the fresh files of its peers with its own live values (AggregatorRegistry.aggregate,
// each metric's `aggregator` deciding sum/min/max/average).
import fs from 'node:fs/promises';
import path from 'node:path';
import { AggregatorRegistry } from 'prom-client';
import { ensurePrivateDir, readPeerFiles, writePeerFile } from '../storage/runtime-dir.js';
import { metricsJson, metricsText } from './exposition.js';
import { traffic } from '../observe/metrics.js';
import type { MetricJson } from '../observe/preformatted.js';
import type { MinuteCounts, RecentError } from '../observe/traffic.js';

const PUBLISH_MS = 1_000;

export interface ProcessReport {
  pid: number;
  at: number;
  metrics: MetricJson[];
  minutes: MinuteCounts[];
  errors: RecentError[];
}

async function localReport(): Promise<ProcessReport> {
  return { pid: process.pid, at: Date.now(), metrics: await metricsJson(), minutes: traffic.minutes(), errors: traffic.recentErrors() };
}

export class ClusterMetrics {
  private timer: NodeJS.Timeout | undefined;
  private readonly file: string | undefined;
  private publishing: Promise<void> | undefined;

  constructor(readonly dir: string | undefined) {
    this.file = dir ? path.join(dir, `${process.pid}.json`) : undefined;
  }

  async start(): Promise<void> {
    if (!this.dir) return;
    await ensurePrivateDir(this.dir);
    await this.publish();
    this.timer = setInterval(() => void this.publish(), PUBLISH_MS);
    this.timer.unref();
  }

  private publish(): Promise<void> {
    this.publishing ??= (async () => {
      await writePeerFile(this.file!, JSON.stringify(await localReport()));
    })()
      .catch(() => undefined)
      .finally(() => {
        this.publishing = undefined;
      });
    return this.publishing;
  }

  /** This process's live report plus the fresh ones of its peers. */
  async reports(now = Date.now()): Promise<ProcessReport[]> {
    const own = await localReport();
    if (!this.dir) return [own];
    const peers = (await readPeerFiles(this.dir, '.json', String(process.pid), now)).flatMap((text): ProcessReport[] => {
      try {
        return [JSON.parse(text) as ProcessReport];
      } catch {
        return [];
      }
    });
    return [own, ...peers];
  }

  /** Prometheus text for all processes. A lone process skips the JSON round trip. */
  async metricsText(): Promise<string> {
    if (!this.dir) return metricsText();
    const reports = await this.reports();
    if (reports.length === 1) return metricsText();
    type Aggregatable = Parameters<typeof AggregatorRegistry.aggregate>[0];
    return AggregatorRegistry.aggregate(reports.map((r) => r.metrics) as unknown as Aggregatable).metrics();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.publishing;
    if (this.file) await fs.rm(this.file, { force: true });
  }
}
