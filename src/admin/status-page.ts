// GET /status: one self-contained HTML page a person reads at a glance. No scripts and no external
// assets; the only style is one inline <style> block allowed by its hash in a strict CSP. Bars are
// <meter> elements, which browsers colour by their low/high/optimum range without any CSS.
import { createHash } from 'node:crypto';
import type { StatusData } from './status-data.js';

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#f7f8fa}
h1{font-size:1.3rem;margin:0 0 .2rem}h2{font-size:1.05rem;margin:1.6rem 0 .4rem}
.sub{color:#5b6475;margin:0}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde1e8}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #eceff3;vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
meter{width:10rem;height:1rem}
.up{color:#11772f;font-weight:600}.down{color:#b3261e;font-weight:600}
.warn{color:#8a5a00}.err{color:#b3261e}.muted{color:#6b7383}
.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;background:#b3261e;color:#fff}
code{font-size:.92em}
`.trim();

export const STATUS_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function table(head: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="muted">${esc(empty)}</p>`;
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</tbody></table>`;
}

const td = (v: unknown, cls?: string): string => `<td${cls ? ` class="${cls}"` : ''}>${esc(v)}</td>`;
const raw = (html: string, cls?: string): string => `<td${cls ? ` class="${cls}"` : ''}>${html}</td>`;

const DAY_MS = 86_400_000;

/**
 * Days left as a bar over the certificate's lifetime, coloured like the renewal schedule (README "Automatic HTTPS (ACME)"):
 * green while more than a third is left, amber once renewal is due, red in the last sixth.
 */
function daysBar(c: StatusData['certificates'][number]): string {
  if (c.daysLeft === null || c.notBefore === null || c.notAfter === null) return '<span class="muted">no certificate yet</span>';
  const lifetime = Math.max(1, Math.round((Date.parse(c.notAfter) - Date.parse(c.notBefore)) / DAY_MS));
  const v = Math.max(0, Math.min(lifetime, c.daysLeft));
  const high = lifetime / 3;
  const low = lifetime / 6;
  return `<meter min="0" max="${lifetime}" low="${low}" high="${high}" optimum="${lifetime}" value="${v}" title="${c.daysLeft} of ${lifetime} days">${c.daysLeft} days</meter> ${esc(c.daysLeft)} d`;
}

/** `42 s`, `7 min`, `3 h`, `2 d`: how long ago `then` was. */
function age(now: string, then: string): string {
  const s = Math.max(0, Math.round((Date.parse(now) - Date.parse(then)) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

function certificates(d: StatusData): string {
  const rows: string[][] = [];
  for (const c of d.certificates) {
    const statusCls = c.status === 'valid' ? 'up' : c.status === 'renewing' || c.status === 'pending' ? 'warn' : 'err';
    rows.push([
      td(c.names.join(', ')),
      td(c.source),
      td(c.status, statusCls),
      raw(daysBar(c)),
      td(c.notAfter ? c.notAfter.slice(0, 16).replace('T', ' ') : '-'),
      td(c.nextAttempt ? c.nextAttempt.slice(0, 19).replace('T', ' ') : '-'),
      raw(c.lastError ? `<span class="err">${esc(c.lastError.at.slice(0, 19).replace('T', ' '))} (${esc(age(d.generatedAt, c.lastError.at))} ago) ${c.lastError.ca ? `${esc(c.lastError.ca)} ` : ''}${esc(c.lastError.challenge ?? 'order')}: ${esc(c.lastError.detail)}</span>` : '<span class="muted">none</span>'),
    ]);
  }
  const failure = d.certificatesError ? `<p class="err">${esc(d.certificatesError)}</p>` : '';
  return failure + table(['Names', 'Source', 'Status', 'Days left', 'Expires (UTC)', 'Next attempt (UTC)', 'Last error'], rows, 'No certificates in the storage and no managed names.');
}

function upstreams(d: StatusData): string {
  const rows: string[][] = [];
  for (const u of d.upstreams) {
    for (const s of u.servers) {
      rows.push([
        td(u.name),
        td(s.url),
        td(s.up ? 'up' : 'down', s.up ? 'up' : 'down'),
        td(s.active, 'n'),
        td(s.latencyMs === undefined ? '-' : `${s.latencyMs.toFixed(1)} ms`, 'n'),
        td(s.fails, 'n'),
        td(s.lastError ?? '', s.lastError ? 'err' : undefined),
      ]);
    }
  }
  return table(['Upstream', 'Server', 'State', 'In flight', 'Latency', 'Fails', 'Last error'], rows, 'No upstream servers configured.');
}

function traffic(d: StatusData): string {
  const peak = Math.max(1, ...d.traffic.map((m) => m.requests));
  const rows = [...d.traffic].reverse().map((m) => [
    td(m.minute.slice(11, 16)),
    raw(`<meter min="0" max="${peak}" value="${m.requests}">${m.requests}</meter>`),
    td(m.requests, 'n'),
    td(m.clientErrors, 'n'),
    td(m.serverErrors, m.serverErrors > 0 ? 'n err' : 'n'),
  ]);
  return table(['Minute (UTC)', '', 'Requests', '4xx', '5xx'], rows, '');
}

function recentErrors(d: StatusData): string {
  const rows = d.recentErrors.map((e) => [td(e.at.slice(0, 19).replace('T', ' ')), td(e.status, 'err'), td(e.site), td(e.route), raw(`<code>${esc(e.method)} ${esc(e.path)}</code>`)]);
  return table(['Time (UTC)', 'Status', 'Site', 'Route', 'Request'], rows, 'No server errors recently.');
}

export function renderStatusPage(d: StatusData): string {
  const sites = d.sites.map((s) => [td(s.hosts.join(', ')), td(s.tls), td(s.routes.join('  ')), td(s.default ? 'default' : '')]);
  const draining = d.draining ? ' <span class="badge">draining</span>' : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="15"><title>gatehouse status</title><style>${CSS}</style></head>
<body>
<h1>gatehouse status${draining}</h1>
<p class="sub">${esc(d.generatedAt.slice(0, 19).replace('T', ' '))} UTC · up ${esc(uptime(d.uptimeSeconds))} · ${esc(d.processes)} process${d.processes === 1 ? '' : 'es'} · <a href="/status.json">JSON</a> · <a href="/metrics">metrics</a></p>
<h2>Sites</h2>${table(['Hosts', 'TLS', 'Routes', ''], sites, 'No sites.')}
<h2>Certificates</h2>${certificates(d)}
<h2>Upstream servers</h2>${upstreams(d)}
<h2>Requests, last ${d.traffic.length} minutes</h2>${traffic(d)}
<h2>Recent server errors</h2>${recentErrors(d)}
</body></html>
`;
}

function uptime(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} days`;
}
