// issue 17: logs. A request Node's HTTP/1.1 parser refused (lingering-error.ts answers it) still gets
// its access log line, as nginx logs its 400s: the request line as far as it came, the status, and
// no body. Only what the bytes before the error tell is known; every other variable is empty.
import type { VarSource } from '../http/vars-types.js';
import type { Snapshot } from '../server/types.js';
import type { ConnectionInfo } from '../http/exchange.js';

/** At most this much of a refused request line is logged (nginx's is bounded by its header buffer). */
const MAX_LINE = 8 * 1024;

/** The first line of the refused bytes, when it is whole. */
function requestLine(raw: Buffer | undefined): string {
  if (!raw) return '';
  const end = raw.indexOf(0x0a);
  if (end === -1) return '';
  return raw.subarray(0, Math.min(end, MAX_LINE)).toString('latin1').replace(/\r$/, '');
}

export function logRefused(snap: Snapshot, err: NodeJS.ErrnoException & { rawPacket?: Buffer }, conn: ConnectionInfo): void {
  // A client that went away (ECONNRESET) or a timer (408 with nothing to show) is not a request.
  if (!err.code?.startsWith('HPE_') || !snap.accessLog.enabled) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431' : '400';
  const line = requestLine(err.rawPacket);
  const target = line.split(' ')[1] ?? '';
  const vars: VarSource = {
    host: '',
    remoteAddr: conn.remoteAddress ?? '',
    remotePort: conn.remotePort ?? 0,
    scheme: conn.secure ? 'https' : 'http',
    serverPort: conn.localPort ?? 0,
    serverName: '',
    requestUri: target,
    uri: '',
    args: '',
    proxyHost: '',
    proxyAddXForwardedFor: conn.remoteAddress ?? '',
    header: () => undefined,
    request: line,
    status,
    bodyBytesSent: '0',
    bytesSent: '0',
  };
  snap.accessLog.log(vars);
}
