// Metrics merged across the processes that share one admin port. Under pm2 cluster mode every
// worker is a Node cluster worker of pm2's own daemon, so prom-client's AggregatorRegistry cannot
// ask the workers over IPC (that needs our own cluster primary). Instead each worker publishes its
// metrics as JSON to `<runtime dir>/<pid>.json` every PUBLISH_MS, and the worker that answers a
// scrape merges the fresh files of its peers with its own live values (AggregatorRegistry.aggregate,
// each metric's `aggregator` deciding sum/min/max/average).
import fs from 'node:fs/promises';
import path from 'node:path';
import { AggregatorRegistry } from 'prom-client';
import { ensurePrivateDir } from '../storage/runtime-dir.js';
import { metricsJson, metricsText } from './exposition.js';
import { traffic } from './metrics.js';
import type { MetricJson } from './preformatted.js';
import type { MinuteCounts, RecentError } from './traffic.js';

const PUBLISH_MS = 1_000;
/** A file not rewritten for this long belongs to a worker that is gone (or stuck): left out. */
const STALE_MS = 5_000;
/** Files of dead workers are removed once this old. */
const REMOVE_MS = 60_000;

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
      const tmp = `${this.file!}.tmp`;
      await fs.writeFile(tmp, JSON.stringify(await localReport()), { mode: 0o600 });
      await fs.rename(tmp, this.file!);
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
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return [own];
    }
    const peers = await Promise.all(
      names
        .filter((n) => /^\d+\.json$/.test(n) && n !== `${process.pid}.json`)
        .map(async (n): Promise<ProcessReport | undefined> => {
          const file = path.join(this.dir!, n);
          try {
            const st = await fs.stat(file);
            const age = now - st.mtimeMs;
            if (age > REMOVE_MS) await fs.rm(file, { force: true });
            if (age > STALE_MS) return undefined;
            return JSON.parse(await fs.readFile(file, 'utf8')) as ProcessReport;
          } catch {
            return undefined; // renamed away or half-gone between readdir and read: skip this round
          }
        }),
    );
    return [own, ...peers.filter((p): p is ProcessReport => p !== undefined)];
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
