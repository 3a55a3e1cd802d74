// nginx's log_format (ngx_http_log_module): a template of literal text and variables, each variable
// escaped as the format says, read when the line is written (after the response: $status and
// $body_bytes_sent are final then). A variable that is not found is written `-` (nothing with
// escape=json and escape=none, as nginx does).
import { getterFor, type Getter } from '../http/variables.js';
import type { VarSource } from '../http/vars-types.js';
import { byteString, escapeFor, type LogEscape } from './escape.js';

export type LineFormat = (v: VarSource) => string;

/** nginx's predefined `combined` (ngx_http_log_module.c), byte for byte. */
export const COMBINED = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** Variables nginx always finds, also when empty (ngx_http_variable_null_value): written as ''. */
const ALWAYS_FOUND = new Set(['is_args', 'https', 'server_name']);

/** Whether `$name` is found, for variables where found-but-empty and absent differ. */
function presence(name: string): ((v: VarSource) => boolean) | undefined {
  const field = (prefix: string): string => name.slice(prefix.length).replace(/_/g, '-').toLowerCase();
  if (ALWAYS_FOUND.has(name)) return () => true;
  if (name.startsWith('http_')) {
    const h = field('http_');
    return (v) => v.header(h) !== undefined;
  }
  if (name === 'content_type' || name === 'content_length') {
    const h = name.replace('_', '-');
    return (v) => v.header(h) !== undefined;
  }
  if (name.startsWith('sent_http_')) {
    const h = field('sent_http_');
    return (v) => v.sentHeader?.(h) !== undefined;
  }
  if (name.startsWith('upstream_http_')) {
    const h = field('upstream_http_');
    return (v) => v.upstreamHeader?.(h) !== undefined;
  }
  if (name === 'remote_user') return (v) => v.remoteUser !== undefined;
  // `?a=` has $arg_a found and empty (""), `?b=1` has it not found (-).
  if (name.startsWith('arg_')) {
    const re = new RegExp(`(?:^|&)${escapeRegex(name.slice(4))}=`, 'i');
    return (v) => re.test(v.args);
  }
  if (name.startsWith('cookie_')) {
    const re = new RegExp(`(?:^|;)[ \\t]*${escapeRegex(name.slice(7))}=`);
    return (v) => re.test(v.header('cookie') ?? '');
  }
  return undefined;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type Op = string | ((v: VarSource) => string);

function variableOp(name: string, escape: LogEscape): Op {
  const get: Getter = getterFor(name);
  const found = presence(name);
  const esc = escapeFor(escape);
  // ngx_http_log_variable writes `-`; the json and unescaped writers write nothing.
  const missing = escape === 'default' ? '-' : '';
  if (found) return (v) => (found(v) ? esc(get(v)) : missing);
  return (v) => {
    const value = get(v);
    return value === '' ? missing : esc(value);
  };
}

/**
 * Compiles a log_format; throws `unknown variable "$x"` for a name nginx would refuse. Literal text is
 * written as is (as UTF-8 bytes), as nginx copies it.
 */
export function compileLogFormat(format: string, escape: LogEscape = 'default'): LineFormat {
  const ops: Op[] = [];
  const re = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z_][A-Za-z0-9_]*|[1-9]))/g;
  let last = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    if (m.index > last) ops.push(byteString(format.slice(last, m.index)));
    ops.push(variableOp((m[1] ?? m[2]) as string, escape));
    last = m.index + m[0].length;
  }
  if (last < format.length) ops.push(byteString(format.slice(last)));
  return (v) => {
    let out = '';
    for (const op of ops) out += typeof op === 'string' ? op : op(v);
    return out;
  };
}

/** gatehouse's `format: json`: one JSON object a line (README "Operations"); not an nginx format. */
export function formatJson(v: VarSource): string {
  const num = (s: string | undefined): number | undefined => (s === undefined || s === '' ? undefined : Number(s));
  const line = JSON.stringify({
    time: new Date().toISOString(),
    remoteAddr: v.remoteAddr,
    method: v.method,
    target: v.requestUri,
    protocol: v.serverProtocol,
    status: Number(v.status ?? 0),
    bytesSent: Number(v.bodyBytesSent ?? 0),
    referer: v.header('referer'),
    userAgent: v.header('user-agent'),
    host: v.host,
    upstreamAddr: v.upstreamAddr,
    upstreamTime: num(v.upstreamHeaderTime),
    requestTime: Number(v.requestTime ?? 0),
    tlsVersion: v.sslProtocol,
  });
  // Valid UTF-8 (a header's bytes above 0x7f read as Latin-1 chars), as JSON must be.
  return Buffer.from(line, 'utf8').toString('latin1');
}
