// A FastCGI "application" on loopback that misbehaves on request: it reads a whole request
// (BEGIN_REQUEST, PARAMS, STDIN), picks what to do from the last path segment of REQUEST_URI, and
// counts connections and requests so tests can see connection reuse.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  decodeNameValuePairs,
  encodeEndRequest,
  encodeHeader,
  encodeRecord,
  FcgiType,
} from '../../src/transport/fastcgi/codec.js';
import { FastCgiRecordParser } from '../../src/transport/fastcgi/record-parser.js';

export interface FakeFastCgi {
  port: number;
  connections: number;
  requests: number;
  /** Connections closed by the client (gatehouse), with the path of their last request. */
  closedByClient: string[];
  /** FCGI_ABORT_REQUEST records received. */
  aborts: number;
  /** Body bytes the `flood` case has handed to its socket so far. */
  flooded: number;
  close(): Promise<void>;
}

const stdout = (text: string | Buffer): Buffer => encodeRecord(FcgiType.STDOUT, 1, Buffer.isBuffer(text) ? text : Buffer.from(text));
const end = (protocolStatus = 0): Buffer => encodeEndRequest(1, 0, protocolStatus);

export async function startFakeFastCgi(): Promise<FakeFastCgi> {
  const state = { connections: 0, requests: 0, closedByClient: [] as string[], aborts: 0, flooded: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    state.connections += 1;
    sockets.add(socket);
    let params = Buffer.alloc(0);
    let path = '';
    let serverClosing = false;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      if (!serverClosing) state.closedByClient.push(path);
    });
    const parser = new FastCgiRecordParser((r) => {
      if (r.type === FcgiType.BEGIN_REQUEST) params = Buffer.alloc(0);
      else if (r.type === FcgiType.ABORT_REQUEST) state.aborts += 1;
      else if (r.type === FcgiType.PARAMS) {
        if (r.content.length > 0) params = Buffer.concat([params, r.content]);
        else path = (new Map(decodeNameValuePairs(params)).get('REQUEST_URI') ?? '').split('?')[0] ?? '';
      } else if (r.type === FcgiType.STDIN && r.content.length === 0) {
        state.requests += 1;
        const what = path.slice(path.lastIndexOf('/') + 1);
        if (what === 'flood') flood(socket, state);
        else respond(socket, what, () => (serverClosing = true));
      }
    });
    socket.on('data', (chunk) => {
      try {
        parser.push(chunk);
      } catch {
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return state.connections;
    },
    get requests() {
      return state.requests;
    },
    closedByClient: state.closedByClient,
    get aborts() {
      return state.aborts;
    },
    get flooded() {
      return state.flooded;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** FLOOD_BYTES of body in 64 KiB records, written only as fast as the socket drains. */
export const FLOOD_BYTES = 48 * 1024 * 1024;

function flood(socket: net.Socket, state: { flooded: number }): void {
  state.flooded = 0;
  const chunk = stdout(Buffer.alloc(0xfff8, 0x61));
  socket.write(stdout('Content-Type: application/octet-stream\r\n\r\n'));
  const pump = (): void => {
    while (state.flooded < FLOOD_BYTES) {
      state.flooded += 0xfff8;
      if (!socket.write(chunk)) {
        socket.once('drain', pump);
        return;
      }
    }
    socket.write(Buffer.concat([stdout(''), end()]));
  };
  pump();
}

function respond(socket: net.Socket, what: string, closing: () => void): void {
  const ok = Buffer.concat([stdout('Content-Type: text/plain\r\n\r\nok\n'), stdout(''), end()]);
  switch (what) {
    case 'ok':
      socket.write(ok);
      return;
    case 'version': {
      const bad = stdout('Content-Type: text/plain\r\n\r\nbad\n');
      bad[0] = 2;
      socket.write(bad);
      return;
    }
    case 'truncated':
      closing();
      socket.end(stdout('Content-Type: text/plain\r\n\r\nhalf').subarray(0, 12));
      return;
    case 'truncated-body':
      // A complete head, then the connection ends inside a record: the client has seen a 200.
      closing();
      socket.end(Buffer.concat([stdout('Content-Type: text/plain\r\n\r\nstart\n'), stdout('the rest').subarray(0, 10)]));
      return;
    case 'reset':
      closing();
      socket.resetAndDestroy();
      return;
    case 'close':
      closing();
      socket.end();
      return;
    case 'badhead':
      socket.write(Buffer.concat([stdout('HTTP/1.1 200 OK\r\nbroken header line\r\n\r\n'), stdout(''), end()]));
      return;
    case 'hugehead':
      socket.write(Buffer.concat([stdout(`X-Big: ${'a'.repeat(60_000)}\r\n`), stdout(`X-Big2: ${'b'.repeat(10_000)}\r\n\r\n`), end()]));
      return;
    case 'nohead':
      socket.write(end());
      return;
    case 'overloaded':
      socket.write(end(2));
      return;
    case 'unknowntype':
      socket.write(Buffer.concat([encodeHeader(42, 1, 0, 0), ok]));
      return;
    case 'otherid':
      socket.write(encodeRecord(FcgiType.STDOUT, 7, Buffer.from('Status: 200\r\n\r\n')));
      return;
    case 'hang':
      return;
    case 'slowbody':
      // A head and a first chunk, then nothing: the client goes away meanwhile.
      socket.write(stdout('Content-Type: text/plain\r\n\r\nfirst\n'));
      return;
    default:
      socket.write(Buffer.concat([stdout('Status: 404 Not Found\r\n\r\n'), end()]));
  }
}
