// A client that speaks bytes, not HTTP: for probes a well-behaved client library will not send
// (a head dripped one line at a time, a body that stops, a response it never reads).
import net from 'node:net';
import tls from 'node:tls';

export interface RawClient {
  readonly socket: net.Socket;
  /** Milliseconds from connect to close, and everything received. */
  readonly closed: Promise<{ ms: number; data: string }>;
  /** What arrived so far. */
  received(): string;
  write(data: string | Buffer): void;
  /** Writes `data` every `everyMs` until the connection closes (a slow client). */
  drip(data: string | Buffer, everyMs: number): void;
  destroy(): void;
}

export interface RawOptions {
  port: number;
  host?: string;
  /** TLS with this SNI name, trusting `ca`. */
  tls?: { servername: string; ca: Buffer | string; alpn?: string[] };
  /** Stop reading at once (a client that takes nothing; the kernel's buffers fill). */
  noRead?: boolean;
}

export function rawConnect(o: RawOptions): Promise<RawClient> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const onConnect = (): void => {
      socket.off('error', reject);
      if (o.noRead) socket.pause();
      resolve(client);
    };
    const socket: net.Socket = o.tls
      ? tls.connect({ port: o.port, host: o.host ?? '127.0.0.1', servername: o.tls.servername, ca: o.tls.ca, ALPNProtocols: o.tls.alpn ?? ['http/1.1'] }, onConnect)
      : net.connect({ port: o.port, host: o.host ?? '127.0.0.1' }, onConnect);
    socket.once('error', reject);
    let data = '';
    const timers: NodeJS.Timeout[] = [];
    if (!o.noRead) socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    const closed = new Promise<{ ms: number; data: string }>((res) => {
      socket.once('close', () => {
        for (const t of timers) clearInterval(t);
        res({ ms: performance.now() - started, data });
      });
    });
    socket.on('error', () => undefined);
    const client: RawClient = {
      socket,
      closed,
      received: () => data,
      write: (d) => {
        if (!socket.destroyed) socket.write(d);
      },
      drip: (d, everyMs) => {
        timers.push(setInterval(() => !socket.destroyed && socket.write(d), everyMs));
      },
      destroy: () => socket.destroy(),
    };
  });
}

/** Resolves with the close, or rejects when the connection is still open after `ms`. */
export function closesWithin(client: RawClient, ms: number): Promise<{ ms: number; data: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`still open after ${ms} ms; received: ${JSON.stringify(client.received().slice(0, 200))}`));
    }, ms);
    void client.closed.then((c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
}

/** A TCP server that accepts, records what each connection sent and when it closed, and never answers. */
export interface SilentServer {
  port: number;
  connections: Array<{ data: string; openedAt: number; closedAt: number | undefined }>;
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const connections: SilentServer['connections'] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    const rec = { data: '', openedAt: performance.now(), closedAt: undefined as number | undefined };
    connections.push(rec);
    sockets.add(s);
    s.on('data', (d) => (rec.data += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      rec.closedAt = performance.now();
      sockets.delete(s);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
