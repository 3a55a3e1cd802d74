// The data behind /status and /status.json: sites, certificates (as `gatehouse certs --json`),
// upstream servers, requests per minute and the last server errors, merged over the processes
// that share the admin port.
import type { Snapshot } from '../server/types.js';
import type { CertRow } from '../tls/acme/inventory.js';
import type { UpstreamServerStats } from '../upstream/stats.js';
import type { ProcessReport } from './cluster.js';
import { upstreamStats } from './collectors.js';
import { fillMinutes, mergeErrors, type RecentError } from '../observe/traffic.js';

export interface StatusData {
  generatedAt: string;
  /** Processes whose numbers are included (pm2 cluster workers). */
  processes: number;
  uptimeSeconds: number;
  draining: boolean;
  sites: Array<{ hosts: string[]; default: boolean; tls: 'acme' | 'internal' | 'off' | 'files'; routes: string[] }>;
  certificates: CertRow[];
  /** Set when the storage could not be listed; certificates then shows the last good list. */
  certificatesError: string | null;
  upstreams: Array<{ name: string; servers: Array<Omit<UpstreamServerStats, 'upstream'>> }>;
  traffic: Array<{ minute: string; requests: number; clientErrors: number; serverErrors: number }>;
  recentErrors: RecentError[];
}

export interface StatusInputs {
  snapshot: Snapshot;
  certificates: CertRow[];
  certificatesError: string | undefined;
  reports: ProcessReport[];
  draining: boolean;
  now?: number;
}

export function statusData(input: StatusInputs): StatusData {
  const now = input.now ?? Date.now();
  const { config } = input.snapshot;
  const upstreams = new Map<string, Array<Omit<UpstreamServerStats, 'upstream'>>>();
  for (const { upstream, ...server } of upstreamStats(input.snapshot)) {
    let list = upstreams.get(upstream);
    if (!list) upstreams.set(upstream, (list = []));
    list.push(server);
  }
  return {
    generatedAt: new Date(now).toISOString(),
    processes: input.reports.length,
    uptimeSeconds: Math.round(process.uptime()),
    draining: input.draining,
    sites: config.sites.map((s) => ({
      hosts: s.hosts,
      default: s.default,
      tls: s.tls.kind,
      routes: s.routes.map((r) => r.location),
    })),
    certificates: input.certificates,
    certificatesError: input.certificatesError ?? null,
    upstreams: [...upstreams].map(([name, servers]) => ({ name, servers })),
    traffic: fillMinutes(
      input.reports.map((r) => r.minutes),
      now,
    ).map((m) => ({ ...m, minute: new Date(m.minute).toISOString() })),
    recentErrors: mergeErrors(input.reports.map((r) => r.errors)),
  };
}
