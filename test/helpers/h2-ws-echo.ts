// An HTTP/2 cleartext server that takes WebSockets over extended CONNECT (RFC 8441) when
// `connectProtocol` is on, and echoes each text or binary frame as "echo:"-prefixed text or the same
// binary; a close frame is answered with a close and the end of the stream. Frames are parsed by
// hand (client frames are masked, RFC 6455 §5.3), so nothing between the client and here is trusted.
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface H2WsEcho {
  port: number;
  /** Request headers of every CONNECT stream that arrived. */
  connects: IncomingHttpHeaders[];
  close(): Promise<void>;
}

function serverFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, payload]);
}

function echoFrames(stream: ServerHttp2Stream): void {
  let buf = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = (buf[0] as number) & 0x0f;
      let len = (buf[1] as number) & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      }
      if (buf.length < off + 4 + len) return;
      const mask = buf.subarray(off, off + 4);
      const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len).map((b, i) => b ^ (mask[i % 4] as number)));
      buf = buf.subarray(off + 4 + len);
      if (opcode === 0x8) {
        stream.end(serverFrame(0x8, payload));
        return;
      }
      stream.write(opcode === 0x1 ? serverFrame(0x1, Buffer.concat([Buffer.from('echo:'), payload])) : serverFrame(opcode, payload));
    }
  });
}

export async function startH2WsEcho(connectProtocol: boolean): Promise<H2WsEcho> {
  const connects: IncomingHttpHeaders[] = [];
  const server = http2.createServer({ settings: { enableConnectProtocol: connectProtocol } });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers[':method'] !== 'CONNECT') {
      stream.respond({ ':status': 200 });
      stream.end('plain h2');
      return;
    }
    connects.push(headers);
    stream.respond({ ':status': 200, 'sec-websocket-protocol': 'chat' });
    echoFrames(stream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connects,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
